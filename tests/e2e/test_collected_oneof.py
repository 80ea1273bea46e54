"""dsl.Collected and dsl.OneOf end to end: what the consumer receives, in which order, from which branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import CANCELED, COMPLETE, FAILED
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def collected_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(compile_pipeline("collected"), home=tmp_path_factory.mktemp("collected-home"))
    assert run.returncode == 0, run.output
    return run


def test_collected_parameters_arrive_as_ints_in_iteration_order(collected_run: FinishedRun) -> None:
    received = collected_run.probe("ints")
    assert received["numbers"] == [1, 4, 9]
    assert received["types"] == ["int", "int", "int"]
    assert collected_run.execution("total").properties["inputs"]["numbers"] == [1, 4, 9]
    # Also through a nested pipeline whose output is a Collected.
    assert collected_run.probe("from-nested-pipeline")["numbers"] == [16, 25]


def test_inside_an_iteration_a_task_gets_the_output_of_the_same_iteration(collected_run: FinishedRun) -> None:
    received = sorted((p["x"], p["squared"]) for p in collected_run.probes("same-iteration"))
    assert received == [(1, 1), (2, 4), (3, 9)]


def test_collected_artifacts_arrive_in_iteration_order(collected_run: FinishedRun) -> None:
    run = collected_run
    received = run.probe("artifacts")
    assert received["texts"] == ["first", "second", "third"]
    assert received["metadata"] == ["first", "second", "third"]
    assert received["paths_are_uris"] is True
    by_index = {}
    for writer in run.executions("write-text"):
        parent = run.view.executions[writer.parent_dag_id or 0]
        (artifact,) = run.view.artifacts_of(writer.id, "OUTPUT")["out"]
        by_index[parent.iteration_index] = artifact.id
    consumed = run.view.artifacts_of(run.execution_at("read-all").id, "INPUT")["datasets"]
    assert [a.id for a in consumed] == [by_index[0], by_index[1], by_index[2]]


def test_a_collected_list_of_artifacts_passed_into_a_nested_pipeline_stays_a_list(
    collected_run: FinishedRun,
) -> None:
    # The backend's A9 keeps one artifact per input name of a DAG; here the nested task gets all three.
    assert collected_run.probe("nested-artifacts")["texts"] == ["first", "second", "third"]
    view = collected_run.view
    nested = collected_run.execution_at("read-in-nested/read-all")
    direct = collected_run.execution_at("read-all")
    assert [a.id for a in view.artifacts_of(nested.id, "INPUT")["datasets"]] == [
        a.id for a in view.artifacts_of(direct.id, "INPUT")["datasets"]]


def test_collected_over_a_loop_with_zero_iterations_is_an_empty_list(collected_run: FinishedRun) -> None:
    assert collected_run.probe("empty-ints")["numbers"] == []
    assert collected_run.execution("total-2").properties["inputs"]["numbers"] == []
    # An empty artifact list reaches the ExecutorInput; the SDK's executor hands it to the function as None.
    assert collected_run.probe("empty-artifacts")["received_none"] is True
    assert collected_run.execution("read-all-2").state == COMPLETE


@pytest.mark.parametrize(("mode", "branch"), [("a", "a"), ("b", "b"), ("other", "c")])
def test_oneof_passes_on_the_output_of_the_branch_that_ran(
    compile_pipeline: CompilePipeline, lpl_home: Path, mode: str, branch: str
) -> None:
    run = run_driver(compile_pipeline("oneof"), "-p", f"mode={mode}", home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.probe("parameter")["text"] == f"text-{branch}"
    assert run.probe("artifact")["content"] == f"data-{branch}"
    states = {name: run.execution(name).state for name in ("condition-2", "condition-3", "condition-4")}
    taken = {"a": "condition-2", "b": "condition-3", "c": "condition-4"}[branch]
    assert states == {name: COMPLETE if name == taken else CANCELED for name in states}
    assert run.execution("condition-branches-1").state == COMPLETE


def test_oneof_with_no_completed_branch_fails_the_consumer(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    pipeline_spec = json.loads(compile_pipeline("oneof").read_text())
    # Make the Else branch false too: with mode=other no branch runs at all.
    pipeline_spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]["condition-4"]["triggerPolicy"][
        "condition"] = "false"
    edited = tmp_path / "oneof-no-branch.json"
    edited.write_text(json.dumps(pipeline_spec))

    run = run_driver(edited, "-p", "mode=other", home=lpl_home)

    assert run.returncode == 1, run.output
    assert run.probes_seen == []
    assert {run.execution(n).state for n in ("condition-2", "condition-3", "condition-4")} == {CANCELED}
    consumer = run.execution("consume")
    assert consumer.state == FAILED
    assert "no branch completed" in consumer.properties["error"]
