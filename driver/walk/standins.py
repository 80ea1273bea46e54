"""Stand-ins for values no run has produced yet (`{{tasks['t'].outputs...}}`) or no one has given yet (a
required root parameter explained without a value: `{{pipeline.parameters['p']}}`), and resolution around
them."""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from google.protobuf import struct_pb2

from driver.walk import condition
from driver.walk.resolve import ResolvedInputs, TaskContext, output_parameter, resolve_inputs
from driver.walk.state import (
    UNKNOWN as UNKNOWN,  # re-exported: explain's handlers read it beside the stand-ins
)
from driver.walk.state import DagScope, TaskResult
from ledger.model import Artifact
from spec import labels, values
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2

_REFERENCE = re.compile(r"\{\{(?:tasks\['[^']*'\]|pipeline\.parameters\['[^']*'\])[^{}]*\}\}")
InputParameterSpec: TypeAlias = pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec


def output_reference(label: str, kind: str, name: str) -> str:
    return f"{{{{tasks['{label}'].outputs.{kind}['{name}']}}}}"


def parameter_reference(name: str) -> struct_pb2.Value:
    """The stand-in of a required root parameter that has no value (explain only; a run refuses it)."""
    return struct_pb2.Value(string_value=f"{{{{pipeline.parameters['{name}']}}}}")


def item_reference(label: str) -> struct_pb2.Value:
    return struct_pb2.Value(string_value=f"{{{{tasks['{label}'].item}}}}")


def item_artifact_reference(label: str, schema_title: str) -> Artifact:
    """The item of an artifact loop whose list is not known yet: an artifact whose URI says so."""
    return _artifact_stand_in(f"{{{{tasks['{label}'].item}}}}", schema_title)


def mentions_reference(value: struct_pb2.Value) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return _REFERENCE.search(value.string_value) is not None
    if kind == "list_value":
        return any(mentions_reference(item) for item in value.list_value.values)
    if kind == "struct_value":
        return any(mentions_reference(item) for item in value.struct_value.fields.values())
    return False


def is_stand_in(artifact: Artifact) -> bool:
    return _REFERENCE.fullmatch(artifact.uri) is not None


def resolve_known(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    scope: DagScope,
    *,
    context: TaskContext,
    for_dag: bool,
    iterations: tuple[int, ...],
    skip: frozenset[str] = frozenset(),
) -> tuple[ResolvedInputs, list[dict[str, Any]]]:
    """`resolve_inputs`, each input not known yet given as its stand-in; also the list of those inputs.

    A stand-in is passed as a constant, spared the type check and the selector, which only a real value
    can go through.
    """
    stand_ins = {
        name: value
        for name, source in task_spec.inputs.parameters.items()
        if (value := _stand_in(source, task_spec=task_spec, scope=scope, iterations=iterations)) is not None
    }
    spec = task_spec
    if stand_ins:
        spec = pipeline_spec_pb2.PipelineTaskSpec()
        spec.CopyFrom(task_spec)
        for name, value in stand_ins.items():
            spec.inputs.parameters[name].CopyFrom(_constant(value))
    resolved = resolve_inputs(
        spec,
        component_spec,
        scope,
        context=context,
        for_dag=for_dag,
        skip_type_check=skip | frozenset(stand_ins),
    )
    return resolved, _unresolved(task_spec, resolved)


def _constant(value: struct_pb2.Value) -> InputParameterSpec:
    source = InputParameterSpec()
    source.runtime_value.constant.CopyFrom(value)
    return source


def stand_in_for(
    source: InputParameterSpec,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    scope: DagScope,
    iterations: tuple[int, ...],
) -> struct_pb2.Value | None:
    """The stand-in of an input (or of a kfp-kubernetes name) not known yet; None when it is known."""
    return _stand_in(source, task_spec=task_spec, scope=scope, iterations=iterations)


