"""dsl.ParallelFor end to end: items from every source, sub-variables, nesting, zero items, parallelism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import CANCELED, COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, Execution
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def loops_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    """One run of tests/pipelines/loops.py, shared by the tests that read it."""
    run = run_driver(compile_pipeline("loops"), home=tmp_path_factory.mktemp("loops-home"))
    assert run.returncode == 0, run.output
    return run


def _received(run: FinishedRun, tag: str, *fields: str) -> list[tuple[object, ...]]:
    """What the iterations of one loop received, sorted (iterations run in parallel, in any order)."""
    return sorted(tuple(p[f] for f in fields) for p in run.probes(tag))


def _loop_and_iterations(run: FinishedRun, loop_task: str) -> tuple[Execution, list[Execution]]:
    """The loop DAG execution and its iteration DAG executions (the ones with an iteration index)."""
    executions = run.executions(loop_task, type=DAG_EXECUTION)
    (loop,) = [e for e in executions if e.iteration_index is None]
    return loop, [e for e in executions if e.iteration_index is not None]


def test_parallel_for_iterates_over_items_from_every_source(loops_run: FinishedRun) -> None:
    run = loops_run
    assert _received(run, "raw-int", "number", "number_type") == [(1, "int"), (2, "int"), (3, "int")]
    # item.field sub-variables are STRING-typed by the SDK; numbers and bools arrive as the backend's text.
    assert _received(run, "raw-dict", "label", "size", "ratio", "ok") == [
        ("a", "1", "0.5", "true"), ("b", "2", "1.5", "false")]
    whole = sorted((p["data"]["label"], p["data"], p["types"]) for p in run.probes("raw-dict-whole"))
    assert [(data, types) for _, data, types in whole] == [
        ({"label": "a", "size": 1, "ratio": 0.5, "ok": True},
         {"label": "str", "size": "int", "ratio": "float", "ok": "bool"}),
        ({"label": "b", "size": 2, "ratio": 1.5, "ok": False},
         {"label": "str", "size": "int", "ratio": "float", "ok": "bool"}),
    ]
    assert _received(run, "param", "text") == [("ann",), ("bob",)]
    assert _received(run, "upstream", "number", "number_type") == [(4, "int"), (5, "int"), (6, "int")]
    assert _received(run, "named-output", "text") == [("x",), ("y",)]
    assert run.probes("zero-items") == []


def test_nested_loops_run_every_inner_iteration_of_every_outer_one(loops_run: FinishedRun) -> None:
    run = loops_run
    assert _received(run, "nested-raw", "number", "text") == [(10, "p"), (10, "q"), (20, "p"), (20, "q")]
    assert _received(run, "outer-of-sub-list", "text") == [("g1",), ("g2",)]
    # The inner loop iterates over the outer item's sub-list (the backend's A1 would fail it).
    assert _received(run, "nested-sub-list", "text") == [("m1",), ("m2",), ("m3",)]
    _, outer_iterations = _loop_and_iterations(run, "for-loop-10")
    inner_loops = [e for e in run.executions("for-loop-11") if e.iteration_index is None]
    assert sorted(e.properties["iteration_count"] for e in inner_loops) == [1, 2]
    assert {e.parent_dag_id for e in inner_loops} == {it.id for it in outer_iterations}


def test_loop_executions_record_iteration_index_and_count(loops_run: FinishedRun) -> None:
    run = loops_run
    loop, iterations = _loop_and_iterations(run, "for-loop-2")
    assert (loop.state, loop.properties["iteration_count"]) == (COMPLETE, 3)
    assert loop.parent_dag_id == run.root().id
    assert sorted(it.iteration_index for it in iterations) == [0, 1, 2]
    for iteration in iterations:
        assert iteration.parent_dag_id == loop.id
        assert iteration.state == COMPLETE
        assert iteration.properties["iteration_count"] == 3
        (task,) = run.children(iteration)
        assert (task.type, task.task_name, task.state) == (CONTAINER_EXECUTION, "show", COMPLETE)
        assert task.properties["inputs"]["number"] == iteration.properties["iteration_index"] + 1


def test_each_iteration_receives_its_item_and_not_the_items(loops_run: FinishedRun) -> None:
    loop, iterations = _loop_and_iterations(loops_run, "for-loop-5")
    assert loop.properties["inputs"] == {"pipelinechannel--names": ["ann", "bob"]}
    received = sorted((it.iteration_index, it.properties["inputs"]) for it in iterations)
    assert received == [(0, {"pipelinechannel--names-loop-item": "ann"}),
                        (1, {"pipelinechannel--names-loop-item": "bob"})]


def test_a_loop_over_zero_items_completes_with_no_iterations(loops_run: FinishedRun) -> None:
    empty, iterations = _loop_and_iterations(loops_run, "for-loop-8")
    assert (empty.state, empty.properties["iteration_count"], iterations) == (COMPLETE, 0, [])
    assert loops_run.children(empty) == []
    assert loops_run.root().state == COMPLETE


def test_a_condition_inside_a_loop_is_evaluated_per_iteration(loops_run: FinishedRun) -> None:
    assert _received(loops_run, "loop-condition", "number") == [(2,), (3,)]
    _, iterations = _loop_and_iterations(loops_run, "for-loop-13")
    by_index = {it.iteration_index: loops_run.children(it) for it in iterations}
    assert [(c.task_name, c.state) for c in by_index[0]] == [("condition-14", CANCELED)]
    assert [(c.task_name, c.state) for c in by_index[1]] == [("condition-14", COMPLETE)]
    assert all(it.state == COMPLETE for it in iterations)


def test_a_loop_whose_condition_is_false_creates_no_iterations(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    # The SDK puts conditions on condition-N DAGs, never on a loop task; the IR allows it, so edit one in.
    pipeline_spec = json.loads(compile_pipeline("loop_parallelism").read_text())
    (loop_key,) = pipeline_spec["root"]["dag"]["tasks"]
    pipeline_spec["root"]["dag"]["tasks"][loop_key]["triggerPolicy"] = {"condition": "1 > 2"}
    edited = tmp_path / "conditional-loop.json"
    edited.write_text(json.dumps(pipeline_spec))

    run = run_driver(edited, home=lpl_home)

    assert run.returncode == 0, run.output
    (loop,) = run.executions(loop_key)
    assert loop.state == CANCELED
    assert run.children(loop) == []
    assert run.executions("nap") == []


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    # An end sorts before a start at the same instant: touching spans do not overlap.
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_parallelism_caps_the_iterations_running_at_once(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    # --parallelism 6 leaves room for all six: only the loop's own limit of 2 may hold them back.
    run = run_driver(compile_pipeline("loop_parallelism"), "--parallelism", "6", home=lpl_home)

    assert run.returncode == 0, run.output
    naps = run.executions("nap")
    spans = [(float(a["start"]), float(a["end"])) for e in naps for a in e.attempts]
    assert len(spans) == 6
    assert _most_at_once(spans) <= 2
