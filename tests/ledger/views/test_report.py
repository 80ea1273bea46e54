"""`ledger.views.report` on runs recorded in memory: what the page says when files are gone or a run is
unfinished.

End-to-end tests on real runs, in a real browser, are in tests/report/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.memory import MemoryLedger
from ledger.model import (
    CANCELED,
    COMPLETE,
    CONTAINER_EXECUTION,
    DAG_EXECUTION,
    FAILED,
    RUNNING,
    ArtifactDraft,
    RunView,
)
from ledger.properties import AttemptEnd, RecordedProperties
from ledger.run_header import RunHeader
from ledger.views.report import render_report, write_view_report

SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "tiny"},
    "root": {"dag": {"tasks": {
        "make": {"componentRef": {"name": "comp-make"}, "taskInfo": {"name": "make"}},
        "use": {"componentRef": {"name": "comp-use"}, "taskInfo": {"name": "use"},
                "inputs": {"parameters": {"x": {"taskOutputParameter": {"producerTask": "make",
                                                                         "outputParameterKey": "Output"}}}}},
        "for-loop-1": {"componentRef": {"name": "comp-for-loop-1"}, "taskInfo": {"name": "for-loop-1"},
                       "parameterIterator": {"itemInput": "pipelinechannel--loop-item-param-1",
                                             "items": {"raw": "[]"}}},
    }}},
    "components": {
        "comp-make": {"executorLabel": "exec-make"},
        "comp-use": {"executorLabel": "exec-use"},
        "comp-for-loop-1": {"dag": {"tasks": {"inner": {"componentRef": {"name": "comp-make"},
                                                         "taskInfo": {"name": "inner"}}}}},
    },
}


def record(tmp_path: Path, *, iterations: int = 0, finish: str | None = FAILED) -> RunView:
    """A run of SPEC: `make` complete (its files missing), `use` failed, a loop of `iterations`."""
    ledger = MemoryLedger()
    run = ledger.create_run(
        RunHeader.from_json({"run_id": "r", "pipeline_name": "tiny", "pipeline_spec": SPEC,
                             "parameters": {"p": "<b>"}, "source": "tiny.json"}))
    root = run.create_execution(type=DAG_EXECUTION, name="run/r", state=RUNNING,
        properties=[RecordedProperties({"task_name": ""})])
    make = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING, properties=[RecordedProperties({
        "task_name": "make", "parent_dag_id": root, "task_path": "make", "task_dir": str(tmp_path / "gone"),
        "log": str(tmp_path / "gone.log")})])
    run.publish_execution(make, state=COMPLETE,
        properties=[RecordedProperties({"outputs": {"Output": 3}})], new_artifacts={
        "notes": [ArtifactDraft("system.Markdown", str(tmp_path / "missing.md"), {}, "notes")],
        "remote": [ArtifactDraft("system.HTML", "gs://bucket/page.html", {}, "remote")]},
        attempt=AttemptEnd(number=0, start=1.0, end=2.5, exit_code=0, state=COMPLETE, error=""))
    run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING, properties=[RecordedProperties({
        "task_name": "use", "parent_dag_id": root, "task_path": "use", "error": "bad <input>"})])
    loop = run.create_execution(type=DAG_EXECUTION, state=COMPLETE, properties=[RecordedProperties({
        "task_name": "for-loop-1", "parent_dag_id": root, "iteration_count": iterations})])
    for index in range(iterations):
        run.create_execution(type=DAG_EXECUTION, state=CANCELED, properties=[RecordedProperties({
            "task_name": "for-loop-1", "parent_dag_id": loop, "iteration_index": index,
            "inputs": {"pipelinechannel--loop-item-param-1": index}})])
    if finish:
        run.finish_run(finish)
    return ledger.open_run("r").view()


def test_missing_files_are_reported_not_fatal(tmp_path: Path) -> None:
    page = render_report(record(tmp_path))
    assert "unreadable: No such file or directory" in page  # the Markdown file
    assert "not a local file: gs://bucket/page.html" in page
    assert "log unreadable" in page
    assert "executor_input.json" in page


def test_values_and_errors_are_escaped(tmp_path: Path) -> None:
    page = render_report(record(tmp_path))
    assert "&lt;b&gt;" in page and "<b>" not in page
    assert "bad &lt;input&gt;" in page
    assert "<input>" not in page


def test_an_unfinished_run_shows_running_tasks(tmp_path: Path) -> None:
    page = render_report(record(tmp_path, finish=None))
    assert '<span class="badge s-RUNNING">RUNNING</span></h1>' in page
    assert 'class="node k-task s-RUNNING"' in page


def test_a_loop_without_iterations_shows_its_body_once(tmp_path: Path) -> None:
    page = render_report(record(tmp_path))
    assert "(no iteration ran)" in page
    assert "for-loop-1 · loop · 0 iterations" in page


def test_many_iterations_are_drawn_up_to_a_limit(tmp_path: Path) -> None:
    page = render_report(record(tmp_path, iterations=30))
    assert "iteration 11 · item 11" in page and "iteration 12 ·" not in page
    assert "+18 more iterations" in page
    assert page.count('class="task k-iteration"') == 30  # every iteration keeps its details section


def test_write_view_report_creates_the_directory(tmp_path: Path) -> None:
    out = write_view_report(record(tmp_path), tmp_path / "reports" / "r.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
