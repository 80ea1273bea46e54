"""Input resolution: a task spec and a frozen view of its DAG in, parameter values and artifacts out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from google.protobuf import struct_pb2

from driver.walk import condition
from driver.walk.state import UNKNOWN, DagScope, RunInfo, TaskResult
from ledger.model import SUCCESS_STATES, Artifact
from spec import coercion, values
from spec.errors import ResolutionError, ValueConversionError
from spec.ir import pipeline_spec_pb2
from spec.placeholders import INPUT_PARAMETER, JobFacts, job_placeholders

ParameterSpec: TypeAlias = pipeline_spec_pb2.ComponentInputsSpec.ParameterSpec
TaskInputParameter: TypeAlias = pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec
TaskInputArtifact: TypeAlias = pipeline_spec_pb2.TaskInputsSpec.InputArtifactSpec


@dataclass
class ResolvedInputs:
    parameters: dict[str, struct_pb2.Value] = field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)
    nulled_by_driver: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TaskContext:
    """Who is resolving: the facts that job and task placeholders in constants stand for."""

    run: RunInfo
    task_key: str
    workspace_path: str = ""
    task_uuid: str = ""

    def job_facts(self) -> JobFacts:
        """What the `{{$.pipeline_*}}` placeholders stand for (a task without its uuid yet: its key)."""
        return JobFacts(
            job_name=self.run.job_name,
            job_uuid=self.run.run_id,
            task_name=self.task_key,
            task_uuid=self.task_uuid or self.task_key,
            create_time=self.run.create_time,
            pipeline_root=self.run.pipeline_root,
            workspace=self.workspace_path,
            job_resource_name=self.run.job_resource_name,
        )


class _Null(Exception):
    """A parent value that is null: dropped for optional inputs, an error for required ones."""


def resolve_inputs(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    scope: DagScope,
    *,
    context: TaskContext,
    for_dag: bool,
    skip_type_check: frozenset[str] = frozenset(),
) -> ResolvedInputs:
    """Resolve a task's inputs the way the backend's `resolveInputs` does (reference §2)."""
    definitions = component_spec.input_definitions
    resolved = ResolvedInputs()
    for name, spec in task_spec.inputs.parameters.items():
        try:
            value = _resolve_parameter(spec, task_spec=task_spec, scope=scope, context=context)
        except _Null:
            if name in definitions.parameters and definitions.parameters[name].is_optional:
                continue
            raise ResolutionError(f"input parameter {name!r} is null but not optional") from None
        if spec.parameter_expression_selector:
            value = condition.select(spec.parameter_expression_selector, value)
        resolved.parameters[name] = value
    for name, artifact_spec in task_spec.inputs.artifacts.items():
        artifacts = _resolve_artifact(artifact_spec, scope=scope)
        if artifacts is None:
            if name in definitions.artifacts and definitions.artifacts[name].is_optional:
                continue
            raise ResolutionError(f"input artifact {name!r} comes from a task that did not succeed")
        resolved.artifacts[name] = artifacts
    _fill_f_strings(resolved, task_spec)
    nulled = _apply_defaults(resolved, definitions, for_dag=for_dag, skip=skip_type_check)
    resolved.nulled_by_driver = frozenset(nulled)
    _coerce_parameters(resolved, definitions, skip=skip_type_check | nulled)
    return resolved




def _fill_f_strings(resolved: ResolvedInputs, task_spec: pipeline_spec_pb2.PipelineTaskSpec) -> None:
    """An f-string argument compiles to a constant naming other task inputs; put their values in. The
    SDK's extra `pipelinechannel--` inputs stay in the ExecutorInput, as the backend keeps every task input
    there: its launcher fills f-strings from them, and its driver resolves placeholders in the image and the
    resource fields against them."""
    for name, spec in task_spec.inputs.parameters.items():
        value = resolved.parameters.get(name)
        if spec.WhichOneof("kind") != "runtime_value" or value is None:
            continue
        if value.WhichOneof("kind") == "string_value" and "{{$.inputs.parameters[" in value.string_value:
            text = INPUT_PARAMETER.sub(
                lambda m: _channel_text(resolved, m.group(1), whole=m.group(0)), value.string_value
            )
            resolved.parameters[name] = struct_pb2.Value(string_value=text)


def _channel_text(resolved: ResolvedInputs, channel: str, *, whole: str) -> str:
    if channel not in resolved.parameters:
        raise ResolutionError(f"f-string input {channel!r} was not resolved (in {whole})")
    return values.value_to_text(resolved.parameters[channel])


def resolve_platform_name(
    spec: TaskInputParameter,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    scope: DagScope,
    context: TaskContext,
    what: str,
) -> str | None:
    """A kfp-kubernetes name (secret, config map, PVC) as the backend's `resolveInputParameterStr` gives it:
    a component input names the parent DAG's input; None for a null value (the setting is skipped)."""
    try:
        value = _resolve_parameter(spec, task_spec=task_spec, scope=scope, context=context)
    except _Null:
        return None
    if value.WhichOneof("kind") != "string_value" or not value.string_value:
        raise ResolutionError(f"{what} must be a non-empty string, not {values.value_to_text(value)!r}")
    return value.string_value


