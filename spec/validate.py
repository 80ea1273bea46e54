"""Check a parsed PipelineSpec for dangling references and cycles, each problem located by its JSON path."""

from __future__ import annotations

import graphlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from spec.dependencies import task_dependencies
from spec.errors import SpecError
from spec.ir import pipeline_spec_pb2
from spec.names import path_segment_problem
from spec.parse import parse_message

# (json_path, message): what the checks below yield; validate_pipeline turns them into SpecErrors.
Problem = tuple[str, str]


@dataclass(frozen=True)
class _Scope:
    """The DAG being checked: the component that owns it, where that sits in the file, and all components."""

    owner: str  # how messages name the owner: "the root component" or "'comp-x'"
    component_path: str  # `root` or `components['comp-x']`
    component_spec: pipeline_spec_pb2.ComponentSpec
    components: Any  # the PipelineSpec's map of name → ComponentSpec

    @property
    def dag(self) -> pipeline_spec_pb2.DagSpec:
        return self.component_spec.dag

    @property
    def dag_path(self) -> str:
        return f"{self.component_path}.dag"


def validate_pipeline(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec, *, file: Path | str | None = None
) -> list[SpecError]:
    """Every problem found in `pipeline_spec`, in a deterministic order; empty when it is sound."""
    return [SpecError(message, json_path=path, file=file) for path, message in _problems(pipeline_spec)]


