"""`driver.run.console`: plain lines off a terminal, colour only on one and never with NO_COLOR, structlog
JSON, a status line pinned below the output, the summary table and the failure report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from driver.run.console import Console, Progress, count_tasks, failure_report, summary_rows, summary_table
from ledger.memory import MemoryLedger
from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, FAILED, RUNNING, RunView
from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from spec.ir import pipeline_spec_pb2
from spec.outline import outline


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    console = Console(stream=out, status_stream=io.StringIO())
    console.event("task_failed", "train FAILED in 1.00s", task="train")
    console.event("task_finished", "eval COMPLETE in 0.50s", task="eval")
    assert out.getvalue() == "[lpl] train FAILED in 1.00s\n[lpl] eval COMPLETE in 0.50s\n"
    assert console.status is None


def test_colour_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    coloured = FakeTerminal()
    Console(stream=coloured, live=False).event("task_failed", "train FAILED", task="train")
    assert coloured.getvalue() == "\033[31m[lpl]\033[0m train FAILED\n"

    monkeypatch.setenv("NO_COLOR", "1")
    plain = FakeTerminal()
    Console(stream=plain, live=False).event("task_failed", "train FAILED", task="train")
    assert plain.getvalue() == "[lpl] train FAILED\n"


def test_json_format_is_one_structlog_object_per_line() -> None:
    out = io.StringIO()
    console = Console(log_format="json", stream=out, status_stream=FakeTerminal())
    console.event("task_started", "train started", task="train", attempt=0)
    console.event("task_failed", "train FAILED: boom", task="train", error="boom")
    console.summary([("train", FAILED, 1.5, "")])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["event"], r["level"]) for r in records] == [
        ("task_started", "info"), ("task_failed", "warning"), ("task_summary", "info")]
    assert records[0]["task"] == "train" and records[0]["attempt"] == 0 and "timestamp" in records[0]
    assert records[1]["message"] == "train FAILED: boom"
    assert records[2] == {**records[2], "task": "train", "state": FAILED, "duration": 1.5}
    assert console.status is None  # no status line mixed into JSON


def test_status_line_is_pinned_below_a_scroll_region_and_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "20")
    terminal = FakeTerminal()
    console = Console(stream=terminal, status_stream=terminal, color=False)
    assert console.status is not None
    console.set_total(3)
    console.event("task_started", "a started", task="a")
    written = terminal.getvalue()
    assert "\033[1;19r" in written  # rows 1-19 scroll; row 20 holds the status
    assert "\033[20;1H\033[2K\033[7m[lpl] 0/3 done · running 1: a" in written
    console.event("run_finished", "run r COMPLETE", run_id="r")
    assert terminal.getvalue().endswith("\0337\033[r\033[20;1H\033[2K\0338")
    assert console.status.rows == 0


def test_progress_counts_task_events() -> None:
    progress = Progress(total=5, exact=False)
    for event, task in [("task_started", "a"), ("task_started", "sq"), ("task_started", "sq"),
                        ("task_retry", "a"), ("task_started", "a"), ("task_finished", "a"),
                        ("task_cached", "b"), ("task_skipped", "c"), ("task_failed", "sq")]:
        progress.observe(event, task)
    line = progress.render()
    assert line.startswith("[lpl] 4/~5 done · running 1: sq · 1 cached · 1 skipped · 1 retries · 1 failed")


def test_summary_table_aligns_columns() -> None:
    lines = summary_table([("a", COMPLETE, 1.0, "x=1"), ("longer/name", FAILED, None, "")])
    assert lines == [
        "  TASK         STATE     DURATION  OUTPUTS",
        "  a            COMPLETE     1.00s  x=1",
        "  longer/name  FAILED           -",
    ]


def test_count_tasks_multiplies_static_loops_and_flags_estimates() -> None:
    spec = json_format.ParseDict({
        "root": {"dag": {"tasks": {
            "a": {"componentRef": {"name": "comp-a"}},
            "loop": {"componentRef": {"name": "comp-loop"},
                     "parameterIterator": {"items": {"raw": "[1, 2, 3]"}, "itemInput": "i"}},
        }}},
        "components": {"comp-a": {"executorLabel": "exec-a"},
                       "comp-loop": {"dag": {"tasks": {"b": {"componentRef": {"name": "comp-a"}},
                                                       "c": {"componentRef": {"name": "comp-a"}}}}}},
    }, pipeline_spec_pb2.PipelineSpec())
    deployment = pipeline_spec_pb2.PipelineDeploymentConfig()
    assert count_tasks(outline(spec, deployment)) == (7, True)
    spec.components["comp-loop"].dag.tasks["c"].trigger_policy.condition = "true"
    assert count_tasks(outline(spec, deployment)) == (7, False)


def recorded_failure(tmp_path: Path) -> RunView:
    log = tmp_path / "train.log"
    log.write_text("".join(f"line {i}\n" for i in range(40)))
    ledger = MemoryLedger()
    run = ledger.create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p", "source": "p.yaml"}))
    root = run.create_execution(type=DAG_EXECUTION, name="run/r", state=RUNNING,
        properties=[RecordedProperties({"task_name": ""})])
    loop = run.create_execution(type=DAG_EXECUTION, state=FAILED, properties=[RecordedProperties({
        "task_name": "for-loop-1", "parent_dag_id": root, "iteration_count": 2})])
    iteration = run.create_execution(type=DAG_EXECUTION, state=FAILED, properties=[RecordedProperties({
        "task_name": "for-loop-1", "parent_dag_id": loop, "iteration_index": 1})])
    run.create_execution(type=CONTAINER_EXECUTION, state=FAILED, properties=[RecordedProperties({
        "task_name": "train", "parent_dag_id": iteration, "task_path": "for-loop-1/train",
        "error": "exit code 1: ValueError: bad", "log": str(log), "outputs": {}})])
    run.create_execution(type=CONTAINER_EXECUTION, state=COMPLETE, properties=[RecordedProperties({
        "task_name": "prep", "parent_dag_id": root, "task_path": "prep", "outputs": {"n": 3}})])
    return ledger.open_run("r").view()


def test_failure_report_shows_the_log_tail_and_how_to_explain(tmp_path: Path) -> None:
    lines = failure_report(recorded_failure(tmp_path), "pipeline.json")
    assert lines[0] == "failed task: for-loop-1[1]/train: exit code 1: ValueError: bad"
    assert lines[1] == "  last 12 lines of its log:"
    assert lines[2:14] == [f"    | line {i}" for i in range(28, 40)]
    assert lines[14] == f"  full log: {tmp_path / 'train.log'}"
    assert lines[15] == (
        "  explain:  python -m driver pipeline.json --explain --task 'for-loop-1[1]/train' --from-run r"
    )


def test_summary_rows_label_loop_iterations(tmp_path: Path) -> None:
    rows = summary_rows(recorded_failure(tmp_path))
    assert [(label, state, outputs) for label, state, _, outputs in rows] == [
        ("for-loop-1[1]/train", FAILED, ""), ("prep", COMPLETE, "n=3")]
