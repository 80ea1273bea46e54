"""Design decision 10 end to end: what the SDK compiles and kfp.local runs but the KFP backend of today
rejects or breaks runs here as the SDK intends, and the run and `--explain` say that the backend would not
(`spec/backend_differences.py`; `docs/conformance.md`, "Where the backend and the SDK part ways")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import COMPLETE, DAG_EXECUTION, Execution
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


def _received(run: FinishedRun, tag: str, *fields: str) -> list[tuple[object, ...]]:
    return sorted(tuple(json.dumps(p[f]) if isinstance(p[f], list) else p[f] for f in fields)
                  for p in run.probes(tag))


def _at(run: FinishedRun, task_path: str) -> list[Execution]:
    return [e for e in run.executions() if e.properties.get("task_path") == task_path]


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


def test_the_run_lists_the_lists_kept_in_scope_as_differences_without_a_rejection(
    same_list_run: FinishedRun,
) -> None:
    assert "rejects this pipeline" not in same_list_run.output
    closing = same_list_run.output[same_list_run.output.index("on the KFP backend of today"):]
    assert "for-loop-1/for-loop-2: reads the list its enclosing ParallelFor iterates over" in closing
    assert "for-loop-1/show: reads the list" in closing
    assert "(docs/conformance.md S1)" in closing


# --- a ParallelFor over a list of artifacts -------------------------------------------------------------


@pytest.fixture(scope="module")
def artifact_loop_run(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    run = run_driver(compile_pipeline("artifact_list_loop"), home=tmp_path_factory.mktemp("artifact-loop"))
    assert run.returncode == 0, run.output
    return run


def test_each_iteration_of_an_artifact_loop_gets_one_artifact_of_the_list(
    artifact_loop_run: FinishedRun,
) -> None:
    run = artifact_loop_run
    assert _received(run, "root", "text", "meta") == [("a", "a"), ("b", "b"), ("c", "c")]
    by_label = {p["_label"]: p["text"] for p in run.probes("root")}
    assert by_label == {"for-loop-1[0]/upper": "a", "for-loop-1[1]/upper": "b", "for-loop-1[2]/upper": "c"}
    (loop,) = [e for e in _at(run, "for-loop-1") if e.iteration_index is None]
    assert (loop.state, loop.properties["iteration_count"]) == (COMPLETE, 3)


def test_collected_outputs_of_an_artifact_loop_reach_the_task_downstream_in_order(
    artifact_loop_run: FinishedRun,
) -> None:
    assert artifact_loop_run.probe("join")["texts"] == ["A", "B", "C"]


def test_artifact_loops_nest_in_a_parameter_loop_and_in_a_loop_over_the_same_list(
    artifact_loop_run: FinishedRun,
) -> None:
    run = artifact_loop_run
    assert sorted(p["text"] for p in run.probes("nested")) == ["r1-a", "r1-b", "r1-c", "r2-a", "r2-b", "r2-c"]
    assert _received(run, "outer-same", "text") == [("a",), ("b",), ("c",)]
    assert sorted(p["text"] for p in run.probes("inner-same")) == ["a"] * 3 + ["b"] * 3 + ["c"] * 3


def test_an_iteration_records_its_one_artifact_as_input(artifact_loop_run: FinishedRun) -> None:
    run = artifact_loop_run
    iterations = [e for e in _at(run, "for-loop-1") if e.iteration_index is not None]
    assert len(iterations) == 3
    inputs = {e.iteration_index: run.view.artifacts_of(e.id, "INPUT") for e in iterations}
    assert sorted(inputs) == [0, 1, 2]
    for index, found in inputs.items():
        (artifact,) = found.pop("pipelinechannel--make-all-Output-loop-item")
        assert (found, artifact.properties.get("text")) == ({}, "abc"[index])


def test_the_run_warns_once_that_the_backend_rejects_it_and_lists_each_loop(
    artifact_loop_run: FinishedRun,
) -> None:
    output = artifact_loop_run.output
    warnings = [line for line in output.splitlines() if "rejects this pipeline at submission" in line]
    assert len(warnings) == 1, output
    assert "warning:" in warnings[0] and "docs/conformance.md S2" in warnings[0]
    closing = output[output.index("on the KFP backend of today"):]
    for loop in ("for-loop-1", "for-loop-2/for-loop-3", "for-loop-4", "for-loop-4/for-loop-5"):
        assert f"  {loop}: a ParallelFor over a list of artifacts" in closing


def test_explain_lists_the_differences_in_text_and_json_and_expands_the_artifact_loop(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    package = str(compile_pipeline("artifact_list_loop"))
    as_json = run_cli("driver", package, "--explain", "--json", home=lpl_home)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    rows = {(d["task"], d["row"], d["rejected"]) for d in document["backendDifferences"]}
    assert ("for-loop-1", "S2", True) in rows and ("for-loop-4/for-loop-5", "S2", True) in rows
    assert all(d["reference"] == f"docs/conformance.md {d['row']}" for d in document["backendDifferences"])
    uppers = [e for e in document["tasks"] if e["path"] == "for-loop-1/upper"]
    assert [e["label"] for e in uppers] == [f"for-loop-1[{i}]/upper" for i in range(3)]
    assert [u["reference"] for u in uppers[2]["unresolved"]] == [
        "{{tasks['make-all/for-loop-1[2]/make'].outputs.artifacts['data']}}"]
    text = run_cli("driver", package, "--explain", "--task", "join", home=lpl_home)
    assert text.returncode == 0, text.stderr
    assert "on the KFP backend of today this pipeline would differ:" in text.stdout
    assert "=> the KFP backend of today rejects this pipeline at submission" in text.stdout


def test_explain_from_the_run_gives_each_iteration_its_recorded_artifact(
    artifact_loop_run: FinishedRun, run_cli: RunCli
) -> None:
    run = artifact_loop_run
    completed = run_cli("driver", "--explain", "--json", "--from-run", run.run_id,
                        "--task", "for-loop-1/upper", home=run.home)
    assert completed.returncode == 0, completed.stderr
    entries = json.loads(completed.stdout)["tasks"]
    uris = [e["executorInput"]["inputs"]["artifacts"]["data"]["artifacts"][0]["uri"] for e in entries]
    assert [e["unresolved"] for e in entries] == [[], [], []]
    by_uri = {a.uri: a for a in run.view.artifacts.values()}
    assert [by_uri[uri].properties.get("text") for uri in uris] == ["a", "b", "c"]


def test_explain_shows_an_artifact_loop_over_a_list_not_known_yet_once_with_its_item_standing_in(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    # With `texts` required and given no value, the sub-pipeline's loop has no known items, so the list the
    # artifact loop iterates over is one stand-in: its body is shown once, at index `?`.
    spec = json.loads(compile_pipeline("artifact_list_loop").read_text())
    spec["root"]["inputDefinitions"]["parameters"]["texts"] = {"parameterType": "LIST"}
    package = tmp_path / "texts-required.json"
    package.write_text(json.dumps(spec))

    completed = run_cli("driver", str(package), "--explain", "--json", home=lpl_home)

    assert completed.returncode == 0, completed.stderr
    entries = {e["label"]: e for e in json.loads(completed.stdout)["tasks"]}
    assert entries["for-loop-1"]["items"] is None
    body = entries["for-loop-1[?]/upper"]
    assert [u["reference"] for u in body["unresolved"]] == ["{{tasks['for-loop-1'].item}}"]
    data = body["executorInput"]["inputs"]["artifacts"]["data"]["artifacts"][0]
    assert (data["uri"], data.get("name", ""), data["type"]) == (
        "{{tasks['for-loop-1'].item}}", "", {"schemaTitle": "system.Dataset"})
