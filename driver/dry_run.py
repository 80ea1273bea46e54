"""Walk a pipeline resolving, provisioning and fingerprinting each task as a run would, running nothing."""

from __future__ import annotations

import graphlib
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeAlias

from google.protobuf import json_format, struct_pb2

from driver import cache, dag
from driver.importer import map_remote_uri
from driver.provision import build_executor_input, parameters_from_python, runtime_artifact
from driver.resolve import ResolvedInputs, TaskContext
from driver.standins import (
    UNKNOWN,
    blank_stand_in_names,
    condition_value,
    item_reference,
    mentions_reference,
    resolve_known,
    unknown_outputs,
)
from driver.state import DagScope, RunInfo, TaskResult
from ledger.model import CANCELED, FAILED, SUCCESS_STATES, Execution, RunView
from spec import labels, values
from spec.command import ENVIRONMENT_READY, PythonPlan, environment_dir, plan_python_component
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.placeholders import JobFacts, Resolver, add_defaults, provided_inputs

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
Entry: TypeAlias = dict[str, Any]
PlaceKey: TypeAlias = tuple[int | None, str, int | None]

# What only a run decides (a task's execution id, its output folder's uuid) is shown as these.
EXECUTION_ID, UUID = "<execution-id>", "<uuid>"


@dataclass(frozen=True)
class Recorded:
    """A recorded run, its executions indexed by (parent DAG execution, task key, iteration)."""

    view: RunView
    index: dict[PlaceKey, Execution]

    @classmethod
    def of(cls, view: RunView) -> Recorded:
        index: dict[PlaceKey, Execution] = {}
        for execution in sorted(view.executions.values(), key=lambda e: e.id):
            if "replay_of" not in execution.properties:  # a replay is not the run's own record of the task
                index[(execution.parent_dag_id, execution.task_name, execution.iteration_index)] = execution
        return cls(view=view, index=index)

    def find(self, parent_id: int, key: str, iteration: int | None = None) -> Execution | None:
        return self.index.get((parent_id, key, iteration)) if parent_id >= 0 else None

    def root_id(self) -> int:
        root = self.index.get((None, "", None))
        return root.id if root is not None else -1


@dataclass
class Walk:
    """The walk-wide values every task reads, and the entries found so far."""

    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig
    run: RunInfo
    run_dir: Path
    workspace: str
    cache_enabled: bool
    mounts: dict[str, str]
    recorded: Recorded | None
    entries: list[Entry] = field(default_factory=list)

    def component(self, name: str) -> ComponentSpec:
        return self.pipeline_spec.root if name == "root" else self.pipeline_spec.components[name]


@dataclass(frozen=True)
class _Place:
    """Where a task sits: the loop iterations around it, and why it would not run at all."""

    iterations: tuple[int, ...] = ()
    not_run_because: str = ""


@dataclass
class _Task:
    scope: DagScope
    key: str
    spec: TaskSpec
    component: ComponentSpec
    recorded: Execution | None
    place: _Place
    entry: Entry = field(default_factory=dict)

    @property
    def label(self) -> str:
        return labels.child_label(self.scope.place, self.key)


def walk_pipeline(walk: Walk, parameters: dict[str, struct_pb2.Value]) -> list[Entry]:
    """Every task's entry, in a deterministic dependency order, loop iterations expanded where known."""
    root_id = walk.recorded.root_id() if walk.recorded else -1
    scope = DagScope(
        execution_id=root_id,
        component=walk.pipeline_spec.root,
        component_name="root",
        task_path=(),
        parameters=parameters,
    )
    _walk_dag(walk, scope, _Place())
    return walk.entries


def _walk_dag(walk: Walk, scope: DagScope, place: _Place) -> None:
    tasks = scope.component.dag.tasks
    sorter = graphlib.TopologicalSorter(
        {key: dag.dependencies(spec) & set(tasks) for key, spec in tasks.items()}
    )
    sorter.prepare()
    while sorter.is_active():
        for key in sorted(sorter.get_ready()):
            scope.results[key] = _walk_task(walk, scope, key, place)
            sorter.done(key)


