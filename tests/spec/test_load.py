"""Tests for spec.load: reading JSON and YAML pipeline files, and one-line errors naming file and node."""

# No `from __future__ import annotations` here: kfp reads the components' annotations as real types.
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import dsl

from spec.errors import SpecError, SpecErrors
from spec.load import LoadedPipeline, load_deployment_config, load_pipeline

IMAGE = "python:3.11"
CompiledDict = Callable[[Any], dict[str, Any]]

PLATFORM_DOCUMENT = {
    "platforms": {
        "kubernetes": {
            "deploymentSpec": {"executors": {"exec-train": {"nodeSelector": {"labels": {"pool": "gpu"}}}}}
        }
    }
}


@dsl.component(base_image=IMAGE)
def train(lr: float = 0.1, epochs: int = 1) -> float:
    return lr * epochs


@dsl.pipeline(name="small")
def small(lr: float = 0.1) -> float:
    """Covers: one container task fed by a pipeline input; the smallest useful pipeline."""
    return train(lr=lr).output


def write_json(tmp_path: Path, data: Any, *, name: str = "pipeline.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def load_error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_pipeline(path)
    return caught.value


@pytest.mark.filterwarnings("ignore:Compiling to JSON is deprecated:DeprecationWarning")
def test_loads_json_as_kfp_compiler_writes_it(compile_pipeline: Any) -> None:
    path = compile_pipeline(small, file_name="pipeline.json")
    loaded = load_pipeline(path)
    assert isinstance(loaded, LoadedPipeline)
    assert loaded.path == path
    assert loaded.pipeline_spec.pipeline_info.name == "small"
    assert set(loaded.pipeline_spec.root.dag.tasks) == {"train"}
    assert loaded.platform_spec is None


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_loads_yaml_as_kfp_compiler_writes_it(compile_pipeline: Any, suffix: str) -> None:
    loaded = load_pipeline(compile_pipeline(small, file_name=f"pipeline{suffix}"))
    assert loaded.pipeline_spec.pipeline_info.name == "small"
    assert loaded.platform_spec is None


def test_loads_the_platform_spec_from_a_second_yaml_document(compile_pipeline: Any) -> None:
    path = compile_pipeline(small)
    path.write_text(path.read_text() + "---\n" + yaml.safe_dump(PLATFORM_DOCUMENT))
    loaded = load_pipeline(path)
    assert loaded.platform_spec is not None
    executors = loaded.platform_spec.platforms["kubernetes"].deployment_spec.executors
    assert executors["exec-train"]["nodeSelector"]["labels"]["pool"] == "gpu"


def test_ignores_an_empty_document_after_a_trailing_separator(compile_pipeline: Any) -> None:
    path = compile_pipeline(small)
    path.write_text(path.read_text() + "---\n")
    assert load_pipeline(path).pipeline_spec.pipeline_info.name == "small"


def test_loads_a_pipeline_spec_wrapped_with_its_platform_spec(
    tmp_path: Path, compiled_dict: CompiledDict
) -> None:
    wrapped = {"displayName": "x", "pipelineSpec": compiled_dict(small), "platformSpec": PLATFORM_DOCUMENT}
    loaded = load_pipeline(write_json(tmp_path, wrapped))
    assert loaded.pipeline_spec.pipeline_info.name == "small"
    assert loaded.platform_spec is not None
    assert "kubernetes" in loaded.platform_spec.platforms


def test_load_deployment_config_reads_the_executors(compile_pipeline: Any) -> None:
    loaded = load_pipeline(compile_pipeline(small))
    config = load_deployment_config(loaded.pipeline_spec)
    assert config.executors["exec-train"].container.image == IMAGE


def test_missing_file_is_named(tmp_path: Path) -> None:
    error = load_error(tmp_path / "absent.json")
    assert str(error) == f"{tmp_path / 'absent.json'}: no such file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "dir.json"
    directory.mkdir()
    assert "directory" in str(load_error(directory))


def test_unsupported_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.txt"
    path.write_text("{}")
    assert "expected .json, .yaml or .yml" in str(load_error(path))


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in str(load_error(path))


def test_truncated_json_names_line_and_column(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    text = json.dumps(compiled_dict(small), indent=2)
    path = tmp_path / "pipeline.json"
    path.write_text(text[: len(text) // 2])
    message = str(load_error(path))
    assert message.startswith(f"{path}: invalid JSON at line ")
    assert "column" in message
    assert "truncated" in message


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("pipelineInfo:\n  name: x\nroot: [unclosed\n")
    message = str(load_error(path))
    assert message.startswith(f"{path}: invalid YAML at line ")


@pytest.mark.parametrize(("text", "got"), [("[]", "a list"), ('"x"', "a string"), ("3", "a number")])
def test_top_level_must_be_an_object(tmp_path: Path, text: str, got: str) -> None:
    path = tmp_path / "pipeline.json"
    path.write_text(text)
    assert str(load_error(path)) == f"{path}: the top level must be an object, got {got}"


def test_empty_yaml_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("")
    assert str(load_error(path)) == f"{path}: the file is empty"


def test_two_pipeline_documents_are_refused(compile_pipeline: Any) -> None:
    path = compile_pipeline(small)
    path.write_text(path.read_text() + "---\n" + path.read_text())
    assert "expected one PipelineSpec" in str(load_error(path))


def test_unknown_field_is_named_with_its_json_path(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"]["train"]["inputs"]["parameters"]["lr"]["bogus"] = 1
    error = load_error(write_json(tmp_path, data))
    assert error.json_path == "root.dag.tasks['train'].inputs.parameters['lr'].bogus"
    assert "unknown field 'bogus'" in error.message


def test_a_misspelt_field_gets_a_suggestion(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"]["train"]["dependantTasks"] = []
    error = load_error(write_json(tmp_path, data))
    assert error.json_path == "root.dag.tasks['train'].dependantTasks"
    assert "did you mean 'dependentTasks'?" in error.message


def test_a_value_of_the_wrong_json_type_is_named(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"]["train"]["componentRef"]["name"] = 7
    path = write_json(tmp_path, data)
    assert (
        str(load_error(path))
        == f"{path}: root.dag.tasks['train'].componentRef.name: expected a string, got a number"
    )


def test_an_invalid_enum_value_is_named(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["inputDefinitions"]["parameters"]["lr"]["parameterType"] = "FLOAT"
    error = load_error(write_json(tmp_path, data))
    assert error.json_path == "root.inputDefinitions.parameters['lr'].parameterType"
    assert "FLOAT" in error.message


def test_two_members_of_one_oneof_are_named_at_their_object(
    tmp_path: Path, compiled_dict: CompiledDict
) -> None:
    data = compiled_dict(small)
    data["components"]["comp-train"]["dag"] = {"tasks": {}}
    error = load_error(write_json(tmp_path, data))
    assert error.json_path == "components['comp-train']"
    assert "oneof" in error.message


def test_a_list_where_an_object_belongs_is_named(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"] = [data["root"]["dag"]["tasks"]["train"]]
    error = load_error(write_json(tmp_path, data))
    assert (error.json_path, error.message) == ("root.dag.tasks", "expected an object, got a list")


def test_missing_root_and_name_are_reported(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    del data["root"]
    del data["pipelineInfo"]
    with pytest.raises(SpecErrors) as caught:
        load_pipeline(write_json(tmp_path, data))
    assert [(p.json_path, p.message) for p in caught.value.problems] == [
        ("pipelineInfo.name", "the pipeline has no name"),
        ("root", "the pipeline has no root component"),
    ]


def test_validation_problems_are_all_raised_together(tmp_path: Path, compiled_dict: CompiledDict) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"]["train"]["componentRef"]["name"] = "comp-gone"
    data["root"]["dag"]["tasks"]["train"]["inputs"]["parameters"]["lr"]["componentInputParameter"] = "rate"
    path = write_json(tmp_path, data)
    with pytest.raises(SpecErrors) as caught:
        load_pipeline(path)
    assert len(caught.value.problems) == 2
    assert all(problem.file == str(path) for problem in caught.value.problems)
    assert str(caught.value).startswith(f"{path}: root.dag.tasks['train'].")
    assert str(caught.value).endswith("(and 1 more problem(s))")


def test_problems_in_a_wrapped_spec_are_located_under_pipeline_spec(
    tmp_path: Path, compiled_dict: CompiledDict
) -> None:
    data = compiled_dict(small)
    data["root"]["dag"]["tasks"]["train"]["componentRef"]["name"] = "comp-gone"
    error = load_error(write_json(tmp_path, {"pipelineSpec": data}))
    assert error.json_path == "pipelineSpec.root.dag.tasks['train'].componentRef.name"


def test_parse_errors_in_the_platform_spec_are_located(compile_pipeline: Any) -> None:
    path = compile_pipeline(small)
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executorz": {}}}}}
    path.write_text(path.read_text() + "---\n" + yaml.safe_dump(platform))
    error = load_error(path)
    assert error.json_path == "platforms['kubernetes'].deploymentSpec.executorz"


def damage_task_field(data: dict[str, Any]) -> None:
    data["root"]["dag"]["tasks"]["train"]["foo"] = 1


def damage_type(data: dict[str, Any]) -> None:
    data["root"]["dag"]["tasks"]["train"]["cachingOptions"]["enableCache"] = "yes"


def damage_reference(data: dict[str, Any]) -> None:
    data["root"]["dag"]["tasks"]["train"]["dependentTasks"] = ["ghost"]


def damage_integer(data: dict[str, Any]) -> None:
    data["root"]["dag"]["tasks"]["train"]["retryPolicy"] = {"maxRetryCount": "many"}


@pytest.mark.parametrize("damage", [damage_task_field, damage_type, damage_reference, damage_integer])
def test_every_error_is_one_line_naming_file_and_node(
    tmp_path: Path, compiled_dict: CompiledDict, damage: Callable[[dict[str, Any]], None]
) -> None:
    data = compiled_dict(small)
    damage(data)
    path = write_json(tmp_path, data)
    message = str(load_error(path))
    assert "\n" not in message
    assert message.startswith(f"{path}: root.dag.tasks['train'].")
