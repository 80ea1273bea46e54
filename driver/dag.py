"""DAG nodes: scheduling a DAG's tasks, sub-DAG tasks (nested pipelines, condition groups) and loops."""

from __future__ import annotations

import asyncio
import graphlib
import json
from typing import Any, TypeAlias

from google.protobuf import struct_pb2

from driver import condition, container, importer
from driver.context import RunContext
from driver.provision import parameters_to_python
from driver.resolve import TaskContext, output_artifacts, output_parameter, resolve_inputs
from driver.state import NOT_RUN, DagScope, TaskResult
from ledger.model import (
    CANCELED,
    COMPLETE,
    DAG_EXECUTION,
    FAILED,
    IMPORTER_EXECUTION,
    RUNNING,
    SKIPPED_CONDITION,
    STATE_REASON,
)
from spec import labels, values
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
_ALL_COMPLETED = TaskSpec.TriggerPolicy.TriggerStrategy.Value("ALL_UPSTREAM_TASKS_COMPLETED")


def dependencies(task_spec: TaskSpec) -> set[str]:
    """dependentTasks plus the producers of task-output inputs (the compiler's implicit edges)."""
    deps = set(task_spec.dependent_tasks)
    deps |= {
        p.task_output_parameter.producer_task
        for p in task_spec.inputs.parameters.values()
        if p.WhichOneof("kind") == "task_output_parameter"
    }
    deps |= {
        a.task_output_artifact.producer_task
        for a in task_spec.inputs.artifacts.values()
        if a.WhichOneof("kind") == "task_output_artifact"
    }
    return deps


async def run_dag(
    ctx: RunContext, scope: DagScope, *, retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None = None
) -> str:
    """Run every task of a DAG in dependency order, in parallel where independent; return its state."""
    tasks = scope.component.dag.tasks
    graph = {key: dependencies(spec) & set(tasks) for key, spec in tasks.items()}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    running: dict[asyncio.Task[TaskResult], str] = {}
    failed = False
    while sorter.is_active():
        for key in sorted(sorter.get_ready()):
            spec = tasks[key]
            upstream_ok = all(scope.results[d].succeeded for d in graph[key])
            if spec.trigger_policy.strategy != _ALL_COMPLETED and (failed or not upstream_ok or ctx.stopping):
                scope.results[key] = TaskResult(task_key=key, state=NOT_RUN)
                sorter.done(key)
                continue
            running[asyncio.create_task(run_task(ctx, scope, key, retry=retry))] = key
        if not running:
            continue
        finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            key = running.pop(task)
            result = task.result()
            scope.results[key] = result
            failed = failed or result.state == FAILED
            sorter.done(key)
    return FAILED if failed or ctx.stopping else COMPLETE


def close_dag(ctx: RunContext, result: TaskResult, component: pipeline_spec_pb2.ComponentSpec) -> None:
    """Record a finished DAG's state, first error and the outputs its mapping resolves to: parameter values,
    and the ids of the artifacts behind each output artifact (a list for a list output, else one id)."""
    outputs: dict[str, Any] = {}
    artifact_ids: dict[str, Any] = {}
    if result.succeeded:
        for key in component.dag.outputs.parameters:
            try:
                outputs[key] = values.value_to_python(output_parameter(result, key))
            except ResolutionError:
                continue  # e.g. a OneOf whose branches were all skipped: nothing to show
        for key in component.dag.outputs.artifacts:
            try:
                ids = [artifact.id for artifact in output_artifacts(result, key)]
            except ResolutionError:
                continue
            listed = component.output_definitions.artifacts[key].is_artifact_list or len(ids) != 1
            artifact_ids[key] = ids if listed else ids[0]
    # Always written: on resume an earlier attempt's error must not outlive its fix.
    properties: dict[str, Any] = {
        "outputs": outputs, "output_artifact_ids": artifact_ids, "error": result.error
    }
    assert result.execution_id is not None
    ctx.run_ledger.update_execution(result.execution_id, state=result.state, properties=properties)


