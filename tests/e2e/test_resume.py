"""`--resume RUN_ID` end to end (tests/pipelines/resume_after_failure.py): a run fails in one loop iteration
while a marker file is missing; once it exists, resuming re-runs only what did not complete, under the same
run id, and refuses a different pipeline file, parameters and unknown runs."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.model import COMPLETE, DAG_EXECUTION, FAILED
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.e2e.recorded import tasks_by_path

RUN_ID = "flaky"
BEFORE_THE_FAILURE = ("step", "condition-1/step-2", "for-loop-3/check[0]")


@dataclass
class Resumed:
    failed: FinishedRun  # the first run, as it ended
    resumed: FinishedRun  # `--resume` after the marker was created
    again: FinishedRun  # `--resume` of the now complete run, giving the same pipeline file


def _resume(home: Path, *args: str) -> FinishedRun:
    completed = run_cli("driver", "--resume", RUN_ID, *args, home=home)
    return FinishedRun.read(run_id=RUN_ID, home=home, completed=completed)


@pytest.fixture(scope="module")
def package(compile_pipeline: CompilePipeline) -> Path:
    return compile_pipeline("resume_after_failure")


@pytest.fixture(scope="module")
def resumed(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Resumed:
    home = tmp_path_factory.mktemp("resume-home")
    marker = home.parent / "marker"
    failed = run_driver(package, "-p", f"marker={marker}", home=home, run_id=RUN_ID)
    assert failed.returncode == 1, failed.output
    marker.touch()
    resumed = _resume(home)
    again = _resume(home, str(package))
    return Resumed(failed=failed, resumed=resumed, again=again)


def test_the_first_run_failed_in_the_second_iteration_only(resumed: Resumed) -> None:
    tasks = tasks_by_path(resumed.failed)
    assert {path: e.state for path, e in tasks.items()} == {
        "step": COMPLETE,
        "condition-1/step-2": COMPLETE,
        "for-loop-3/check[0]": COMPLETE,
        "for-loop-3/check[1]": FAILED,
    }
    assert resumed.failed.view.state == FAILED


def test_resume_completes_the_run_under_the_same_run_id(resumed: Resumed) -> None:
    run = resumed.resumed
    assert run.returncode == 0, run.output
    assert run.view.state == COMPLETE
    assert run.root().id == resumed.failed.root().id
    assert run.root().state == COMPLETE
    assert run.probe("join")["items"] == ["x", "y"]


def test_completed_tasks_are_not_run_again(resumed: Resumed) -> None:
    run = resumed.resumed
    assert run.tags() == {"check-y", "join"}
    before = {e.id: e for e in resumed.failed.executions()}
    for label in ("step", "condition-1/step-2", "for-loop-3[0]/check"):
        assert f"[lpl] {label} already COMPLETE" in run.completed.stdout
    for execution in run.executions():
        if execution.id in before and execution.type != DAG_EXECUTION:
            # Not a single new attempt on anything recorded before the resume.
            assert execution.attempts == before[execution.id].attempts, execution.task_name


def test_the_failed_task_runs_again_as_a_new_execution(resumed: Resumed) -> None:
    run = resumed.resumed
    failed_id = tasks_by_path(resumed.failed)["for-loop-3/check[1]"].id
    checks = [e for e in run.executions("check") if e.properties.get("parent_iteration_index") == 1]
    assert [(e.id, e.state) for e in checks] == [(failed_id, FAILED), (checks[1].id, COMPLETE)]
    assert checks[1].properties["outputs"] == {"Output": "y"}
    assert len(checks[1].attempts) == 1


def test_dag_executions_are_taken_up_not_duplicated(resumed: Resumed) -> None:
    run = resumed.resumed
    dags = run.executions(type=DAG_EXECUTION)
    before = [e.id for e in resumed.failed.executions(type=DAG_EXECUTION)]
    assert [e.id for e in dags] == before
    assert {e.id: e.state for e in dags} == dict.fromkeys(before, COMPLETE)


def test_resuming_with_the_same_pipeline_file_is_accepted(resumed: Resumed) -> None:
    again = resumed.again
    assert again.returncode == 0, again.output
    assert again.tags() == set()  # everything had completed: nothing runs
    assert [e.id for e in again.executions()] == [e.id for e in resumed.resumed.executions()]
    assert again.view.state == COMPLETE


def _journal(run: FinishedRun) -> bytes:
    return (run.home / "ledger" / "runs" / f"{RUN_ID}.jsonl").read_bytes()


@pytest.fixture(scope="module")
def failed_run(package: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[FinishedRun, bytes]:
    """A failed run that the refusal tests try to resume, and its journal: none of them may change it."""
    home = tmp_path_factory.mktemp("refusals-home")
    failed = run_driver(package, "-p", f"marker={home / 'missing'}", home=home, run_id=RUN_ID)
    assert failed.returncode == 1, failed.output
    return failed, _journal(failed)


def _assert_refused(
    refused: subprocess.CompletedProcess[str], failed_run: tuple[FinishedRun, bytes], *, naming: str
) -> None:
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), refused.stderr
    assert naming in lines[0]
    assert not refused.stdout  # nothing started
    run, journal = failed_run
    assert _journal(run) == journal  # nothing recorded


def test_resuming_with_a_different_pipeline_file_is_refused(
    failed_run: tuple[FinishedRun, bytes], package: Path, tmp_path: Path
) -> None:
    spec = json.loads(package.read_text())
    spec["pipelineInfo"]["name"] = "another-pipeline"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(spec))
    refused = run_cli("driver", "--resume", RUN_ID, str(other), home=failed_run[0].home)
    _assert_refused(refused, failed_run, naming=str(other))
    assert "cannot continue run 'flaky'" in refused.stderr and "another-pipeline" in refused.stderr


def test_resuming_with_a_file_whose_inputs_do_not_fit_the_run_is_refused(
    failed_run: tuple[FinishedRun, bytes], package: Path, tmp_path: Path
) -> None:
    spec = json.loads(package.read_text())
    spec["root"]["inputDefinitions"]["parameters"]["extra"] = {"parameterType": "STRING"}
    other = tmp_path / "more-inputs.json"
    other.write_text(json.dumps(spec))
    refused = run_cli("driver", "--resume", RUN_ID, str(other), home=failed_run[0].home)
    _assert_refused(refused, failed_run, naming=str(other))
    assert "extra" in refused.stderr


def test_resuming_with_parameters_is_refused(failed_run: tuple[FinishedRun, bytes]) -> None:
    refused = run_cli("driver", "--resume", RUN_ID, "-p", "marker=/elsewhere", home=failed_run[0].home)
    _assert_refused(refused, failed_run, naming="-p")


def test_resuming_an_unknown_run_is_refused(failed_run: tuple[FinishedRun, bytes], tmp_path: Path) -> None:
    refused = run_cli("driver", "--resume", "no-such-run", home=failed_run[0].home)
    _assert_refused(refused, failed_run, naming="no-such-run")
    empty_home = tmp_path / "empty-home"
    refused = run_cli("driver", "--resume", RUN_ID, home=empty_home)
    _assert_refused(refused, failed_run, naming=RUN_ID)
    assert not (empty_home / "ledger").exists()