def _walk_task(walk: Walk, scope: DagScope, key: str, place: _Place) -> TaskResult:
    spec = scope.component.dag.tasks[key]
    recorded = walk.recorded.find(scope.execution_id, key) if walk.recorded else None
    task = _Task(
        scope=scope,
        key=key,
        spec=spec,
        component=walk.component(spec.component_ref.name),
        recorded=recorded,
        place=place,
    )
    kind = _kind(walk, task)
    task.entry = _new_entry(walk, task, kind=kind)
    walk.entries.append(task.entry)
    try:
        return _WALKERS[kind](walk, task)
    except ResolutionError as exc:
        error = str(
            ResolutionError(exc.message, run_id=walk.run.run_id, task=key, iteration=scope.iteration_index)
        )
        task.entry["error"] = error
        return unknown_outputs(task.component, key=key, label=task.label, state=FAILED, error=error)


def _kind(walk: Walk, task: _Task) -> str:
    if task.spec.HasField("parameter_iterator") or task.spec.HasField("artifact_iterator"):
        return "loop"
    if task.component.WhichOneof("implementation") == "dag":
        return "dag"
    executor = walk.deployment.executors[task.component.executor_label]
    return "importer" if executor.WhichOneof("spec") == "importer" else "container"


def _new_entry(walk: Walk, task: _Task, *, kind: str) -> Entry:
    notes: list[str] = []
    if task.place.not_run_because:
        notes.append(f"would not run: {task.place.not_run_because}")
    if walk.recorded is not None and task.recorded is None:
        notes.append(f"run {walk.run.run_id} has no execution of this task")
    recorded = task.recorded
    iterations = task.place.iterations
    return {
        "task": task.key,
        "path": "/".join((*task.scope.task_path, task.key)),
        "label": task.label,
        "iteration": iterations[-1] if iterations else None,
        "iterations": list(iterations),
        "kind": kind,
        "component": task.spec.component_ref.name,
        "displayName": task.spec.task_info.name or task.key,
        "condition": None,
        "executorInput": None,
        "command": None,
        "environment": None,
        "cacheFingerprint": None,
        "unresolved": [],
        "notes": notes,
        "recorded": {"executionId": recorded.id, "state": recorded.state} if recorded is not None else None,
    }


def _resolve(walk: Walk, task: _Task, *, for_dag: bool, skip: frozenset[str] = frozenset()) -> ResolvedInputs:
    """The task's inputs and the value of its condition, both written into its entry."""
    context = TaskContext(run=walk.run, task_key=task.key, workspace_path=walk.workspace)
    resolved, unresolved = resolve_known(
        task.spec,
        task.component,
        task.scope,
        context=context,
        for_dag=for_dag,
        iterations=task.place.iterations,
        skip=skip,
    )
    task.entry["unresolved"] = unresolved
    task.entry["condition"] = condition_value(task.spec.trigger_policy.condition, resolved)
    return resolved


# --- one function per kind of task ----------------------------------------------------------------------


def _walk_container(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=False)
    container = walk.deployment.executors[task.component.executor_label].container
    executor_input = build_executor_input(
        resolved,
        task.component,
        task_root=f"{walk.run.run_root}/{task.key}/{UUID}",
        parameter_dir=walk.run_dir / f"{task.key}-{UUID}" / "outputs",
    )
    blank_stand_in_names(executor_input)
    with_defaults = add_defaults(executor_input, task.component)
    container_json = values.message_to_jsonable(container)
    resolver = Resolver(with_defaults, provided=provided_inputs(executor_input), job=_job_facts(walk, task))
    command = resolver.resolve_all(list(container_json.get("command", [])))
    args = resolver.resolve_all(list(container_json.get("args", [])))
    plan = plan_python_component(command, args)
    fingerprint = None
    if not task.entry["unresolved"]:
        fingerprint = cache.fingerprint(
            task_spec=task.spec,
            executor_input=executor_input,
            component_spec=task.component,
            container=container_json,
        )
    task.entry |= {
        "executorInput": values.message_to_jsonable(with_defaults),
        "command": list(plan.program) if plan is not None else [*command, *args],
        "environment": _environment(plan, container_json, resolver),
        "cacheEnabled": walk.cache_enabled and task.spec.caching_options.enable_cache,
        "cacheFingerprint": fingerprint,
    }
    return _leaf_result(walk, task)