def first_error(scope: DagScope) -> str:
    for result in scope.results.values():
        if result.state == FAILED:
            return result.error or f"task {result.task_key!r} failed"
    return ""


async def run_task(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    *,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    """Dispatch one task by the kind of its component; a resolution error fails just this task."""
    spec = scope.component.dag.tasks[key]
    component = ctx.component(spec.component_ref.name)
    own_retry = spec.retry_policy if spec.HasField("retry_policy") else retry
    try:
        if spec.HasField("parameter_iterator") or spec.HasField("artifact_iterator"):
            return await _run_loop(ctx, scope, key, spec, component, retry=own_retry)
        if component.WhichOneof("implementation") == "dag":
            return await _run_sub_dag(ctx, scope, key, spec, component, retry=own_retry)
        executor = ctx.deployment.executors[component.executor_label]
        if executor.WhichOneof("spec") == "importer":
            return importer.run_importer(ctx, scope, key, spec, component, executor.importer)
        return await container.run_container(
            ctx, scope, key, spec, component, executor.container, retry=own_retry
        )
    except ResolutionError as exc:
        error = ResolutionError(exc.message, run_id=ctx.run.run_id, task=key, iteration=scope.iteration_index)
        return _record_failure(ctx, scope, key, spec, str(error))


def _execution_type(ctx: RunContext, spec: TaskSpec) -> str:
    component = ctx.component(spec.component_ref.name)
    if component.HasField("dag"):
        return DAG_EXECUTION
    executor = ctx.deployment.executors[component.executor_label]
    return IMPORTER_EXECUTION if executor.WhichOneof("spec") == "importer" else container.EXECUTION_TYPE


def _record_failure(ctx: RunContext, scope: DagScope, key: str, spec: TaskSpec, error: str) -> TaskResult:
    execution_id = container.create_task_execution(
        ctx,
        scope,
        key,
        type=_execution_type(ctx, spec),
        state=FAILED,
        properties=base_properties(scope, key, spec) | {"error": error},
    )
    ctx.console.event("task_failed", f"{_label(scope, key)} FAILED: {error}", task=key, error=error)
    return TaskResult(task_key=key, state=FAILED, execution_id=execution_id, error=error)


def _label(scope: DagScope, key: str) -> str:
    return container.task_label(scope, key)


def base_properties(scope: DagScope, key: str, spec: TaskSpec) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "task_name": key,
        "display_name": spec.task_info.name or key,
        "parent_dag_id": scope.execution_id,
        "task_path": "/".join((*scope.task_path, key)),
    }
    if scope.iteration_index is not None:
        properties["parent_iteration_index"] = scope.iteration_index
    return properties


def _dag_inputs(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    *,
    skip: frozenset[str] = frozenset(),
) -> tuple[Any, bool]:
    resolved = resolve_inputs(
        spec,
        component,
        scope,
        context=TaskContext(run=ctx.run, task_key=key, workspace_path=ctx.workspace),
        for_dag=True,
        skip_type_check=skip,
    )
    triggered = True
    if spec.trigger_policy.condition:
        triggered = condition.evaluate_condition(
            spec.trigger_policy.condition, parameters=resolved.parameters, artifacts=resolved.artifacts
        )
    return resolved, triggered


def _dag_properties(
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    parameters: dict[str, struct_pb2.Value],
) -> dict[str, Any]:
    outputs = component.dag.outputs
    return base_properties(scope, key, spec) | {
        "inputs": parameters_to_python(parameters),
        "total_dag_tasks": len(component.dag.tasks),
        "parameter_producer_task": {k: values.render_protojson(v) for k, v in outputs.parameters.items()},
        "artifact_producer_task": json.dumps(
            {k: values.message_to_jsonable(v) for k, v in outputs.artifacts.items()}
        ),
    }


