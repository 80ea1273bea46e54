"""Collecting a finished component's outputs by the backend's rules: executor output first, then files."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from ledger.model import ArtifactDraft
from spec import coercion, protojson, values
from spec.contracts import EXECUTOR_LOGS
from spec.errors import PathEscapeError, ValueConversionError
from spec.ir import pipeline_spec_pb2
from spec.paths import is_inside

OCI = "oci://"


class OutputError(Exception):
    """An output the component was required to produce is missing or malformed."""


@dataclass
class CollectedOutputs:
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactDraft]] = field(default_factory=dict)
    present_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_executor_output(path: str) -> pipeline_spec_pb2.ExecutorOutput:
    """The executor output file; a missing one means "no executor output", not an error."""
    executor_output = pipeline_spec_pb2.ExecutorOutput()
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return executor_output
    try:
        json_format.Parse(text, executor_output, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OutputError(f"executor output {path} is not a valid ExecutorOutput: {exc}") from exc
    return executor_output


def collect_outputs(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    *,
    run_root: str,
) -> CollectedOutputs:
    executor_output = read_executor_output(executor_input.outputs.output_file)
    collected = CollectedOutputs()
    for name, value in executor_output.parameter_values.items():  # not type-checked, as the backend does
        collected.parameters[name] = values.value_to_python(value)
    for name, spec in component_spec.output_definitions.parameters.items():
        if name not in collected.parameters:
            output_file = executor_input.outputs.parameters[name].output_file
            collected.parameters[name] = _read_parameter_file(
                name, output_file, values.parameter_type_name(spec.parameter_type)
            )
    for name, artifact_list in executor_input.outputs.artifacts.items():
        if name == EXECUTOR_LOGS:
            continue
        override = executor_output.artifacts[name].artifacts if name in executor_output.artifacts else []
        draft = _artifact_draft(
            name, artifact_list.artifacts[0], override[0] if override else None, run_root=run_root
        )
        if os.path.exists(draft.uri):
            collected.present_files.append(draft.uri)
        elif not draft.uri.startswith(OCI) and not _metadata_only(draft):
            collected.warnings.append(f"output artifact {name!r} has no file at {draft.uri}")
        collected.artifacts[name] = [draft]
    return collected


# Artifacts whose content is their metadata (`Metrics.log_metric` and the like): no file is expected.
_METADATA_TYPES = frozenset(
    {"system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics"}
)


def _metadata_only(draft: ArtifactDraft) -> bool:
    return draft.type in _METADATA_TYPES or len(draft.properties()) > 1  # more than its display_name


def _upload_custom_path(custom_path: str, uri: str) -> None:
    """An artifact written at a path of the component's choosing (`Artifact.set_path`) is copied to its URI,
    as the backend's launcher uploads it from there; the artifact keeps its URI."""
    source = Path(custom_path)
    if not source.exists():
        return  # reported as a missing file at the URI, as any artifact never written
    destination = Path(uri)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, destination)


def _read_parameter_file(name: str, path: str, parameter_type: str) -> Any:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise OutputError(
            f"output parameter {name!r} was not written (no value in the executor output"
            f" and no file at {path})"
        ) from None
    try:
        return values.value_to_python(coercion.text_to_value(text, parameter_type))
    except ValueConversionError as exc:
        raise OutputError(f"output parameter {name!r}: {exc}") from exc


def _artifact_draft(
    name: str,
    provisioned: pipeline_spec_pb2.RuntimeArtifact,
    override: pipeline_spec_pb2.RuntimeArtifact | None,
    *,
    run_root: str,
) -> ArtifactDraft:
    uri = provisioned.uri
    metadata = protojson.message_to_jsonable(provisioned.metadata)
    if override is not None:
        uri = override.uri or uri
        metadata.update(protojson.message_to_jsonable(override.metadata))
    # An OCI URI names an image the component pushed itself (a modelcar): the backend's launcher records it
    # and uploads nothing, and so does this one; it is no local path.
    if not uri.startswith(OCI) and not is_inside(uri, run_root):
        raise PathEscapeError(uri, root=run_root, what=f"URI of output artifact {name!r}")
    # `custom_path` came with kfp-pipeline-spec 2.15; under 2.14 (kfp 2.14.0-2.14.5) there is no such field,
    # and the executor output's customPath, if any, was dropped as an unknown field when it was parsed.
    custom_path = str(getattr(override, "custom_path", "")) if override is not None else ""
    if custom_path and custom_path != uri and not uri.startswith(OCI):
        _upload_custom_path(custom_path, uri)
    schema = provisioned.type.schema_title or "system.Artifact"
    return ArtifactDraft(type=schema, uri=uri, metadata=metadata, display_name=name)