def _walk_importer(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=False)
    task.entry["executorInput"] = _inputs_only(resolved)
    importer = walk.deployment.executors[task.component.executor_label].importer
    if importer.artifact_uri.WhichOneof("value") == "runtime_parameter":
        source = resolved.parameters.get(importer.artifact_uri.runtime_parameter, struct_pb2.Value())
    else:
        source = importer.artifact_uri.constant
    uri = values.value_to_text(source)
    task.entry["importer"] = {
        "artifactUri": uri,
        "localUri": None if mentions_reference(source) else map_remote_uri(uri, walk.mounts),
        "schemaTitle": importer.type_schema.schema_title or "system.Artifact",
        "reimport": importer.reimport,
        "metadata": json_format.MessageToDict(importer.metadata),
    }
    return _leaf_result(walk, task)


def _walk_sub_dag(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=True)
    task.entry["executorInput"] = _inputs_only(resolved)
    child = DagScope(
        execution_id=_recorded_id(task),
        component=task.component,
        component_name=task.spec.component_ref.name,
        task_path=(*task.scope.task_path, task.key),
        place=task.label,
        parameters=resolved.parameters,
        artifacts=resolved.artifacts,
        nulled_by_driver=resolved.nulled_by_driver,
    )
    _walk_dag(walk, child, _inner_place(task))
    return TaskResult(
        task_key=task.key,
        state=_dag_state(task),
        execution_id=_execution_id(task),
        scope=child,
        error=_dag_error(task),
    )


def _walk_loop(walk: Walk, task: _Task) -> TaskResult:
    item_input = task.spec.parameter_iterator.item_input
    resolved = _resolve(walk, task, for_dag=True, skip=dag.loop_unchecked_inputs(task.spec))
    resolved.parameters.pop(item_input, None)
    task.entry["executorInput"] = _inputs_only(resolved)
    items = _known_items(task, resolved)
    task.entry["items"] = [values.value_to_python(item) for item in items] if items is not None else None
    task.entry["iterationCount"] = len(items) if items is not None else None
    loop_scope = DagScope(
        execution_id=_recorded_id(task),
        component=task.component,
        component_name=task.spec.component_ref.name,
        task_path=(*task.scope.task_path, task.key),
        place=task.label,
        parameters=resolved.parameters,
    )
    inner = _inner_place(task)
    if items is None:
        task.entry["notes"].append(
            "the items are known only when a run gets here: the body is shown once, with the item unresolved"
        )
        body = _iteration(walk, task, loop_scope, resolved, index=0, item=item_reference(task.label))
        body.iteration_index = None
        body.place = labels.iteration_label(loop_scope.place, "?")
        _walk_dag(walk, body, inner)
        return unknown_outputs(
            task.component, key=task.key, label=task.label, state=_dag_state(task), error=_dag_error(task)
        )
    iterations = [
        _iteration(walk, task, loop_scope, resolved, index=i, item=item) for i, item in enumerate(items)
    ]
    for index, iteration in enumerate(iterations):
        _walk_dag(walk, iteration, replace(inner, iterations=(*inner.iterations, index)))
    return TaskResult(
        task_key=task.key,
        state=_dag_state(task),
        execution_id=_execution_id(task),
        iterations=iterations,
        error=_dag_error(task),
    )


_WALKERS = {
    "container": _walk_container,
    "importer": _walk_importer,
    "dag": _walk_sub_dag,
    "loop": _walk_loop,
}


# --- helpers of the walkers -----------------------------------------------------------------------------


def _known_items(task: _Task, resolved: ResolvedInputs) -> list[struct_pb2.Value] | None:
    """The loop's items, or None when they come whole from an output not known yet."""
    name = task.spec.parameter_iterator.items.input_parameter
    value = resolved.parameters.get(name) if name else None
    if value is not None and value.WhichOneof("kind") == "string_value" and mentions_reference(value):
        return None
    return dag.loop_items(task.spec, resolved.parameters)