def _open_dag_execution(
    ctx: RunContext,
    *,
    parent: DagScope,
    key: str,
    iteration: int | None,
    properties: dict[str, Any],
    state: str,
    input_artifacts: Any = None,
) -> int:
    """Create the DAG execution, or on resume take up the one this run already recorded."""
    earlier = ctx.previous.get((parent.execution_id, key, iteration))
    if earlier is not None and earlier.type == DAG_EXECUTION:
        ctx.run_ledger.update_execution(earlier.id, state=state, properties=properties)
        return earlier.id
    return ctx.run_ledger.create_execution(
        type=DAG_EXECUTION, state=state, properties=properties, input_artifacts=input_artifacts
    )


def _open_dag_task(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    properties: dict[str, Any],
    *,
    triggered: bool,
    artifacts: Any,
) -> tuple[int, TaskResult | None]:
    """Record a DAG or loop task; when its condition is false, also the CANCELED result to return."""
    state = RUNNING if triggered else CANCELED
    # "" clears the reason of a DAG execution that a resume takes up and now runs.
    reason = {STATE_REASON: "" if triggered else SKIPPED_CONDITION}
    execution_id = _open_dag_execution(
        ctx,
        parent=scope,
        key=key,
        iteration=None,
        properties=properties | reason,
        state=state,
        input_artifacts=artifacts,
    )
    if triggered:
        return execution_id, None
    ctx.console.event("task_skipped", f"{_label(scope, key)} {CANCELED} ({SKIPPED_CONDITION})", task=key)
    return execution_id, TaskResult(task_key=key, state=CANCELED, execution_id=execution_id)


