"""dsl.ParallelFor end to end: items from every source, sub-variables, nesting, zero items, parallelism."""

from __future__ import annotations

from pathlib import Path

from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, Execution
from tests.e2e.finished_run import FinishedRun, RunPipeline


def _received(run: FinishedRun, tag: str, *fields: str) -> list[tuple[object, ...]]:
    """What the iterations of one loop received, sorted (iterations run in parallel, in any order)."""
    return sorted(tuple(p[f] for f in fields) for p in run.probes(tag))


def _loop_and_iterations(run: FinishedRun, loop_task: str) -> tuple[Execution, list[Execution]]:
    loop, *iterations = run.executions(loop_task, type=DAG_EXECUTION)
    return loop, iterations


def test_parallel_for_iterates_over_items_from_every_source(run_pipeline: RunPipeline, lpl_home: Path) -> None:
    run = run_pipeline("loops", home=lpl_home)

    assert run.returncode == 0, run.output
    assert _received(run, "raw-int", "number", "number_type") == [(1, "int"), (2, "int"), (3, "int")]
    # item.field sub-variables are STRING-typed by the SDK; numbers and bools arrive as the backend's text.
    assert _received(run, "raw-dict", "label", "size", "ratio", "ok") == [
        ("a", "1", "0.5", "true"), ("b", "2", "1.5", "false")]
    assert _received(run, "param", "text") == [("ann",), ("bob",)]
    assert _received(run, "upstream", "number", "number_type") == [(4, "int"), (5, "int"), (6, "int")]
    assert _received(run, "named-output", "text") == [("x",), ("y",)]
    assert run.probes("zero-items") == []


def test_nested_loops_run_every_inner_iteration_of_every_outer_one(run_pipeline: RunPipeline, lpl_home: Path) -> None:
    run = run_pipeline("loops", home=lpl_home)

    assert run.returncode == 0, run.output
    assert _received(run, "nested-raw", "number", "text") == [(10, "p"), (10, "q"), (20, "p"), (20, "q")]
    # The inner loop iterates over the outer item's sub-list (kfp-backend.md A1: the backend may fail here).
    assert _received(run, "outer-of-sub-list", "text") == [("g1",), ("g2",)]
    assert _received(run, "nested-sub-list", "text") == [("m1",), ("m2",), ("m3",)]
    outer, outer_iterations = _loop_and_iterations(run, "for-loop-10")
    inner_loops = run.executions("for-loop-11", type=DAG_EXECUTION)
    counts = sorted(e.properties["iteration_count"] for e in inner_loops if e.iteration_index is None)
    assert counts == [1, 2]
    for inner in inner_loops:
        if inner.iteration_index is None:
            assert inner.parent_dag_id in {it.id for it in outer_iterations}


def test_loop_executions_record_iteration_index_and_count(run_pipeline: RunPipeline, lpl_home: Path) -> None:
    run = run_pipeline("loops", home=lpl_home)

    assert run.returncode == 0, run.output
    loop, iterations = _loop_and_iterations(run, "for-loop-2")
    assert (loop.state, loop.iteration_index, loop.properties["iteration_count"]) == (COMPLETE, None, 3)
    assert loop.parent_dag_id == run.root().id
    assert sorted(it.iteration_index for it in iterations) == [0, 1, 2]
    for iteration in iterations:
        assert iteration.parent_dag_id == loop.id
        assert iteration.state == COMPLETE
        assert iteration.properties["iteration_count"] == 3
        (task,) = run.children(iteration)
        assert (task.type, task.task_name, task.state) == (CONTAINER_EXECUTION, "show", COMPLETE)
        assert task.properties["inputs"]["number"] == iteration.iteration_index + 1
    # A loop over zero items completes with no iteration under it.
    empty, no_iterations = _loop_and_iterations(run, "for-loop-8")
    assert (empty.state, empty.properties["iteration_count"], no_iterations) == (COMPLETE, 0, [])
    assert run.children(empty) == []


def test_parallelism_caps_the_iterations_running_at_once(run_pipeline: RunPipeline, lpl_home: Path) -> None:
    run = run_pipeline("loop_parallelism", "--parallelism", "6", home=lpl_home)

    assert run.returncode == 0, run.output
    naps = run.executions("nap")
    assert len(naps) == 6
    spans = [(a["start"], a["end"]) for e in naps for a in e.attempts]
    assert len(spans) == 6
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    running, most = 0, 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert most <= 2
