"""Design decision 10 end to end: what the SDK compiles and kfp.local runs but the KFP backend of today
rejects or breaks runs here as the SDK intends, and the run and `--explain` say that the backend would not
(`spec/backend_differences.py`; `docs/conformance.md`, "Where the backend and the SDK part ways")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import COMPLETE, DAG_EXECUTION
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


def _received(run: FinishedRun, tag: str, *fields: str) -> list[tuple[object, ...]]:
    return sorted(tuple(json.dumps(p[f]) if isinstance(p[f], list) else p[f] for f in fields)
                  for p in run.probes(tag))


# --- an inner loop over the list its outer loop iterates ------------------------------------------------


@pytest.fixture(scope="module")
def same_list_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(compile_pipeline("loop_over_same_list"), home=tmp_path_factory.mktemp("same-list"))
    assert run.returncode == 0, run.output
    return run


def test_an_inner_loop_over_the_outer_loops_list_runs_every_pair(same_list_run: FinishedRun) -> None:
    run = same_list_run
    assert _received(run, "outer", "outer", "whole") == [("a", '["a", "b"]'), ("b", '["a", "b"]')]
    inner = sorted(run.probes("inner"), key=lambda p: p["_label"])
    assert [p["inner"] for p in inner] == ["a", "b", "a", "b"]
    assert sorted(p["_label"] for p in run.probes("inner")) == [
        "for-loop-1[0]/for-loop-2[0]/show-2", "for-loop-1[0]/for-loop-2[1]/show-2",
        "for-loop-1[1]/for-loop-2[0]/show-2", "for-loop-1[1]/for-loop-2[1]/show-2"]
    assert _received(run, "outer-row", "outer") == [("x",), ("y",)]
    assert sorted(p["inner"] for p in run.probes("inner-row")) == ["x", "x", "y", "y"]
    assert all(e.state == COMPLETE for e in run.executions(type=DAG_EXECUTION))


def test_an_iteration_records_its_item_and_not_the_list_it_keeps_in_scope(same_list_run: FinishedRun) -> None:
    iterations = [e for e in same_list_run.executions("for-loop-1") if e.iteration_index is not None]
    assert sorted((e.iteration_index, e.properties["inputs"]) for e in iterations) == [
        (0, {"pipelinechannel--letters-loop-item": "a"}), (1, {"pipelinechannel--letters-loop-item": "b"})]
    inner_loops = [e for e in same_list_run.executions("for-loop-2") if e.iteration_index is None]
    assert [e.properties["inputs"] for e in inner_loops] == [{"pipelinechannel--letters": ["a", "b"]}] * 2


def test_explain_expands_the_inner_loop_of_every_outer_iteration(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    completed = run_cli("driver", str(compile_pipeline("loop_over_same_list")), "--explain", "--json",
                        "--task", "show-2", home=lpl_home)
    assert completed.returncode == 0, completed.stderr
    entries = json.loads(completed.stdout)["tasks"]
    assert [(e["label"], e["executorInput"]["inputs"]["parameterValues"]["inner"]) for e in entries] == [
        ("for-loop-1[0]/for-loop-2[0]/show-2", "a"), ("for-loop-1[0]/for-loop-2[1]/show-2", "b"),
        ("for-loop-1[1]/for-loop-2[0]/show-2", "a"), ("for-loop-1[1]/for-loop-2[1]/show-2", "b")]
