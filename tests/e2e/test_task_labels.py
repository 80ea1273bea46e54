"""One task, one name (tests/pipelines/loop_failure.py): the failing iteration is `for-loop-1[1]/check` on the
console while it runs, in the summary, the failure report, `ledger show`/`exec`, `--explain` and the report;
and the failure report's `--explain` command, run as printed, explains the run that failed (its parameters,
its recorded upstream values) instead of failing for want of `-p limit`."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT, run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

LABEL = "for-loop-1[1]/check"


@pytest.fixture(scope="module")
def failed(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    home = tmp_path_factory.mktemp("labels")
    run = run_driver(compile_pipeline("loop_failure"), "-p", "limit=5", home=home, run_id="labels")
    assert run.returncode == 1, run.output
    return run


def test_console_summary_and_failure_report_use_the_label(failed: FinishedRun) -> None:
    lines = failed.completed.stdout.splitlines()
    assert f"[lpl] {LABEL} started" in lines
    assert f"[{LABEL}] checking far-too-long against 5" in lines
    assert any(line.split()[:2] == [LABEL, "FAILED"] for line in lines), failed.output  # the summary row
    assert any(line.startswith(f"failed task: {LABEL}: ") for line in lines), failed.output
    assert "for-loop-1/check[1]" not in failed.output


def test_ledger_show_and_exec_use_the_label(failed: FinishedRun) -> None:
    shown = run_cli("ledger", "show", "labels", "--json", home=failed.home)
    labels = [e["label"] for e in json.loads(shown.stdout)["executions"]]
    assert LABEL in labels and "for-loop-1[0]/check" in labels
    assert LABEL in run_cli("ledger", "show", "labels", home=failed.home).stdout
    execution = run_cli("ledger", "exec", "labels", LABEL, "--json", home=failed.home)
    assert execution.returncode == 0, execution.stderr
    assert json.loads(execution.stdout)["label"] == LABEL


def test_the_report_uses_the_label(failed: FinishedRun, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    completed = run_cli("ledger", "report", "labels", "-o", str(page), home=failed.home)
    assert completed.returncode == 0, completed.stderr
    assert LABEL in page.read_text()


def test_the_printed_explain_command_reproduces_the_failed_run(failed: FinishedRun) -> None:
    lines = failed.completed.stdout.splitlines()
    (printed,) = [line for line in lines if line.strip().startswith("explain:")]
    argv = shlex.split(printed.split("explain:", 1)[1])
    assert argv[:3] == ["python", "-m", "driver"]
    assert "--from-run" in argv and "limit=5" in argv
    completed = subprocess.run(
        [sys.executable, *argv[1:]], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 task(s) explained" in completed.stdout and f"\n== {LABEL} " in completed.stdout
    assert '"limit": 5' in completed.stdout and '"word": "far-too-long"' in completed.stdout


def test_nested_loops_have_one_label_on_the_console_and_in_the_ledger(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    run = run_driver(compile_pipeline("loops"), "--no-cache", home=tmp_path / "home", run_id="nested")
    assert run.returncode == 0, run.output
    shown = json.loads(run_cli("ledger", "show", "nested", "--json", home=run.home).stdout)["executions"]
    ledger_labels = {e["label"] for e in shown if e["kind"] == "container"}
    started = {line[len("[lpl] ") : -len(" started")] for line in run.completed.stdout.splitlines()
               if line.startswith("[lpl] ") and line.endswith(" started")}
    assert started == ledger_labels
    assert {"for-loop-10[0]/for-loop-11[1]/show-7", "for-loop-10[1]/for-loop-11[0]/show-7"} <= started
    # the console's "finished" line gives the duration the summary and the ledger give
    durations = {e["label"]: e["duration"] for e in shown if e["kind"] == "container"}
    for line in run.completed.stdout.splitlines():
        if line.startswith("[lpl] ") and " COMPLETE in " in line:
            label, took = line[len("[lpl] ") :].split(" COMPLETE in ")
            assert abs(float(took.rstrip("s")) - durations[label]) < 0.006, line
