"""Small things a new user meets in the first hour (issue 12, "also met"): Metrics values and artifact
metadata in `ledger show`/`exec`, no false warning for a metadata-only artifact, a skipped branch saying its
state and why the same way on the console and in the ledger (tests/pipelines/metrics_and_skip.py), a file that
is not a pipeline, and `ledger diff`'s exit status in its --help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

SKIPPED = "CANCELED (skipped: condition false)"


@pytest.fixture(scope="module")
def metrics_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    home = tmp_path_factory.mktemp("first-hour")
    run = run_driver(compile_pipeline("metrics_and_skip"), home=home, run_id="m")
    assert run.returncode == 0, run.output
    return run


def test_ledger_show_and_exec_print_metrics_and_artifact_metadata(metrics_run: FinishedRun) -> None:
    shown = run_cli("ledger", "show", "m", "--long", home=metrics_run.home).stdout
    executed = run_cli("ledger", "exec", "m", "evaluate", home=metrics_run.home).stdout
    for text in (shown, executed):
        metadata = [line.split() for line in text.splitlines() if "accuracy=" in line]
        assert sorted(metadata[0]) == ["accuracy=0.9", "loss=0.25"], text
        assert "framework=none" in text


def test_ledger_show_prints_one_line_per_task_with_its_metrics_in_short(metrics_run: FinishedRun) -> None:
    shown = run_cli("ledger", "show", "m", home=metrics_run.home).stdout
    (evaluate,) = [line for line in shown.splitlines() if line.startswith("evaluate ")]
    assert "COMPLETE" in evaluate and "accuracy=0.9" in evaluate and "loss=0.25" in evaluate, shown
    assert "pipelinechannel--" not in shown and max(len(line) for line in shown.splitlines()) <= 120


def test_a_metadata_only_artifact_gets_no_missing_file_warning(metrics_run: FinishedRun) -> None:
    log = Path(metrics_run.execution("evaluate").properties["log"]).read_text()
    assert "has no file" not in log
    assert "warning" not in metrics_run.output


def test_a_skipped_branch_says_state_and_why_on_console_and_in_the_ledger(metrics_run: FinishedRun) -> None:
    stdout = metrics_run.completed.stdout
    assert f"[lpl] condition-1 {SKIPPED}" in stdout
    assert any(line.split()[:2] == ["condition-1", "CANCELED"] and "(skipped: condition false)" in line
               for line in stdout.splitlines())  # the summary row
    shown = run_cli("ledger", "show", "m", home=metrics_run.home)
    assert any("condition-1" in line and SKIPPED in line for line in shown.stdout.splitlines()), shown.stdout
    as_json = run_cli("ledger", "show", "m", "--json", home=metrics_run.home)
    executions = json.loads(as_json.stdout)["executions"]
    (group,) = [e for e in executions if e["label"] == "condition-1"]
    assert (group["state"], group["state_reason"]) == ("CANCELED", "skipped: condition false")


COMPONENT_YAML = "name: my-component\ninputs:\n- {name: x}\nimplementation:\n  container: {image: python}\n"


@pytest.mark.parametrize(
    ("name", "text"), [("component.yaml", COMPONENT_YAML), ("workflow.json", '{"name": "x", "steps": []}')]
)
def test_a_file_that_is_not_a_pipeline_is_named_as_such(
    lpl_home: Path, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    completed = run_cli("driver", str(path), home=lpl_home)
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"error: {path}: not a compiled KFP pipeline")
    assert len(completed.stderr.splitlines()) == 1 and "Traceback" not in completed.stderr


def test_ledger_diff_exit_status_is_in_its_help_and_holds(
    metrics_run: FinishedRun, compile_pipeline: CompilePipeline
) -> None:
    helped = " ".join(run_cli("ledger", "diff", "--help", home=metrics_run.home).stdout.split())
    documented = "exit status: 0 the runs do not differ, 1 they differ (as diff(1) and git diff --exit-code),"
    documented += " 2"
    assert documented in helped
    other = run_driver(compile_pipeline("metrics_and_skip"), "-p", "threshold=0.5", home=metrics_run.home,
                       run_id="m2")
    assert other.returncode == 0, other.output
    assert run_cli("ledger", "diff", "m", "m", home=metrics_run.home).returncode == 0
    assert run_cli("ledger", "diff", "m", "m2", home=metrics_run.home).returncode == 1
    assert run_cli("ledger", "diff", "m", "nope", home=metrics_run.home).returncode == 2
