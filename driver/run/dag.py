"""Running a pipeline: the walk's handler set that records DAG, loop and iteration executions and hands
containers and importers to `container.py` and `importer.py`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from google.protobuf import struct_pb2

from driver.run import container, importer
from driver.run.context import RunContext
from driver.run.executions import create_task_execution
from driver.walk import condition
from driver.walk.provision import parameters_to_python
from driver.walk.resolve import (
    ResolvedInputs,
    TaskContext,
    output_artifacts,
    output_parameter,
    resolve_inputs,
)
from driver.walk.state import DagScope, TaskResult
from driver.walk.walk import (
    Node,
    Opened,
    iteration_artifacts,
    iteration_inputs,
    loop_items,
    loop_unchecked_inputs,
)
from ledger.model import (
    CANCELED,
    COMPLETE,
    DAG_EXECUTION,
    FAILED,
    IMPORTER_EXECUTION,
    RUNNING,
    SKIPPED_CONDITION,
)
from ledger.properties import (
    KIND_DAG,
    KIND_ITERATION,
    KIND_LOOP,
    DagOutcome,
    DagProducers,
    DagRecord,
    PropertyGroup,
    StateReason,
    TaskError,
    TaskPlace,
)
from spec import protojson, values
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.outline import CONTAINER, DAG, IMPORTER, LOOP

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
_ALL_COMPLETED = TaskSpec.TriggerPolicy.TriggerStrategy.Value("ALL_UPSTREAM_TASKS_COMPLETED")


class RunHandlers:
    """What a run does at each node of the walk: resolve, record in the ledger, launch."""

    serial = False

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def component(self, name: str) -> pipeline_spec_pb2.ComponentSpec:
        return self.ctx.component(name)

    def deployment(self) -> pipeline_spec_pb2.PipelineDeploymentConfig:
        return self.ctx.deployment

    def run_id(self) -> str:
        return self.ctx.run.run_id

    def should_start(self, scope: DagScope, key: str, *, upstream: frozenset[str], failed: bool) -> bool:
        """After a failure, a skipped upstream or an interrupt, only ALL_UPSTREAM_COMPLETED tasks start."""
        if scope.component.dag.tasks[key].trigger_policy.strategy == _ALL_COMPLETED:
            return True
        upstream_ok = all(scope.results[d].succeeded for d in upstream)
        return not (failed or not upstream_ok or self.ctx.stopping)

    def dag_state(self, *, failed: bool) -> str:
        return FAILED if failed or self.ctx.stopping else COMPLETE

    def enter(self, node: Node) -> Node:
        return node

    def failed(self, node: Node, error: str) -> TaskResult:
        return _record_failure(self.ctx, node, error)

    async def container(self, node: Node) -> TaskResult:
        executor = self.ctx.deployment.executors[node.component.executor_label]
        return await container.run_container(
            self.ctx, node.scope, node.key, node.spec, node.component, executor.container, retry=node.retry
        )

    async def importer(self, node: Node) -> TaskResult:
        executor = self.ctx.deployment.executors[node.component.executor_label]
        return importer.run_importer(
            self.ctx, node.scope, node.key, node.spec, node.component, executor.importer
        )

    def open_dag(self, node: Node) -> Opened:
        resolved, triggered = _dag_inputs(self.ctx, node)
        properties = _dag_properties(node, resolved.parameters)
        execution_id, skipped = _open_dag_task(
            self.ctx, node, properties, triggered=triggered, artifacts=resolved.artifacts
        )
        return Opened(resolved=resolved, execution_id=execution_id, skipped=skipped)

    def close_dag(self, node: Node, opened: Opened, child: DagScope, state: str) -> TaskResult:
        return self._close(node, execution_id=opened.execution_id, scope=child, state=state)

    def open_loop(self, node: Node) -> Opened:
        resolved, triggered = _dag_inputs(self.ctx, node, skip=loop_unchecked_inputs(node.spec))
        resolved.parameters.pop(node.spec.parameter_iterator.item_input, None)
        items = loop_items(node.spec, resolved) if triggered else []
        properties = _dag_properties(node, resolved.parameters, iteration_count=len(items))
        execution_id, skipped = _open_dag_task(
            self.ctx, node, properties, triggered=triggered, artifacts=resolved.artifacts
        )
        return Opened(resolved=resolved, execution_id=execution_id, skipped=skipped, items=items)

    async def run_iterations(
        self, node: Node, opened: Opened, calls: list[Callable[[], Awaitable[str]]]
    ) -> list[str]:
        """All at once, at most the loop's parallelismLimit at a time."""
        limit = node.spec.iterator_policy.parallelism_limit
        gate = asyncio.Semaphore(limit) if limit > 0 else None

        async def gated(call: Callable[[], Awaitable[str]]) -> str:
            if gate is None:
                return await call()
            async with gate:
                return await call()

        await self.ctx.slots.widen(min(limit, len(calls)))
        try:
            return list(await asyncio.gather(*(gated(call) for call in calls)))
        finally:
            await self.ctx.slots.narrow(min(limit, len(calls)))

    def open_iteration(self, node: Node, opened: Opened, scope: DagScope, *, index: int, count: int) -> int:
        place = TaskPlace(
            task_name=node.key,
            display_name=node.spec.task_info.name or node.key,
            parent_dag_id=opened.execution_id,
            task_path="/".join(scope.task_path),
        )
        record = DagRecord(
            dag_kind=KIND_ITERATION,
            inputs=parameters_to_python(iteration_inputs(scope, node.spec)),
            total_dag_tasks=len(node.component.dag.tasks),
            iteration_count=count,
            iteration_index=index,
        )
        return _open_dag_execution(
            self.ctx,
            parent_id=opened.execution_id,
            key=node.key,
            iteration=index,
            properties=[place, record],
            state=RUNNING,
            input_artifacts=iteration_artifacts(scope, node.spec),
        )

    def close_iteration(self, node: Node, scope: DagScope, state: str) -> None:
        self._close(node, execution_id=scope.execution_id, scope=scope, state=state)

    def _close(self, node: Node, *, execution_id: int, scope: DagScope, state: str) -> TaskResult:
        """Record the end of a sub-DAG or an iteration: its state, outputs and first error."""
        result = TaskResult(
            task_key=node.key, state=state, execution_id=execution_id, scope=scope, error=first_error(scope)
        )
        close_dag(self.ctx, result, node.component)
        return result

    def close_loop(
        self, node: Node, opened: Opened, iterations: list[DagScope] | None, states: list[str]
    ) -> TaskResult:
        iterations = iterations or []
        errors = [first_error(it) for it in iterations if first_error(it)]
        result = TaskResult(
            task_key=node.key,
            state=FAILED if FAILED in states or self.ctx.stopping else COMPLETE,
            execution_id=opened.execution_id,
            iterations=iterations,
            error=errors[0] if errors else "",
        )
        close_dag(self.ctx, result, node.component)
        return result


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
    outcome = DagOutcome(outputs=outputs, output_artifact_ids=artifact_ids, error=result.error)
    assert result.execution_id is not None
    ctx.run_ledger.update_execution(result.execution_id, state=result.state, properties=[outcome])


