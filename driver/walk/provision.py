"""Building a container task's ExecutorInput: resolved inputs in, provisioned outputs added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from driver.walk.resolve import ResolvedInputs
from ledger.model import Artifact
from spec import values
from spec.contracts import EXECUTOR_LOGS
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.names import path_segment_problem


def runtime_artifact(artifact: Artifact) -> pipeline_spec_pb2.RuntimeArtifact:
    """An input artifact as the component sees it: `name` is the ledger's artifact id."""
    message = pipeline_spec_pb2.RuntimeArtifact(name=str(artifact.id), uri=artifact.uri)
    message.type.schema_title = artifact.type
    message.metadata.update(artifact.metadata)
    return message


def _safe_name(name: str, *, what: str) -> str:
    """Output names become path segments; one that could climb out of the task root is refused."""
    problem = path_segment_problem(name)
    if problem is not None:
        raise ResolutionError(f"{what} name {problem}")
    return name


def build_executor_input(
    resolved: ResolvedInputs,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    *,
    task_root: str,
    parameter_dir: Path,
) -> pipeline_spec_pb2.ExecutorInput:
    """The driver's ExecutorInput: inputs as resolved (no defaults added) and every output provisioned."""
    executor_input = pipeline_spec_pb2.ExecutorInput()
    for name, value in resolved.parameters.items():
        executor_input.inputs.parameter_values[name].CopyFrom(value)
    for name, artifacts in resolved.artifacts.items():
        executor_input.inputs.artifacts[name].artifacts.extend(runtime_artifact(a) for a in artifacts)
    outputs = executor_input.outputs
    for name, spec in component_spec.output_definitions.artifacts.items():
        _safe_name(name, what="output artifact")
        artifact = pipeline_spec_pb2.RuntimeArtifact(name=name, uri=f"{task_root}/{name}")
        artifact.type.CopyFrom(spec.artifact_type)
        artifact.metadata.CopyFrom(spec.metadata)
        outputs.artifacts[name].artifacts.append(artifact)
    logs = outputs.artifacts[EXECUTOR_LOGS].artifacts.add(
        name=EXECUTOR_LOGS, uri=f"{task_root}/{EXECUTOR_LOGS}"
    )
    logs.type.schema_title = "system.Artifact"
    for name in component_spec.output_definitions.parameters:
        outputs.parameters[name].output_file = str(parameter_dir / _safe_name(name, what="output parameter"))
    outputs.output_file = f"{task_root}/output_metadata.json"
    return executor_input


def parameters_to_python(parameters: dict[str, struct_pb2.Value]) -> dict[str, Any]:
    return {name: values.value_to_python(value) for name, value in parameters.items()}


def parameters_from_python(parameters: dict[str, Any]) -> dict[str, struct_pb2.Value]:
    return {name: values.python_to_value(value) for name, value in parameters.items()}