def _stand_in(
    source: InputParameterSpec,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    scope: DagScope,
    iterations: tuple[int, ...],
) -> struct_pb2.Value | None:
    """What an input stands for when its value is not known yet, else None."""
    kind = source.WhichOneof("kind")
    value: struct_pb2.Value | None = None
    if kind == "component_input_parameter":
        value = scope.parameters.get(source.component_input_parameter)
    elif kind == "task_output_parameter":
        return _output_stand_in(source.task_output_parameter, scope=scope, iterations=iterations)
    elif kind == "task_final_status":
        producer_key = task_spec.dependent_tasks[0] if task_spec.dependent_tasks else ""
        producer = scope.results.get(producer_key)
        if producer is not None and producer.state == UNKNOWN:
            label = labels.child_label(scope.place, producer_key)
            return struct_pb2.Value(string_value=f"{{{{tasks['{label}'].status}}}}")
    return value if value is not None and mentions_reference(value) else None


def _output_stand_in(
    source: pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec.TaskOutputParameterSpec,
    *,
    scope: DagScope,
    iterations: tuple[int, ...],
) -> struct_pb2.Value | None:
    producer = scope.results.get(source.producer_task)
    if producer is None:
        return None
    try:
        value = output_parameter(producer, source.output_parameter_key)
    except ResolutionError:
        if producer.state != UNKNOWN:
            return None  # a recorded outcome: resolve_inputs fails the task as the run did
        label = labels.child_label(scope.place, source.producer_task)
        return struct_pb2.Value(
            string_value=output_reference(label, "parameters", source.output_parameter_key)
        )
    return value if mentions_reference(value) else None


def _unresolved(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, resolved: ResolvedInputs
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, value in resolved.parameters.items():
        if not mentions_reference(value):
            continue
        item = {"input": name, "type": "parameter", "reference": values.value_to_python(value)}
        source = task_spec.inputs.parameters.get(name)
        if source is not None and source.parameter_expression_selector:
            item["selector"] = source.parameter_expression_selector
        found.append(item)
    for name, artifacts in resolved.artifacts.items():
        references = [a.uri for a in artifacts if is_stand_in(a)]
        if references:
            reference: Any = references[0] if len(references) == 1 else references
            found.append({"input": name, "type": "artifact", "reference": reference})
    return found


def condition_value(expression: str, resolved: ResolvedInputs) -> dict[str, Any] | None:
    """A trigger condition and its value; the value is None when the condition reads a stand-in."""
    if not expression:
        return None
    parameters = {k: v for k, v in resolved.parameters.items() if not mentions_reference(v)}
    artifacts = {k: v for k, v in resolved.artifacts.items() if not any(is_stand_in(a) for a in v)}
    unknown = len(parameters) < len(resolved.parameters) or len(artifacts) < len(resolved.artifacts)
    try:
        value = condition.evaluate_condition(expression, parameters=parameters, artifacts=artifacts)
    except ResolutionError:
        if not unknown:
            raise
        return {"expression": expression, "value": None, "note": "depends on inputs that are not known yet"}
    return {"expression": expression, "value": value}


def unknown_outputs(
    component_spec: pipeline_spec_pb2.ComponentSpec,
    *,
    key: str,
    label: str,
    state: str,
    error: str = "",
    execution_id: int | None = None,
) -> TaskResult:
    """A task's result when its outputs are not known: each output is its stand-in."""
    definitions = component_spec.output_definitions
    parameters = {
        name: struct_pb2.Value(string_value=output_reference(label, "parameters", name))
        for name in definitions.parameters
    }
    artifacts = {
        name: [
            _artifact_stand_in(output_reference(label, "artifacts", name), spec.artifact_type.schema_title)
        ]
        for name, spec in definitions.artifacts.items()
    }
    return TaskResult(
        task_key=key,
        state=state,
        execution_id=execution_id,
        parameters=parameters,
        artifacts=artifacts,
        error=error,
    )


def _artifact_stand_in(reference: str, schema_title: str) -> Artifact:
    return Artifact(
        id=-1,
        type=schema_title or "system.Artifact",
        uri=reference,
        state="LIVE",
        properties={},
        create_time=0.0,
    )


def blank_stand_in_names(executor_input: pipeline_spec_pb2.ExecutorInput) -> None:
    """An artifact not produced yet has no ledger id, so no name; its URI says what it stands for."""
    for artifact_list in executor_input.inputs.artifacts.values():
        for artifact in artifact_list.artifacts:
            if _REFERENCE.fullmatch(artifact.uri):
                artifact.name = ""
