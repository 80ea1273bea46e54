"""Load a compiled pipeline file (JSON or YAML) into validated PipelineSpec and PlatformSpec messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from spec import documents, sources
from spec.errors import SpecError, SpecErrors
from spec.ir import pipeline_spec_pb2
from spec.parse import describe_json, join_path, parse_message
from spec.validate import validate_pipeline

_JSON_SUFFIXES = frozenset({".json"})
_YAML_SUFFIXES = frozenset({".yaml", ".yml"})


@dataclass(frozen=True)
class LoadedPipeline:
    """A pipeline file, parsed and validated."""

    path: Path
    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    platform_spec: pipeline_spec_pb2.PlatformSpec | None


@dataclass(frozen=True)
class _Documents:
    """The JSON-like parts of a file, each with the JSON path it sits at in that file."""

    pipeline: Any
    pipeline_path: str = ""
    platform: Any = None
    platform_path: str = ""


def load_pipeline(path: Path) -> LoadedPipeline:
    """Read, parse and validate a pipeline file; raise SpecError (or SpecErrors) naming file and node."""
    documents = _split_documents(_read_documents(path), file=path)
    _check_is_pipeline(documents.pipeline, file=path)
    pipeline_spec = parse_message(
        documents.pipeline, pipeline_spec_pb2.PipelineSpec(), file=path, json_path=documents.pipeline_path
    )
    platform_spec = None
    if documents.platform is not None:
        platform_spec = parse_message(
            documents.platform, pipeline_spec_pb2.PlatformSpec(), file=path, json_path=documents.platform_path
        )
    problems = validate_pipeline(pipeline_spec, file=path)
    if problems:
        raise SpecErrors([_under(problem, documents.pipeline_path) for problem in problems])
    return LoadedPipeline(path=path, pipeline_spec=pipeline_spec, platform_spec=platform_spec)


def load_deployment_config(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec, *, file: Path | str | None = None
) -> pipeline_spec_pb2.PipelineDeploymentConfig:
    """The `deploymentSpec` Struct of a pipeline as the PipelineDeploymentConfig message it holds."""
    deployment = json_format.MessageToDict(pipeline_spec.deployment_spec)
    config = pipeline_spec_pb2.PipelineDeploymentConfig()
    return parse_message(deployment, config, file=file, json_path="deploymentSpec")


def _read_documents(path: Path) -> list[Any]:
    suffix = path.suffix.lower()
    if suffix not in _JSON_SUFFIXES | _YAML_SUFFIXES:
        raise SpecError(
            f"unsupported file type {suffix or '(none)'!r}: expected .json, .yaml or .yml", file=path
        )
    text = _read_text(path)
    return [_parse_json(text, file=path)] if suffix in _JSON_SUFFIXES else _parse_yaml(text, file=path)


def _read_text(path: Path) -> str:
    try:
        data = sources.read_bounded(path, limit=sources.MAX_PIPELINE_BYTES)
    except FileNotFoundError as exc:
        raise SpecError("no such file", file=path) from exc
    except IsADirectoryError as exc:
        raise SpecError("is a directory, not a pipeline file", file=path) from exc
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", file=path) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start}): is this a pipeline file?", file=path) from exc


def _parse_json(text: str, *, file: Path) -> Any:
    try:
        return documents.load_json(text)
    except json.JSONDecodeError as exc:
        truncated = " (the file ends early: is it truncated?)" if exc.pos >= len(text.rstrip()) else ""
        message = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{truncated}"
        raise SpecError(message, file=file) from exc
    except documents.DocumentError as exc:
        raise SpecError(str(exc), file=file) from exc


def _parse_yaml(text: str, *, file: Path) -> list[Any]:
    try:
        loaded = documents.load_yaml(text)
    except documents.DocumentError as exc:
        raise SpecError(str(exc), file=file) from exc
    # `---` at the end of a file leaves an empty document behind.
    return [document for document in loaded if document is not None]


def _split_documents(documents: list[Any], *, file: Path) -> _Documents:
    """Find the PipelineSpec and the optional PlatformSpec among a file's documents."""
    if not documents:
        raise SpecError("the file is empty", file=file)
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict):
            which = f"document {number}" if len(documents) > 1 else "the top level"
            raise SpecError(f"{which} must be an object, got {describe_json(document)}", file=file)
    if len(documents) == 1 and "pipelineSpec" in documents[0]:
        return _unwrap(documents[0], file=file)
    pipelines = [document for document in documents if "platforms" not in document]
    platforms = [document for document in documents if "platforms" in document]
    if len(pipelines) != 1 or len(platforms) > 1:
        counts = f"got {len(pipelines)} and {len(platforms)}"
        raise SpecError(
            f"expected one PipelineSpec and at most one PlatformSpec document, {counts}", file=file
        )
    return _Documents(pipeline=pipelines[0], platform=platforms[0] if platforms else None)


# What kfp.compiler always writes at the top of a PipelineSpec; a document with none of them is not one.
_PIPELINE_KEYS = frozenset({"pipelineInfo", "root", "deploymentSpec", "components"})


def _check_is_pipeline(document: dict[str, Any], *, file: Path) -> None:
    if not _PIPELINE_KEYS & document.keys():
        found = ", ".join(repr(key) for key in list(document)[:4]) or "none"
        raise SpecError(
            "not a compiled KFP pipeline: it has none of the fields kfp.compiler writes (pipelineInfo, root,"
            f" deploymentSpec, components; top-level keys found: {found}); compile the pipeline function"
            " with kfp.compiler.Compiler().compile(...) and pass the file it writes",
            file=file,
        )


def _unwrap(wrapper: dict[str, Any], *, file: Path) -> _Documents:
    """A PipelineJob-like wrapper: `{"pipelineSpec": …, "platformSpec": …}`; other keys are not ours."""
    pipeline, platform = wrapper["pipelineSpec"], wrapper.get("platformSpec")
    if not isinstance(pipeline, dict):
        raise SpecError(
            f"expected an object, got {describe_json(pipeline)}", json_path="pipelineSpec", file=file
        )
    return _Documents(
        pipeline=pipeline, pipeline_path="pipelineSpec", platform=platform, platform_path="platformSpec"
    )


def _under(problem: SpecError, prefix: str) -> SpecError:
    """`problem` with its JSON path placed under `prefix`, for a PipelineSpec wrapped in another object."""
    if not prefix:
        return problem
    return SpecError(problem.message, json_path=join_path(prefix, problem.json_path), file=problem.file)