async def _run_sub_dag(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    *,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    resolved, triggered = _dag_inputs(ctx, scope, key, spec, component)
    properties = _dag_properties(scope, key, spec, component, resolved.parameters)
    execution_id, skipped = _open_dag_task(
        ctx, scope, key, properties, triggered=triggered, artifacts=resolved.artifacts
    )
    if skipped is not None:
        return skipped
    child = DagScope(
        execution_id=execution_id,
        component=component,
        component_name=spec.component_ref.name,
        task_path=(*scope.task_path, key),
        place=labels.child_label(scope.place, key),
        parameters=resolved.parameters,
        artifacts=resolved.artifacts,
        nulled_by_driver=resolved.nulled_by_driver,
    )
    state = await run_dag(ctx, child, retry=retry)
    result = TaskResult(
        task_key=key, state=state, execution_id=execution_id, scope=child, error=first_error(child)
    )
    close_dag(ctx, result, component)
    return result


def loop_unchecked_inputs(spec: TaskSpec) -> frozenset[str]:
    """Inputs of a loop task that are not type-checked: the item (not resolved on the loop task), and the
    items, which the SDK declares for a loop over a sub-field (`item.subs`) with the field's element type."""
    iterator = spec.parameter_iterator
    return frozenset({iterator.item_input, iterator.items.input_parameter} - {""})


def loop_items(spec: TaskSpec, parameters: dict[str, struct_pb2.Value]) -> list[struct_pb2.Value]:
    iterator = spec.parameter_iterator
    if spec.HasField("artifact_iterator"):
        raise ResolutionError("ArtifactIterator is not implemented")
    if iterator.items.WhichOneof("kind") == "raw":
        items: Any = values.python_to_value(json.loads(iterator.items.raw))
    else:
        name = iterator.items.input_parameter
        if name not in parameters:
            raise ResolutionError(f"loop items input {name!r} was not resolved")
        items = parameters[name]
    if items.WhichOneof("kind") == "string_value":
        try:
            items = values.python_to_value(json.loads(items.string_value))
        except ValueError:
            return []
    if items.WhichOneof("kind") != "list_value":
        return []
    return list(items.list_value.values)


async def _run_loop(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    *,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    item_input = spec.parameter_iterator.item_input
    resolved, triggered = _dag_inputs(ctx, scope, key, spec, component, skip=loop_unchecked_inputs(spec))
    resolved.parameters.pop(item_input, None)
    items = loop_items(spec, resolved.parameters) if triggered else []
    properties = _dag_properties(scope, key, spec, component, resolved.parameters) | {
        "iteration_count": len(items)
    }
    execution_id, skipped = _open_dag_task(
        ctx, scope, key, properties, triggered=triggered, artifacts=resolved.artifacts
    )
    if skipped is not None:
        return skipped
    loop_scope = DagScope(
        execution_id=execution_id,
        component=component,
        component_name=spec.component_ref.name,
        task_path=(*scope.task_path, key),
        place=labels.child_label(scope.place, key),
        parameters=resolved.parameters,
    )
    limit = spec.iterator_policy.parallelism_limit
    gate = asyncio.Semaphore(limit) if limit > 0 else None
    items_name = spec.parameter_iterator.items.input_parameter
    iterations = [
        iteration_scope(
            loop_scope,
            index=i,
            item=item,
            item_input=item_input,
            items_name=items_name,
            artifacts=resolved.artifacts,
        )
        for i, item in enumerate(items)
    ]
    await ctx.slots.widen(min(limit, len(items)))
    try:
        states = await asyncio.gather(
            *(
                _run_iteration(
                    ctx, it, key, spec, component, gate=gate, retry=retry, loop_id=execution_id,
                    count=len(items),
                )
                for it in iterations
            )
        )
    finally:
        await ctx.slots.narrow(min(limit, len(items)))
    state = FAILED if FAILED in states or ctx.stopping else COMPLETE
    errors = [first_error(it) for it in iterations if first_error(it)]
    result = TaskResult(
        task_key=key,
        state=state,
        execution_id=execution_id,
        iterations=iterations,
        error=errors[0] if errors else "",
    )
    close_dag(ctx, result, component)
    return result


def iteration_scope(
    loop_scope: DagScope,
    *,
    index: int,
    item: struct_pb2.Value,
    item_input: str,
    items_name: str,
    artifacts: Any,
) -> DagScope:
    parameters = {k: v for k, v in loop_scope.parameters.items() if k != items_name}
    parameters[item_input] = item
    return DagScope(
        execution_id=-1,
        component=loop_scope.component,
        component_name=loop_scope.component_name,
        task_path=loop_scope.task_path,
        parameters=parameters,
        artifacts=dict(artifacts),
        iteration_index=index,
        place=labels.iteration_label(loop_scope.place, index),
    )


async def _run_iteration(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    *,
    gate: asyncio.Semaphore | None,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
    loop_id: int,
    count: int,
) -> str:
    if gate is not None:
        async with gate:
            return await _run_iteration_now(
                ctx, scope, key, spec, component, retry=retry, loop_id=loop_id, count=count
            )
    return await _run_iteration_now(
        ctx, scope, key, spec, component, retry=retry, loop_id=loop_id, count=count
    )


async def _run_iteration_now(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    *,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
    loop_id: int,
    count: int,
) -> str:
    properties = {
        "task_name": key,
        "display_name": spec.task_info.name or key,
        "parent_dag_id": loop_id,
        "iteration_index": scope.iteration_index,
        "iteration_count": count,
        "inputs": parameters_to_python(scope.parameters),
        "total_dag_tasks": len(component.dag.tasks),
        "task_path": "/".join(scope.task_path),
    }
    parent = DagScope(execution_id=loop_id, component=component, component_name="", task_path=())
    scope.execution_id = _open_dag_execution(
        ctx,
        parent=parent,
        key=key,
        iteration=scope.iteration_index,
        properties=properties,
        state=RUNNING,
        input_artifacts=scope.artifacts,
    )
    state = await run_dag(ctx, scope, retry=retry)
    result = TaskResult(
        task_key=key, state=state, execution_id=scope.execution_id, scope=scope, error=first_error(scope)
    )
    close_dag(ctx, result, component)
    return state