def first_error(scope: DagScope) -> str:
    for result in scope.results.values():
        if result.failed:
            return result.error or f"task {result.task_key!r} {result.state}"
    return ""


_EXECUTION_TYPES = {
    DAG: DAG_EXECUTION,
    LOOP: DAG_EXECUTION,
    IMPORTER: IMPORTER_EXECUTION,
    CONTAINER: container.EXECUTION_TYPE,
}


def _record_failure(ctx: RunContext, node: Node, error: str) -> TaskResult:
    execution_id = create_task_execution(
        ctx,
        node.scope,
        node.key,
        type=_EXECUTION_TYPES[node.kind],
        state=FAILED,
        properties=[node.scope.task_place(node.key, node.spec), TaskError(error)],
    )
    label = _label(node.scope, node.key)
    ctx.console.event("task_failed", f"{label} FAILED: {error}", task=node.key, error=error)
    return TaskResult(task_key=node.key, state=FAILED, execution_id=execution_id, error=error)


def _label(scope: DagScope, key: str) -> str:
    return scope.task_label(key)


def _dag_inputs(
    ctx: RunContext, node: Node, *, skip: frozenset[str] = frozenset()
) -> tuple[ResolvedInputs, bool]:
    resolved = resolve_inputs(
        node.spec,
        node.component,
        node.scope,
        context=TaskContext(run=ctx.run, task_key=node.key, workspace_path=ctx.workspace),
        for_dag=True,
        skip_type_check=skip,
    )
    triggered = True
    if node.spec.trigger_policy.condition:
        triggered = condition.evaluate_condition(
            node.spec.trigger_policy.condition, parameters=resolved.parameters, artifacts=resolved.artifacts
        )
    return resolved, triggered


def _dag_properties(
    node: Node, parameters: dict[str, struct_pb2.Value], *, iteration_count: int | None = None
) -> list[PropertyGroup]:
    outputs = node.component.dag.outputs
    record = DagRecord(
        dag_kind=KIND_LOOP if node.kind == LOOP else KIND_DAG,
        inputs=parameters_to_python(parameters),
        total_dag_tasks=len(node.component.dag.tasks),
        iteration_count=iteration_count,
    )
    producers = DagProducers(
        parameter_producer_task={k: protojson.render_protojson(v) for k, v in outputs.parameters.items()},
        artifact_producer_task=json.dumps(
            {k: protojson.message_to_jsonable(v) for k, v in outputs.artifacts.items()}
        ),
    )
    return [node.scope.task_place(node.key, node.spec), record, producers]


def _open_dag_execution(
    ctx: RunContext,
    *,
    parent_id: int,
    key: str,
    iteration: int | None,
    properties: list[PropertyGroup],
    state: str,
    input_artifacts: Any = None,
) -> int:
    """Create the DAG execution, or on resume take up the one this run already recorded."""
    earlier = ctx.previous.get((parent_id, key, iteration))
    if earlier is not None and earlier.type == DAG_EXECUTION:
        ctx.run_ledger.update_execution(earlier.id, state=state, properties=properties)
        return earlier.id
    return ctx.run_ledger.create_execution(
        type=DAG_EXECUTION, state=state, properties=properties, input_artifacts=input_artifacts
    )


def _open_dag_task(
    ctx: RunContext, node: Node, properties: list[PropertyGroup], *, triggered: bool, artifacts: Any
) -> tuple[int, TaskResult | None]:
    """Record a DAG or loop task; when its condition is false, also the CANCELED result to return."""
    state = RUNNING if triggered else CANCELED
    # "" clears the reason of a DAG execution that a resume takes up and now runs.
    reason = StateReason("" if triggered else SKIPPED_CONDITION)
    scope, key = node.scope, node.key
    execution_id = _open_dag_execution(
        ctx,
        parent_id=scope.execution_id,
        key=key,
        iteration=None,
        properties=[*properties, reason],
        state=state,
        input_artifacts=artifacts,
    )
    if triggered:
        return execution_id, None
    ctx.console.event("task_skipped", f"{_label(scope, key)} {CANCELED} ({SKIPPED_CONDITION})", task=key)
    return execution_id, TaskResult(task_key=key, state=CANCELED, execution_id=execution_id, skipped=True)