def resolve_platform_json(
    spec: TaskInputParameter,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    scope: DagScope,
    context: TaskContext,
) -> object | None:
    """A kfp-kubernetes JSON setting (`node_selector_json`, …) as a Python value; None for a null value."""
    try:
        value = _resolve_parameter(spec, task_spec=task_spec, scope=scope, context=context)
    except _Null:
        return None
    resolved: object = values.value_to_python(value)
    return resolved


def _resolve_parameter(
    spec: TaskInputParameter,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    scope: DagScope,
    context: TaskContext,
) -> struct_pb2.Value:
    kind = spec.WhichOneof("kind")
    if kind == "component_input_parameter":
        name = spec.component_input_parameter
        if name not in scope.parameters:
            raise ResolutionError(f"parent DAG does not have input parameter {name!r}")
        value = scope.parameters[name]
        if value.WhichOneof("kind") in (None, "null_value"):
            raise _Null()
        return value
    if kind == "runtime_value":
        return _resolve_constant(spec.runtime_value.constant, context=context)
    if kind == "task_output_parameter":
        producer = _producer(scope, spec.task_output_parameter.producer_task)
        if not producer.succeeded:
            # Only a task that runs after upstream failures gets here (ignore_upstream_failure, exit
            # tasks): the output never came, so it counts as null and the input's default applies.
            raise _Null()
        return output_parameter(producer, spec.task_output_parameter.output_parameter_key)
    if kind == "task_final_status":
        return _final_status(task_spec, scope=scope, context=context)
    raise ResolutionError(f"input parameter source {kind!r} is not implemented")


def _resolve_constant(constant: struct_pb2.Value, *, context: TaskContext) -> struct_pb2.Value:
    if constant.WhichOneof("kind") != "string_value":
        return constant
    text = constant.string_value
    exact = job_placeholders(context.job_facts())
    if text in exact:
        return struct_pb2.Value(string_value=exact[text])
    if "{{$.workspace_path}}" in text:
        return struct_pb2.Value(string_value=text.replace("{{$.workspace_path}}", context.workspace_path))
    return constant


def _final_status(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, scope: DagScope, context: TaskContext
) -> struct_pb2.Value:
    # The backend takes the producer from dependentTasks[0], not from producerTask.
    producer_key = task_spec.dependent_tasks[0] if task_spec.dependent_tasks else ""
    producer = _producer(scope, producer_key)
    status = {
        "state": producer.state,
        "pipelineTaskName": producer.task_key,
        "pipelineJobResourceName": context.run.job_resource_name,
        "error": {"code": 1, "message": producer.error} if producer.error else {},
    }
    return values.python_to_value(status)


def _producer(scope: DagScope, producer_key: str) -> TaskResult:
    result = scope.results.get(producer_key)
    if result is None:
        raise ResolutionError(f"producer task {producer_key!r} has no execution in {scope.label}")
    return result


def output_parameter(result: TaskResult, key: str) -> struct_pb2.Value:
    """A task's output parameter, following DAG output mappings, Collected loops and OneOf."""
    if result.iterations is not None:
        return struct_pb2.Value(list_value=struct_pb2.ListValue(values=_collect(result.iterations, key)))
    if result.scope is not None:
        return output_parameter(*_parameter_hop(result.scope, key))
    if key not in result.parameters:
        raise ResolutionError(f"task {result.task_key!r} has no output parameter {key!r}")
    return result.parameters[key]


def _collect(iterations: list[DagScope], key: str) -> list[struct_pb2.Value]:
    """dsl.Collected: one value per iteration in index order; a loop nested in the body contributes its
    values one by one (a flat list, as the backend's breadth-first collection gives). An iteration whose
    producer was skipped by a false condition (`ParallelFor` > `If` > task) contributes nothing."""
    collected: list[struct_pb2.Value] = []
    for iteration in iterations:
        producer, producer_key = _parameter_hop(iteration, key)
        if _skipped(producer, producer_key, _parameter_hop):
            continue
        value = output_parameter(producer, producer_key)
        if _is_loop(producer, producer_key):
            collected.extend(value.list_value.values)
        else:
            collected.append(value)
    return collected


def _is_loop(result: TaskResult, key: str) -> bool:
    """Whether an output resolves (through DAG mappings) to a loop's collected values."""
    while result.iterations is None and result.scope is not None:
        result, key = _parameter_hop(result.scope, key)
    return result.iterations is not None


def _skipped(
    result: TaskResult, key: str, hop: Callable[[DagScope, str], tuple[TaskResult, str]]
) -> bool:
    """Whether an output, followed through DAG mappings, ends at a task a false condition skipped."""
    while not result.skipped and result.scope is not None and result.iterations is None:
        result, key = hop(result.scope, key)
    return result.skipped


