"""The one walk of a pipeline's DAG; what happens at each node is a handler set's choice.

The walk owns the traversal: dependency order (`graphlib`), which kind of node a task is (container,
importer, sub-DAG, loop), the scopes a sub-DAG and each loop iteration get, and how a resolution error
is wrapped with its run, task and iteration. A handler set owns what each node does: running it (resolve,
record in the ledger, launch; `driver/run/dag.py` with `container.py` and `importer.py`) or explaining it
(resolve around stand-ins, describe, run nothing; `driver/explaining.py`). Explain therefore visits the same
nodes, in the same scopes, with the same loop items as a run, by construction.

    walk_dag(handlers, scope)                      one DAG: its tasks in dependency order
      └─ walk_task: handlers.enter(node), then by kind
           container -> handlers.container(task)    importer -> handlers.importer(task)
           sub-DAG   -> handlers.open_dag(task), walk_dag(child scope), handlers.close_dag(...)
           loop      -> handlers.open_loop(task), per item: handlers.open_iteration(...),
                        walk_dag(iteration scope), handlers.close_iteration(...); handlers.close_loop(...)
"""

from __future__ import annotations

import asyncio
import graphlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

from google.protobuf import struct_pb2

from driver.walk.resolve import ResolvedInputs
from driver.walk.state import NOT_RUN, DagScope, TaskResult
from ledger.model import Artifact
from spec import labels, values
from spec.dependencies import task_dependencies
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.outline import CONTAINER, DAG, IMPORTER, node_kind

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
RetryPolicy: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy

T = TypeVar("T")
# One iteration's item: a parameter value (`parameterIterator`) or one artifact (`artifactIterator`).
LoopItem: TypeAlias = struct_pb2.Value | Artifact


@dataclass(frozen=True)
class Node:
    """One task of one DAG execution, as the walk meets it."""

    scope: DagScope  # the DAG execution (or loop iteration) the task belongs to
    key: str
    spec: TaskSpec
    component: ComponentSpec
    kind: str  # CONTAINER, IMPORTER, DAG or LOOP
    retry: RetryPolicy | None  # the task's own retry policy, else the one its enclosing DAG passes down

    @property
    def task_path(self) -> tuple[str, ...]:
        return (*self.scope.task_path, self.key)


@dataclass
class Opened:
    """A sub-DAG or loop task as its handler opened it: its inputs, its execution, and what comes next."""

    resolved: ResolvedInputs
    execution_id: int
    skipped: TaskResult | None = None  # the task's final result when it does not open (condition false)
    items: list[LoopItem] | None = None  # a loop's items; None: not known before a run gets here
    unknown_item: LoopItem | None = None  # with items None: what the item stands for
    would_not_run: str = ""  # explain: why the tasks inside would not run (a false condition)


class Handlers(Protocol[T]):
    """What a walk does at each node; `T` is the handler set's own record of a task."""

    serial: bool  # True: one task at a time, in a deterministic order (explain); False: as ready (run)

    def component(self, name: str) -> ComponentSpec: ...

    def deployment(self) -> pipeline_spec_pb2.PipelineDeploymentConfig: ...

    def run_id(self) -> str: ...

    def should_start(self, scope: DagScope, key: str, *, upstream: frozenset[str], failed: bool) -> bool: ...

    def dag_state(self, *, failed: bool) -> str: ...

    def enter(self, node: Node) -> T: ...

    def failed(self, task: T, error: str) -> TaskResult: ...

    async def container(self, task: T) -> TaskResult: ...

    async def importer(self, task: T) -> TaskResult: ...

    def open_dag(self, task: T) -> Opened: ...

    def close_dag(self, task: T, opened: Opened, child: DagScope, state: str) -> TaskResult: ...

    def open_loop(self, task: T) -> Opened: ...

    async def run_iterations(
        self, task: T, opened: Opened, calls: list[Callable[[], Awaitable[str]]]
    ) -> list[str]: ...

    def open_iteration(self, task: T, opened: Opened, scope: DagScope, *, index: int, count: int) -> int: ...

    def close_iteration(self, task: T, scope: DagScope, state: str) -> None: ...

    def close_loop(
        self, task: T, opened: Opened, iterations: list[DagScope] | None, states: list[str]
    ) -> TaskResult: ...


