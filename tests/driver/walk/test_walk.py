"""The one walk (driver/walk/walk.py) driven by a recording handler set, in process: order, kinds, loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf import json_format, struct_pb2

from driver.walk.resolve import ResolvedInputs
from driver.walk.state import DagScope, TaskResult
from driver.walk.walk import Node, Opened, iteration_artifacts, iteration_scope, loop_items, walk_dag
from ledger.model import Artifact
from spec import values
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from tests.driver.specs import task_spec, value

PIPELINE = {
    "pipelineInfo": {"name": "p"},
    "deploymentSpec": {"executors": {"exec-c": {"container": {"image": "x"}}, "exec-i": {"importer": {}}}},
    "components": {
        "comp-c": {"executorLabel": "exec-c"},
        "comp-i": {"executorLabel": "exec-i"},
        "comp-body": {
            "dag": {"tasks": {"inner": {"componentRef": {"name": "comp-c"}, "taskInfo": {"name": "inner"}}}}
        },
    },
    "root": {
        "dag": {
            "tasks": {
                "b": {"componentRef": {"name": "comp-c"}, "dependentTasks": ["a"]},
                "a": {"componentRef": {"name": "comp-i"}},
                "loop": {
                    "componentRef": {"name": "comp-body"},
                    "dependentTasks": ["b"],
                    "parameterIterator": {"items": {"raw": "[10, 20]"}, "itemInput": "item"},
                },
                "bad": {"componentRef": {"name": "comp-c"}},
            }
        }
    },
}


class Recorder:
    """A handler set that records what the walk asks of it; `bad` fails to resolve."""

    serial = True

    def __init__(self) -> None:
        self.spec = json_format.ParseDict(PIPELINE, pipeline_spec_pb2.PipelineSpec())
        self.config = json_format.ParseDict(
            PIPELINE["deploymentSpec"], pipeline_spec_pb2.PipelineDeploymentConfig()
        )
        self.seen: list[str] = []

    def component(self, name: str) -> pipeline_spec_pb2.ComponentSpec:
        return self.spec.root if name == "root" else self.spec.components[name]

    def deployment(self) -> pipeline_spec_pb2.PipelineDeploymentConfig:
        return self.config

    def run_id(self) -> str:
        return "r"

    def should_start(self, scope: DagScope, key: str, *, upstream: frozenset[str], failed: bool) -> bool:
        return True

    def dag_state(self, *, failed: bool) -> str:
        return "FAILED" if failed else "COMPLETE"

    def enter(self, node: Node) -> Node:
        where = "/".join(node.task_path) + "".join(f"[{i}]" for i in node.scope.iterations)
        self.seen.append(f"{node.kind} {where}")
        return node

    def failed(self, node: Node, error: str) -> TaskResult:
        self.seen.append(f"failed {error}")
        return TaskResult(task_key=node.key, state="FAILED", error=error)

    async def container(self, node: Node) -> TaskResult:
        if node.key == "bad":
            raise ResolutionError("cannot resolve")
        item = node.scope.parameters.get("item")
        if item is not None:
            self.seen.append(f"  item {values.value_to_python(item)}")
        return TaskResult(task_key=node.key, state="COMPLETE")

    async def importer(self, node: Node) -> TaskResult:
        return TaskResult(task_key=node.key, state="COMPLETE")

    def open_dag(self, node: Node) -> Opened:
        return Opened(resolved=ResolvedInputs(), execution_id=2)

    def close_dag(self, node: Node, opened: Opened, child: DagScope, state: str) -> TaskResult:
        return TaskResult(task_key=node.key, state=state)

    def open_loop(self, node: Node) -> Opened:
        items = loop_items(node.spec, ResolvedInputs())
        return Opened(resolved=ResolvedInputs(), execution_id=3, items=items)

    async def run_iterations(
        self, node: Node, opened: Opened, calls: list[Callable[[], Awaitable[str]]]
    ) -> list[str]:
        return [await call() for call in calls]

    def open_iteration(self, node: Node, opened: Opened, scope: DagScope, *, index: int, count: int) -> int:
        self.seen.append(f"  iteration {index} of {count}")
        return 10 + index

    def close_iteration(self, node: Node, scope: DagScope, state: str) -> None:
        return None

    def close_loop(self, node: Node, opened: Opened, iterations: Any, states: list[str]) -> TaskResult:
        return TaskResult(task_key=node.key, state="COMPLETE", iterations=iterations)


def walk() -> tuple[str, list[str]]:
    handlers = Recorder()
    root = DagScope(execution_id=1, component=handlers.spec.root, component_name="root", task_path=())
    state = asyncio.run(walk_dag(handlers, root))
    return state, handlers.seen


def test_the_walk_visits_tasks_in_dependency_order_ties_by_key_with_their_kinds() -> None:
    _, seen = walk()

    assert [line for line in seen if not line.startswith(" ") and not line.startswith("failed")] == [
        "importer a",
        "container bad",
        "container b",
        "loop loop",
        "container loop/inner[0]",
        "container loop/inner[1]",
    ]


def test_each_loop_iteration_gets_its_own_scope_with_its_item() -> None:
    _, seen = walk()

    start = seen.index("loop loop")
    assert seen[start + 1 :] == [
        "  iteration 0 of 2",
        "container loop/inner[0]",
        "  item 10",
        "  iteration 1 of 2",
        "container loop/inner[1]",
        "  item 20",
    ]


def test_a_resolution_error_fails_that_task_named_with_run_and_task() -> None:
    state, seen = walk()

    assert state == "FAILED"
    assert any(
        line.startswith("failed ") and "'bad'" in line and "cannot resolve" in line for line in seen
    ), seen


def test_loop_items_parse_a_json_string_and_treat_anything_else_as_no_items() -> None:
    spec = task_spec({"parameterIterator": {"items": {"inputParameter": "xs"}, "itemInput": "x"}})

    def items(given: struct_pb2.Value) -> list[object]:
        found = loop_items(spec, ResolvedInputs(parameters={"xs": given}))
        return [values.value_to_python(v) for v in found if isinstance(v, struct_pb2.Value)]

    assert items(value("[1, 2]")) == [1, 2]
    assert items(value("not json")) == []
    assert items(value(3)) == []


def test_an_artifact_loop_iterates_over_its_list_and_each_iteration_gets_one_artifact() -> None:
    spec = task_spec({"artifactIterator": {"items": {"inputArtifact": "ds"}, "itemInput": "d"}})
    listed = [
        Artifact(id=i, type="system.Dataset", uri=f"/d{i}", state="LIVE", properties={}, create_time=0.0)
        for i in (1, 2)
    ]

    assert loop_items(spec, ResolvedInputs(artifacts={"ds": listed})) == listed
    loop_scope = DagScope(
        execution_id=1, component=pipeline_spec_pb2.ComponentSpec(), component_name="c", task_path=("l",),
        artifacts={"ds": listed},
    )
    scope = iteration_scope(loop_scope, index=1, item=listed[1], spec=spec, artifacts=loop_scope.artifacts)
    assert scope.artifacts == {"ds": listed, "d": [listed[1]]}
    assert iteration_artifacts(scope, spec) == {"d": [listed[1]]}
