"""A failing component fails the run: recorded FAILED with its log, nothing downstream starts, and an
independent task that was already running finishes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED
from tests.e2e.finished_run import FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of, attempt_interval


@pytest.fixture(scope="module")
def failed_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    return run_driver(compile_pipeline("failure"), "--parallelism", "2", home=tmp_path_factory.mktemp("home"))


def test_the_run_exits_1_and_is_recorded_failed(failed_run: FinishedRun) -> None:
    assert failed_run.returncode == 1, failed_run.output
    assert failed_run.view.state == FAILED
    assert failed_run.root().state == FAILED
    # The component's own traceback, streamed with its task's name: the user sees what failed and where.
    assert "[fail] Traceback (most recent call last)" in failed_run.completed.stdout


def test_the_failed_task_is_recorded_with_its_error_line_and_its_log(failed_run: FinishedRun) -> None:
    failed = failed_run.execution("fail")

    assert failed.state == FAILED
    assert "ValueError: boom-from-component" in failed.properties["error"]
    log = Path(failed.properties["log"])
    assert "ValueError: boom-from-component" in log.read_text()
    assert [a["uri"] for a in artifacts_of(failed_run, failed, "OUTPUT")["executor-logs"]] == [str(log)]
    assert failed.attempts[0]["exit_code"] == 1
    assert "outputs" not in failed.properties or not failed.properties["outputs"]


def test_the_error_line_and_the_log_are_shown_to_the_user(failed_run: FinishedRun) -> None:
    summary = failed_run.output.split("run run FAILED", 1)[1]

    assert "fail: exit code 1: ValueError: boom-from-component" in summary
    assert failed_run.execution("fail").properties["log"] in summary


def test_tasks_downstream_of_the_failure_never_start(failed_run: FinishedRun) -> None:
    assert failed_run.executions("after") == []
    assert failed_run.executions("after-2") == []


def test_an_independent_task_already_running_finishes(failed_run: FinishedRun) -> None:
    slow = failed_run.execution("slow")
    _, slow_end = attempt_interval(slow)
    _, fail_end = attempt_interval(failed_run.execution("fail"))

    assert slow.state == COMPLETE
    assert slow.properties["outputs"] == {"Output": "slept"}
    # The driver had started `slow` (recorded its execution) before `fail` failed, and `slow` ran to its end.
    assert slow.create_time < fail_end < slow_end