async def walk_dag(handlers: Handlers[Any], scope: DagScope, *, retry: RetryPolicy | None = None) -> str:
    """Every task of a DAG in dependency order (in parallel where independent, unless serial); its state."""
    tasks = scope.component.dag.tasks
    graph = {key: task_dependencies(spec) & set(tasks) for key, spec in tasks.items()}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    running: dict[asyncio.Task[TaskResult], str] = {}
    failed = False
    while sorter.is_active():
        for key in sorted(sorter.get_ready()):
            if not handlers.should_start(scope, key, upstream=graph[key], failed=failed):
                scope.results[key] = TaskResult(task_key=key, state=NOT_RUN)
                sorter.done(key)
            elif handlers.serial:
                result = await walk_task(handlers, scope, key, retry=retry)
                scope.results[key] = result
                failed = failed or result.failed
                sorter.done(key)
            else:
                running[asyncio.create_task(walk_task(handlers, scope, key, retry=retry))] = key
        if not running:
            continue
        finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for done in finished:
            key = running.pop(done)
            result = done.result()
            scope.results[key] = result
            failed = failed or result.failed
            sorter.done(key)
    return handlers.dag_state(failed=failed)


async def walk_task(
    handlers: Handlers[Any], scope: DagScope, key: str, *, retry: RetryPolicy | None = None
) -> TaskResult:
    """One task by the kind of its component; a resolution error fails just this task."""
    spec = scope.component.dag.tasks[key]
    component = handlers.component(spec.component_ref.name)
    node = Node(
        scope=scope,
        key=key,
        spec=spec,
        component=component,
        kind=node_kind(spec, component, handlers.deployment()),
        retry=spec.retry_policy if spec.HasField("retry_policy") else retry,
    )
    task = handlers.enter(node)
    try:
        if node.kind == CONTAINER:
            return await handlers.container(task)
        if node.kind == IMPORTER:
            return await handlers.importer(task)
        if node.kind == DAG:
            return await _walk_sub_dag(handlers, task, node)
        return await _walk_loop(handlers, task, node)
    except ResolutionError as exc:
        error = ResolutionError(
            exc.message, run_id=handlers.run_id(), task=key, iteration=scope.iteration_index
        )
        return handlers.failed(task, str(error))


async def _walk_sub_dag(handlers: Handlers[T], task: T, node: Node) -> TaskResult:
    opened = handlers.open_dag(task)
    if opened.skipped is not None:
        return opened.skipped
    child = _inner_scope(node, opened)
    child.artifacts = opened.resolved.artifacts
    child.nulled_by_driver = opened.resolved.nulled_by_driver
    state = await walk_dag(handlers, child, retry=node.retry)
    return handlers.close_dag(task, opened, child, state)


async def _walk_loop(handlers: Handlers[T], task: T, node: Node) -> TaskResult:
    opened = handlers.open_loop(task)
    if opened.skipped is not None:
        return opened.skipped
    loop_scope = _inner_scope(node, opened)  # its artifacts go to each iteration's scope
    if opened.items is None:  # explain only: the body once, its item a stand-in, at no index
        assert opened.unknown_item is not None
        body = iteration_scope(
            loop_scope,
            index=0,
            item=opened.unknown_item,
            spec=node.spec,
            artifacts=opened.resolved.artifacts,
        )
        body.execution_id = handlers.open_iteration(task, opened, body, index=0, count=0)
        body.iteration_index, body.iterations = None, loop_scope.iterations
        body.place = labels.iteration_label(loop_scope.place, "?")
        await walk_dag(handlers, body, retry=node.retry)
        return handlers.close_loop(task, opened, None, [])
    count = len(opened.items)
    iterations = [
        iteration_scope(
            loop_scope, index=i, item=item, spec=node.spec, artifacts=opened.resolved.artifacts
        )
        for i, item in enumerate(opened.items)
    ]

    def call(scope: DagScope) -> Callable[[], Awaitable[str]]:
        return lambda: _walk_iteration(handlers, task, opened, scope, count=count, retry=node.retry)

    states = await handlers.run_iterations(task, opened, [call(scope) for scope in iterations])
    return handlers.close_loop(task, opened, iterations, states)


