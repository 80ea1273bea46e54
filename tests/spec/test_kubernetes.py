"""kfp-kubernetes settings parse into typed per-executor settings; bad nodes are named by their JSON path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spec.errors import SpecErrors
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import (
    LocalSourceError,
    PodFacts,
    TaskKubernetes,
    load_kubernetes_settings,
    object_values,
    task_env,
    volume_dir,
)
from spec.load import load_pipeline
from tests.conftest import PIPELINES_DIR


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import importlib.util

    from kfp import compiler

    module_spec = importlib.util.spec_from_file_location(
        "k8s_settings", PIPELINES_DIR / "kubernetes_settings.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("k8s") / "kubernetes_settings.yaml"
    compiler.Compiler().compile(module.pipeline, str(path))
    return path


def test_settings_of_each_executor_are_typed(settings_file: Path) -> None:
    settings = load_kubernetes_settings(load_pipeline(settings_file).platform_spec)["exec-show-env"]
    kinds = [
        (item.kind, item.name.constant, item.name.spec.WhichOneof("kind")) for item in settings.objects_as_env
    ]
    assert kinds == [
        ("secret", None, "component_input_parameter"),
        ("secret", "api-secret", "runtime_value"),
        ("secret", None, "task_output_parameter"),
        ("config map", "settings", "runtime_value"),
    ]
    assert settings.labels == {"tier": "gold"} and settings.annotations == {"team/owner": "alice"}
    assert [entry.name for entry in settings.field_path_env] == ["ANNOTATION", "LABEL", "ABSENT", "POD_NAME"]
    assert settings.ignored == ("node selector", "tolerations")
    assert settings.node_selector == {"disktype": "ssd"}
    assert settings.node_selector_json is not None
    assert settings.node_selector_json.spec.component_input_parameter == "selector"


def test_a_bad_setting_is_named_by_its_json_path(settings_file: Path) -> None:
    documents = list(yaml.safe_load_all(settings_file.read_text()))
    executor = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-show-env"]
    executor["fieldPathAsEnv"][1]["name"] = ""
    executor["imagePullPolicy"] = "Sometimes"
    platform = pipeline_spec_pb2.PlatformSpec()
    from google.protobuf import json_format

    json_format.ParseDict(documents[1], platform)
    with pytest.raises(SpecErrors) as caught:
        load_kubernetes_settings(platform, file="p.yaml")
    assert caught.value.render() == (
        "p.yaml: platforms.kubernetes.deploymentSpec.executors['exec-show-env'].fieldPathAsEnv[1].name: "
        "expected a non-empty string"
    )


def test_task_env_reads_local_sources_and_field_paths(settings_file: Path, tmp_path: Path) -> None:
    settings = load_kubernetes_settings(load_pipeline(settings_file).platform_spec)["exec-show-env"]
    names = {ref.json_path: f"name{i}" for i, ref in enumerate(settings.name_refs())}
    task = TaskKubernetes.from_json(TaskKubernetes.build(settings, names=names).to_json())
    (tmp_path / "name0").mkdir()
    (tmp_path / "name0" / "username").write_text("user1")
    (tmp_path / "name1.env").write_text("# comment\npassword='psw1'\n")
    (tmp_path / "name2.env").write_text("token=t\n")
    (tmp_path / "name3.env").write_text("color=blue\n")
    sources = {
        "secret": {
            "name0": str(tmp_path / "name0"),
            "name1": str(tmp_path / "name1.env"),
            "name2": str(tmp_path / "name2.env"),
        },
        "config map": {"name3": str(tmp_path / "name3.env")},
    }
    env = task_env(task, sources=sources, pod=PodFacts(name="show-env-1"))
    assert env == {
        "USER_NAME": "user1",
        "PASSWORD": "psw1",
        "TOKEN": "t",
        "COLOR": "blue",
        "ANNOTATION": "alice",
        "LABEL": "gold",
        "ABSENT": "",
        "POD_NAME": "show-env-1",
    }


def test_a_missing_secret_names_the_option_that_gives_it() -> None:
    with pytest.raises(LocalSourceError, match=r"secret 'db' has no local source: pass --secret db=PATH"):
        object_values("secret", "db", sources={})
    assert object_values("secret", "db", sources={}, optional=True) == {}


def test_volume_names_stay_inside_the_home(tmp_path: Path) -> None:
    assert volume_dir(tmp_path, "abc-my-pvc") == tmp_path / "volumes" / "abc-my-pvc"
    with pytest.raises(LocalSourceError):
        volume_dir(tmp_path, "../etc")
