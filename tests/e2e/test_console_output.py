"""The console a user reads (tests/pipelines/console_output.py), off a terminal as on one: by default task
progress, the components' own prints and log records, and the summary, never the KFP executor's boilerplate
(which the task log keeps); `--quiet` only the outcome; `--verbose` everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.model import CONTAINER_EXECUTION
from ledger.store import Ledger
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline

EXECUTOR_NOISE = ("Got executor_input", '"parameterValues"', "Looking for component", "Wrote executor output")


def _run(run_cli: RunCli, package: Path, home: Path, *flags: str) -> list[str]:
    completed = run_cli("driver", str(package), "--run-id", "r", *flags, home=home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.splitlines()


@pytest.fixture(scope="module")
def package(compile_pipeline: CompilePipeline) -> Path:
    return compile_pipeline("console_output")


def test_default_console_shows_progress_user_output_and_summary_only(
    package: Path, lpl_home: Path, run_cli: RunCli
) -> None:
    lines = _run(run_cli, package, lpl_home)
    text = "\n".join(lines)
    assert not [line for line in lines if any(noise in line for noise in EXECUTOR_NOISE)], text
    assert "[shout] USER-PRINT hey" in lines
    assert "[shout-2] USER-PRINT HEY" in lines
    assert any(line.startswith("[shout] [KFP Executor") and "USER-LOG hey" in line for line in lines), text
    assert "[lpl] shout-2 COMPLETE" in text and "TASK" in text
    # started + 2 user lines + finished per task, the run's first and last line, the summary (header + 2)
    assert len(lines) == 2 * 4 + 2 + 3, text


def test_the_task_log_keeps_what_the_console_left_out(package: Path, lpl_home: Path, run_cli: RunCli) -> None:
    _run(run_cli, package, lpl_home)

    view = Ledger(lpl_home).open_run("r").view()
    containers = [e for e in view.executions.values() if e.type == CONTAINER_EXECUTION]
    logs = [Path(e.properties["log"]).read_text() for e in containers]
    assert len(logs) == 2
    for log in logs:
        assert "Got executor_input" in log and '"parameterValues"' in log and "USER-PRINT" in log


def test_quiet_prints_only_the_outcome(package: Path, lpl_home: Path, run_cli: RunCli) -> None:
    lines = _run(run_cli, package, lpl_home, "--quiet")
    assert lines == ["[lpl] run r COMPLETE"]


def test_verbose_adds_the_executor_lines(package: Path, lpl_home: Path, run_cli: RunCli) -> None:
    lines = _run(run_cli, package, lpl_home, "--verbose")
    text = "\n".join(lines)
    assert "[shout] USER-PRINT hey" in lines
    assert "Got executor_input" in text and '"parameterValues"' in text
    assert len(lines) > 60


def test_quiet_still_shows_a_failure(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    completed = run_cli("driver", str(compile_pipeline("failure")), "-q", "--run-id", "f", home=lpl_home)
    assert completed.returncode == 1
    assert "[lpl] run f FAILED" in completed.stdout
    assert "failed task:" in completed.stdout
    assert "started" not in completed.stdout