def _iteration(
    walk: Walk,
    task: _Task,
    loop_scope: DagScope,
    resolved: ResolvedInputs,
    *,
    index: int,
    item: struct_pb2.Value,
) -> DagScope:
    iterator = task.spec.parameter_iterator
    scope = dag.iteration_scope(
        loop_scope,
        index=index,
        item=item,
        item_input=iterator.item_input,
        items_name=iterator.items.input_parameter,
        artifacts=resolved.artifacts,
    )
    recorded = walk.recorded.find(loop_scope.execution_id, task.key, index) if walk.recorded else None
    scope.execution_id = recorded.id if recorded is not None else -1
    return scope


def _inner_place(task: _Task) -> _Place:
    """Where the tasks of a DAG or loop sit: inside a condition known to be false, they would not run."""
    if _condition_is_false(task) and not task.place.not_run_because:
        return replace(task.place, not_run_because=f"the condition of {task.label!r} is false")
    return task.place


def _condition_is_false(task: _Task) -> bool:
    return (task.entry["condition"] or {}).get("value") is False


def _recorded_id(task: _Task) -> int:
    """The recorded execution's id, as a scope's `execution_id` (-1: none)."""
    return task.recorded.id if task.recorded is not None else -1


def _execution_id(task: _Task) -> int | None:
    return task.recorded.id if task.recorded is not None else None


def _dag_state(task: _Task) -> str:
    if task.recorded is not None:
        return task.recorded.state
    return CANCELED if _condition_is_false(task) else UNKNOWN


def _dag_error(task: _Task) -> str:
    return str(task.recorded.properties.get("error", "")) if task.recorded is not None else ""


def _leaf_result(walk: Walk, task: _Task) -> TaskResult:
    """A container's or importer's result: as recorded when it succeeded, else its stand-ins."""
    recorded = task.recorded
    if recorded is None or walk.recorded is None:
        return unknown_outputs(task.component, key=task.key, label=task.label, state=UNKNOWN)
    if recorded.state in SUCCESS_STATES:
        return TaskResult(
            task_key=task.key,
            state=recorded.state,
            execution_id=recorded.id,
            parameters=parameters_from_python(recorded.properties.get("outputs", {})),
            artifacts=walk.recorded.view.artifacts_of(recorded.id, "OUTPUT"),
        )
    # The driver's own wording for a failed task, which a PipelineTaskFinalStatus downstream carries.
    error = f"task {task.label!r}: {recorded.properties.get('error', '')}" if recorded.state == FAILED else ""
    return unknown_outputs(
        task.component,
        key=task.key,
        label=task.label,
        state=recorded.state,
        error=error,
        execution_id=recorded.id,
    )


def _inputs_only(resolved: ResolvedInputs) -> dict[str, Any]:
    """A DAG's, loop's or importer's resolved inputs in ExecutorInput form (no outputs are provisioned)."""
    executor_input = pipeline_spec_pb2.ExecutorInput()
    for name, value in resolved.parameters.items():
        executor_input.inputs.parameter_values[name].CopyFrom(value)
    for name, artifacts in resolved.artifacts.items():
        executor_input.inputs.artifacts[name].artifacts.extend(runtime_artifact(a) for a in artifacts)
    blank_stand_in_names(executor_input)
    return values.message_to_jsonable(executor_input)


def _job_facts(walk: Walk, task: _Task) -> JobFacts:
    return JobFacts(
        job_name=walk.run.job_name,
        job_uuid=walk.run.run_id,
        task_name=task.key,
        task_uuid=str(task.recorded.id) if task.recorded is not None else EXECUTION_ID,
        create_time=walk.run.create_time,
        pipeline_root=walk.run.pipeline_root,
        workspace=walk.workspace,
        job_resource_name=walk.run.job_resource_name,
    )


def _environment(plan: PythonPlan | None, container: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """Where the launcher would run the command: a cached Python environment, or the host as it is."""
    variables = {
        str(v["name"]): resolver.substitute(str(v.get("value", ""))) for v in container.get("env", [])
    }
    image = str(container.get("image", ""))
    if plan is None:
        return {
            "kind": "host",
            "image": image,
            "variables": variables,
            "note": "the command runs on this machine as it is; the image is not used",
        }
    directory = environment_dir(plan)
    return {
        "kind": "python",
        "image": image,
        "installs": [shlex.join(install) for install in plan.installs],
        "path": str(directory),
        "built": (directory / ENVIRONMENT_READY).exists(),
        "variables": variables,
    }
