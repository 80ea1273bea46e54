"""dsl.ExitHandler and `.ignore_upstream_failure()` end to end: the exit task runs whatever the group did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def exit_runs(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, FinishedRun]:
    """The exit-handler pipeline once with a guarded group that succeeds and once with one that fails."""
    package = compile_pipeline("exit_handler")
    home = tmp_path_factory.mktemp("exit-handler-home")
    return {
        "succeeded": run_driver(package, "-p", "fail=false", home=home, run_id="group-succeeds"),
        "failed": run_driver(package, "-p", "fail=true", home=home, run_id="group-fails"),
    }


def test_the_exit_task_runs_after_the_group_succeeds_and_sees_complete(
    exit_runs: dict[str, FinishedRun],
) -> None:
    run = exit_runs["succeeded"]

    assert run.returncode == 0, run.output
    assert run.probe("after-work")["text"] == "worked"
    status = run.probe("exit")
    assert status["state"] == "COMPLETE"  # the backend's MLMD state name, not kfp.local's SUCCEEDED
    assert status["pipeline_task_name"] == "exit-handler-1"
    # The workflow's name on a cluster: the pipeline name and five random characters.
    assert status["pipeline_job_resource_name"] == run.view.header.resource_name
    assert re.fullmatch(r"exit-handler-[a-z0-9]{5}", status["pipeline_job_resource_name"])
    assert (status["error_code"], status["error_message"]) == (None, None)
    group = run.execution("exit-handler-1")
    assert (group.state, group.properties["display_name"]) == (COMPLETE, "guarded")
    exit_task = run.execution("on-exit")
    assert (exit_task.state, exit_task.parent_dag_id) == (COMPLETE, run.root().id)
    assert exit_task.properties["inputs"]["status"]["state"] == "COMPLETE"
    # The exit task starts only once the guarded group has ended.
    group_end = max(a["end"] for e in run.descendants(group) for a in e.attempts)
    assert exit_task.attempts[0]["start"] >= group_end


def test_the_exit_task_runs_after_the_group_fails_and_sees_the_failure(
    exit_runs: dict[str, FinishedRun],
) -> None:
    run = exit_runs["failed"]

    assert run.returncode == 1, run.output
    status = run.probe("exit")
    assert status["state"] == "FAILED"
    assert status["pipeline_task_name"] == "exit-handler-1"
    assert status["pipeline_job_resource_name"] == run.view.header.resource_name
    assert status["error_code_type"] == "int"
    assert "work" in status["error_message"]
    assert "RuntimeError: deliberate failure in work" in status["error_message"]
    # The task after the failed one never started: no execution, no probe.
    assert run.probes("after-work") == []
    assert run.executions("after-work") == []
    assert run.execution("work").state == FAILED
    assert run.execution("exit-handler-1").state == FAILED
    # The exit task itself succeeded, and the run is still FAILED.
    assert run.execution("on-exit").state == COMPLETE
    assert run.root().state == FAILED
    assert run.view.state == FAILED


def test_ignore_upstream_failure_runs_the_task_with_its_default_after_a_failure(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("ignore_upstream_failure"), "-p", "fail=true", home=lpl_home)

    assert run.returncode == 1, run.output
    assert run.execution("may-fail").state == FAILED
    assert run.probe("cleanup")["text"] == "default-text"
    assert run.execution("report").state == COMPLETE
    assert run.executions("report-2") == []  # the plain downstream task is not run


def test_ignore_upstream_failure_passes_the_output_on_when_upstream_succeeds(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("ignore_upstream_failure"), "-p", "fail=false", home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.probe("cleanup")["text"] == "upstream-output"
    assert run.probe("downstream")["text"] == "upstream-output"