def _inner_scope(node: Node, opened: Opened) -> DagScope:
    """The scope of the DAG a sub-DAG or loop task opens: its execution, its inputs, its place."""
    return DagScope(
        execution_id=opened.execution_id,
        component=node.component,
        component_name=node.spec.component_ref.name,
        task_path=node.task_path,
        place=labels.child_label(node.scope.place, node.key),
        parameters=opened.resolved.parameters,
        iterations=node.scope.iterations,
        would_not_run=node.scope.would_not_run or opened.would_not_run,
    )


async def _walk_iteration(
    handlers: Handlers[T], task: T, opened: Opened, scope: DagScope, *, count: int, retry: RetryPolicy | None
) -> str:
    assert scope.iteration_index is not None
    scope.execution_id = handlers.open_iteration(
        task, opened, scope, index=scope.iteration_index, count=count
    )
    state = await walk_dag(handlers, scope, retry=retry)
    handlers.close_iteration(task, scope, state)
    return state


def iteration_scope(
    loop_scope: DagScope,
    *,
    index: int,
    item: LoopItem,
    spec: TaskSpec,
    artifacts: dict[str, list[Artifact]],
) -> DagScope:
    """One iteration's scope: the loop's inputs and this item under the item input.

    The items input stays in scope: a task of the body may read the whole list, and an inner loop may iterate
    over it again (`ParallelFor(xs)` inside `ParallelFor(xs)`). The backend's iteration driver deletes it, so
    there such a task fails ("parent DAG does not have input parameter"); the SDK and kfp.local run it.
    The iteration's record leaves it out, as the backend's does (`iteration_inputs`). An artifact iterator's
    item is one artifact of the list, an input artifact of the body (the backend rejects such a loop)."""
    parameters, artifacts = dict(loop_scope.parameters), dict(artifacts)
    if isinstance(item, Artifact):
        artifacts[spec.artifact_iterator.item_input] = [item]
    else:
        parameters[spec.parameter_iterator.item_input] = item
    return DagScope(
        execution_id=-1,
        component=loop_scope.component,
        component_name=loop_scope.component_name,
        task_path=loop_scope.task_path,
        parameters=parameters,
        artifacts=artifacts,
        iteration_index=index,
        place=labels.iteration_label(loop_scope.place, index),
        iterations=(*loop_scope.iterations, index),
        would_not_run=loop_scope.would_not_run,
    )


def iteration_inputs(scope: DagScope, spec: TaskSpec) -> dict[str, struct_pb2.Value]:
    """The inputs an iteration's execution records: its scope without the loop's items, as the backend records
    them (the whole list in every iteration would make a wide loop's record grow as its width squared)."""
    items_input = spec.parameter_iterator.items.input_parameter
    return {k: v for k, v in scope.parameters.items() if k != items_input}


def iteration_artifacts(scope: DagScope, spec: TaskSpec) -> dict[str, list[Artifact]]:
    """The input artifacts an iteration's execution records: without an artifact loop's list, as above."""
    items_input = spec.artifact_iterator.items.input_artifact
    return {k: v for k, v in scope.artifacts.items() if k != items_input}


def loop_unchecked_inputs(spec: TaskSpec) -> frozenset[str]:
    """Inputs of a loop task that are not type-checked: the item (not resolved on the loop task), and the
    items, which the SDK declares for a loop over a sub-field (`item.subs`) with the field's element type."""
    iterator = spec.parameter_iterator
    names = {iterator.item_input, iterator.items.input_parameter, spec.artifact_iterator.item_input}
    return frozenset(names - {""})


def loop_items(spec: TaskSpec, resolved: ResolvedInputs) -> list[LoopItem]:
    """What a loop iterates over: the artifacts of its items input (an artifact iterator), else the values of
    its raw list or of its items input (a JSON string is parsed)."""
    if spec.HasField("artifact_iterator"):
        name = spec.artifact_iterator.items.input_artifact
        if name not in resolved.artifacts:
            raise ResolutionError(f"loop items input artifact {name!r} was not resolved")
        return list(resolved.artifacts[name])
    return list(_parameter_items(spec, resolved.parameters))


def _parameter_items(spec: TaskSpec, parameters: dict[str, struct_pb2.Value]) -> list[struct_pb2.Value]:
    iterator = spec.parameter_iterator
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