def output_artifacts(result: TaskResult, key: str) -> list[Artifact]:
    """A task's output artifacts, following DAG output mappings, Collected loops and OneOf (an iteration
    whose producer a false condition skipped contributes nothing, as in `_collect`)."""
    if result.iterations is not None:
        hops = (_artifact_hop(scope, key) for scope in result.iterations)
        return [a for hop in hops if not _skipped(*hop, _artifact_hop) for a in output_artifacts(*hop)]
    if result.scope is not None:
        return output_artifacts(*_artifact_hop(result.scope, key))
    if key not in result.artifacts:
        raise ResolutionError(f"task {result.task_key!r} has no output artifact {key!r}")
    return result.artifacts[key]


def _parameter_hop(scope: DagScope, key: str) -> tuple[TaskResult, str]:
    outputs = scope.component.dag.outputs.parameters
    if key not in outputs:
        raise ResolutionError(f"DAG {scope.component_name!r} declares no output parameter {key!r}")
    spec = outputs[key]
    if spec.WhichOneof("kind") == "value_from_parameter":
        hop = spec.value_from_parameter
        return _producer(scope, hop.producer_subtask), hop.output_parameter_key
    selectors = spec.value_from_oneof.parameter_selectors
    return _first_completed(scope, key, [(s.producer_subtask, s.output_parameter_key) for s in selectors])


def _artifact_hop(scope: DagScope, key: str) -> tuple[TaskResult, str]:
    outputs = scope.component.dag.outputs.artifacts
    if key not in outputs:
        raise ResolutionError(f"DAG {scope.component_name!r} declares no output artifact {key!r}")
    selectors = outputs[key].artifact_selectors
    if len(selectors) == 1:
        return _producer(scope, selectors[0].producer_subtask), selectors[0].output_artifact_key
    return _first_completed(scope, key, [(s.producer_subtask, s.output_artifact_key) for s in selectors])


def _first_completed(scope: DagScope, key: str, hops: list[tuple[str, str]]) -> tuple[TaskResult, str]:
    """OneOf: the first branch, in IR order, whose execution completed."""
    for subtask, subkey in hops:
        branch = scope.results.get(subtask)
        if branch is not None and branch.state in SUCCESS_STATES:
            return branch, subkey
    raise ResolutionError(f"OneOf output {key!r} of {scope.label}: no branch completed")


def _resolve_artifact(spec: TaskInputArtifact, *, scope: DagScope) -> list[Artifact] | None:
    """The artifacts bound to an input; None when their producer did not succeed."""
    kind = spec.WhichOneof("kind")
    if kind == "component_input_artifact":
        name = spec.component_input_artifact
        if name not in scope.artifacts:
            raise ResolutionError(f"parent DAG does not have input artifact {name!r}")
        return scope.artifacts[name]
    if kind == "task_output_artifact":
        producer = _producer(scope, spec.task_output_artifact.producer_task)
        if not producer.succeeded and producer.state != UNKNOWN:  # explain: its outputs are stand-ins
            return None
        return output_artifacts(producer, spec.task_output_artifact.output_artifact_key)
    raise ResolutionError(f"input artifact source {kind!r} is not implemented")


def _apply_defaults(
    resolved: ResolvedInputs,
    definitions: pipeline_spec_pb2.ComponentInputsSpec,
    *,
    for_dag: bool,
    skip: frozenset[str],
) -> set[str]:
    """Fill omitted inputs: DAG tasks get the default or null; containers leave optional ones out."""
    nulled: set[str] = set()
    for name, spec in definitions.parameters.items():
        if name in resolved.parameters or name in skip:
            continue
        if spec.is_optional:
            if for_dag:
                if spec.HasField("default_value"):
                    resolved.parameters[name] = spec.default_value
                else:
                    resolved.parameters[name] = struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
                    nulled.add(name)
            continue
        if values.parameter_type_name(spec.parameter_type) == "TASK_CONFIG":
            continue
        if not spec.HasField("default_value"):
            raise ResolutionError(
                f"neither value nor default value provided for non-optional parameter {name!r}"
            )
    return nulled


def _coerce_parameters(
    resolved: ResolvedInputs,
    definitions: pipeline_spec_pb2.ComponentInputsSpec,
    *,
    skip: frozenset[str] | set[str],
) -> None:
    for name, value in list(resolved.parameters.items()):
        if name in skip or name not in definitions.parameters:
            continue
        spec = definitions.parameters[name]
        try:
            coerced = coercion.coerce_parameter(value, spec.parameter_type, name=name)
        except ValueConversionError as exc:
            raise ResolutionError(str(exc)) from exc
        _check_literals(name, coerced, spec)
        resolved.parameters[name] = coerced


def _check_literals(name: str, value: struct_pb2.Value, spec: ParameterSpec) -> None:
    allowed = values.outside_literals(value, spec)
    if allowed is not None:
        raise ResolutionError(
            f"input parameter {name!r}: {values.value_to_text(value)!r} is not one of [{allowed}]"
        )