def _problems(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> Iterator[Problem]:
    if not pipeline_spec.pipeline_info.name:
        yield "pipelineInfo.name", "the pipeline has no name"
    yield from _check_deployment(pipeline_spec)
    components = pipeline_spec.components
    if not pipeline_spec.HasField("root"):
        yield "root", "the pipeline has no root component"
    elif not pipeline_spec.root.HasField("dag"):
        yield "root", "the root component has no dag"
    else:
        yield from _check_dag(_Scope("the root component", "root", pipeline_spec.root, components))
    labels = _executor_labels(pipeline_spec)
    for name in sorted(components):
        yield from _check_component(name, components[name], components=components, labels=labels)
    yield from _check_component_cycles(components)
    yield from _check_importer_conditions(pipeline_spec)
    yield from _check_path_names(pipeline_spec)


def _check_path_names(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> Iterator[Problem]:
    """Names that become paths (pipeline root, task directories, output files) are checked before a run."""
    named = [("pipelineInfo.name", "pipeline name", pipeline_spec.pipeline_info.name)]
    owners = [("root", pipeline_spec.root)] + [
        (f"components[{name!r}]", pipeline_spec.components[name]) for name in sorted(pipeline_spec.components)
    ]
    for path, component in owners:
        named += [(f"{path}.dag.tasks[{key!r}]", "task key", key) for key in sorted(component.dag.tasks)]
        outputs = component.output_definitions
        named += [
            (f"{path}.outputDefinitions.{kind}[{name!r}]", "output name", name)
            for kind, names in (("artifacts", outputs.artifacts), ("parameters", outputs.parameters))
            for name in sorted(names)
        ]
    for path, what, name in named:
        problem = path_segment_problem(name)
        if problem is not None and name:
            yield path, f"{what} {problem}"


def _check_importer_conditions(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> Iterator[Problem]:
    """The SDK refuses a condition on an importer and the backend could not evaluate one (point 21)."""
    executors = _executors_json(pipeline_spec)
    importers = {label for label, spec in executors.items() if isinstance(spec, dict) and "importer" in spec}
    dags = [("root", pipeline_spec.root)] + [
        (f"components[{name!r}]", pipeline_spec.components[name]) for name in sorted(pipeline_spec.components)
    ]
    for owner, component in dags:
        for task_name in sorted(component.dag.tasks):
            task_spec = component.dag.tasks[task_name]
            target = pipeline_spec.components.get(task_spec.component_ref.name)
            if (
                task_spec.trigger_policy.condition
                and target is not None
                and target.executor_label in importers
            ):
                yield (
                    f"{owner}.dag.tasks[{task_name!r}].triggerPolicy.condition",
                    "an importer task cannot have a condition",
                )


def _executors_json(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> dict[str, Any]:
    """`deploymentSpec.executors` as JSON, or {} when it is missing or not an object (reported elsewhere)."""
    executors = json_format.MessageToDict(pipeline_spec.deployment_spec).get("executors")
    return executors if isinstance(executors, dict) else {}


def _executor_labels(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> set[str]:
    # deploymentSpec is a Struct: its executors are read from its JSON form.
    executors = json_format.MessageToDict(pipeline_spec.deployment_spec).get("executors", {})
    return set(executors) if isinstance(executors, dict) else set()


def _check_deployment(pipeline_spec: pipeline_spec_pb2.PipelineSpec) -> Iterator[Problem]:
    """`deploymentSpec` must be a PipelineDeploymentConfig, each executor a container, importer, …"""
    config = pipeline_spec_pb2.PipelineDeploymentConfig()
    try:
        deployment = json_format.MessageToDict(pipeline_spec.deployment_spec)
        parse_message(deployment, config, file=None, json_path="deploymentSpec")
    except SpecError as exc:
        yield exc.json_path, exc.message
        return
    for label in sorted(config.executors):
        if config.executors[label].WhichOneof("spec") is None:
            yield (
                f"deploymentSpec.executors[{label!r}]",
                "the executor has no container, importer or resolver",
            )


def _check_component(
    name: str, component_spec: pipeline_spec_pb2.ComponentSpec, *, components: Any, labels: set[str]
) -> Iterator[Problem]:
    path = f"components[{name!r}]"
    implementation = component_spec.WhichOneof("implementation")
    if implementation == "dag":
        yield from _check_dag(_Scope(repr(name), path, component_spec, components))
    elif implementation == "executor_label":
        label = component_spec.executor_label
        if label not in labels:
            yield f"{path}.executorLabel", f"no executor {label!r} in deploymentSpec.executors"
    else:
        yield path, "the component has neither a dag nor an executorLabel"


def _check_dag(scope: _Scope) -> Iterator[Problem]:
    for task_name in sorted(scope.dag.tasks):
        yield from _check_task(scope.dag.tasks[task_name], scope=scope, path=_task_path(scope, task_name))
    yield from _check_dag_outputs(scope)
    yield from _check_task_cycles(scope)


def _check_task(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, scope: _Scope, path: str
) -> Iterator[Problem]:
    ref = task_spec.component_ref.name
    if ref not in scope.components:
        yield f"{path}.componentRef.name", f"no component {ref!r} in components"
    for index, dependency in enumerate(task_spec.dependent_tasks):
        yield from _check_sibling(dependency, scope=scope, path=f"{path}.dependentTasks[{index}]")
    yield from _check_parameter_sources(task_spec, scope=scope, path=f"{path}.inputs.parameters")
    yield from _check_artifact_sources(task_spec, scope=scope, path=f"{path}.inputs.artifacts")
    if ref in scope.components:
        yield from _check_declared_inputs(task_spec, ref=ref, scope=scope, path=f"{path}.inputs")
    yield from _check_iterator(task_spec, path=path)


def _check_parameter_sources(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, scope: _Scope, path: str
) -> Iterator[Problem]:
    declared = scope.component_spec.input_definitions
    for name in sorted(task_spec.inputs.parameters):
        source = task_spec.inputs.parameters[name]
        here = f"{path}[{name!r}]"
        kind = source.WhichOneof("kind")
        if kind is None:
            yield here, "the input parameter has no source (componentInputParameter, taskOutputParameter, …)"
        elif kind == "task_output_parameter":
            producer = source.task_output_parameter.producer_task
            yield from _check_sibling(producer, scope=scope, path=f"{here}.taskOutputParameter.producerTask")
        elif kind == "task_final_status":
            producer = source.task_final_status.producer_task
            yield from _check_sibling(producer, scope=scope, path=f"{here}.taskFinalStatus.producerTask")
        elif (
            kind == "component_input_parameter"
            and source.component_input_parameter not in declared.parameters
        ):
            missing = source.component_input_parameter
            message = _not_declared(scope.owner, "parameter", missing, other=declared.artifacts)
            yield f"{here}.componentInputParameter", message


def _check_artifact_sources(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, scope: _Scope, path: str
) -> Iterator[Problem]:
    declared = scope.component_spec.input_definitions
    for name in sorted(task_spec.inputs.artifacts):
        source = task_spec.inputs.artifacts[name]
        here = f"{path}[{name!r}]"
        kind = source.WhichOneof("kind")
        if kind is None:
            yield here, "the input artifact has no source (componentInputArtifact or taskOutputArtifact)"
        elif kind == "task_output_artifact":
            producer = source.task_output_artifact.producer_task
            yield from _check_sibling(producer, scope=scope, path=f"{here}.taskOutputArtifact.producerTask")
        elif source.component_input_artifact not in declared.artifacts:
            missing = source.component_input_artifact
            message = _not_declared(scope.owner, "artifact", missing, other=declared.parameters)
            yield f"{here}.componentInputArtifact", message


def _check_declared_inputs(
    task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, ref: str, scope: _Scope, path: str
) -> Iterator[Problem]:
    """Inputs a task passes must match the kind the component declares.

    A parameter the component does not declare is legal: the SDK adds one per channel used in an
    f-string constant (`{{$.inputs.parameters['pipelinechannel--x']}}`) of another input.
    """
    declared = scope.components[ref].input_definitions
    for name in sorted(task_spec.inputs.parameters):
        if name not in declared.parameters and name in declared.artifacts:
            yield (
                f"{path}.parameters[{name!r}]",
                _not_declared(repr(ref), "parameter", name, other=declared.artifacts),
            )
    for name in sorted(task_spec.inputs.artifacts):
        if name not in declared.artifacts:
            yield (
                f"{path}.artifacts[{name!r}]",
                _not_declared(repr(ref), "artifact", name, other=declared.parameters),
            )


def _check_iterator(task_spec: pipeline_spec_pb2.PipelineTaskSpec, *, path: str) -> Iterator[Problem]:
    """A loop over an input must name one of the task's own inputs."""
    iterator = task_spec.WhichOneof("iterator")
    if iterator == "parameter_iterator":
        items = task_spec.parameter_iterator.items
        if (
            items.WhichOneof("kind") == "input_parameter"
            and items.input_parameter not in task_spec.inputs.parameters
        ):
            where = f"{path}.parameterIterator.items.inputParameter"
            yield where, f"the task has no input parameter {items.input_parameter!r} to iterate over"
    elif iterator == "artifact_iterator":
        name = task_spec.artifact_iterator.items.input_artifact
        if name not in task_spec.inputs.artifacts:
            where = f"{path}.artifactIterator.items.inputArtifact"
            yield where, f"the task has no input artifact {name!r} to iterate over"


def _check_dag_outputs(scope: _Scope) -> Iterator[Problem]:
    outputs = scope.dag.outputs
    path = f"{scope.dag_path}.outputs"
    for name in sorted(outputs.parameters):
        output = outputs.parameters[name]
        here = f"{path}.parameters[{name!r}]"
        if output.WhichOneof("kind") == "value_from_parameter":
            subtask = output.value_from_parameter.producer_subtask
            yield from _check_sibling(subtask, scope=scope, path=f"{here}.valueFromParameter.producerSubtask")
        for index, selector in enumerate(output.value_from_oneof.parameter_selectors):
            where = f"{here}.valueFromOneof.parameterSelectors[{index}].producerSubtask"
            yield from _check_sibling(selector.producer_subtask, scope=scope, path=where)
    for name in sorted(outputs.artifacts):
        for index, selector in enumerate(outputs.artifacts[name].artifact_selectors):
            where = f"{path}.artifacts[{name!r}].artifactSelectors[{index}].producerSubtask"
            yield from _check_sibling(selector.producer_subtask, scope=scope, path=where)


def _check_sibling(task_name: str, *, scope: _Scope, path: str) -> Iterator[Problem]:
    if task_name not in scope.dag.tasks:
        yield path, f"no task {task_name!r} in the DAG of {scope.owner}"


def _check_task_cycles(scope: _Scope) -> Iterator[Problem]:
    tasks = scope.dag.tasks
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    # Sorted insertion makes the reported cycle the same whatever the hash seed.
    for name in sorted(tasks):
        sorter.add(name, *sorted(task_dependencies(tasks[name]) & set(tasks)))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        yield f"{scope.dag_path}.tasks", f"the tasks depend on each other in a cycle: {_render_cycle(exc)}"


def _check_component_cycles(components: Any) -> Iterator[Problem]:
    """A DAG component that runs itself, directly or through others, would never finish expanding."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(components):
        dag_tasks = components[name].dag.tasks.values()
        used = {task_spec.component_ref.name for task_spec in dag_tasks} & set(components)
        sorter.add(name, *sorted(used))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        first = exc.args[1][0]
        yield f"components[{first!r}]", f"the component runs itself: {_render_cycle(exc)}"


def _render_cycle(exc: graphlib.CycleError) -> str:
    # graphlib lists each node before the nodes that depend on it; reversed, each node uses the next one.
    return " → ".join(reversed(exc.args[1]))


def _task_path(scope: _Scope, task_name: str) -> str:
    return f"{scope.dag_path}.tasks[{task_name!r}]"


def _not_declared(owner: str, kind: str, name: str, *, other: Any) -> str:
    # The commonest slip is a parameter passed where an artifact is declared, or the reverse: say so.
    hint = f" (it declares an input {'artifact' if kind == 'parameter' else 'parameter'} of that name)"
    return f"{owner} declares no input {kind} {name!r}" + (hint if name in other else "")
