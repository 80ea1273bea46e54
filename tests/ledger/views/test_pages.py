"""`ledger.views.pages` (the UI's pages) on runs recorded in memory: a big loop is folded into one row of
counts, its rows come on demand, superseded executions and replays are marked, compare marks differences.

The pages served by the real server, in a real browser, are tested in tests/ui/.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ledger.model import SUPERSEDED_BY
from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from ledger.views import pages
from ledger.views.sections import PageData
from tests.ledger.views.test_report import record


def test_a_big_loop_is_one_row_of_counts_until_opened(tmp_path: Path) -> None:
    view = record(tmp_path, iterations=pages.FOLD_LOOPS_OVER + 10, finish=None)
    parts = pages.run_parts(PageData.of(view))
    assert f"{pages.FOLD_LOOPS_OVER + 10} iterations: {pages.FOLD_LOOPS_OVER + 10} canceled" in parts.table
    assert "for-loop-1[3]" not in parts.table and 'data-src="/runs/r/loops/' in parts.table
    loop = next(e for e in view.executions.values() if e.properties.get("iteration_count"))
    rows = pages.loop_rows(PageData.of(view), loop.id)
    assert rows.count("<tr data-state=") == pages.FOLD_LOOPS_OVER + 10
    assert rows.index("for-loop-1[2]") < rows.index("for-loop-1[10]")  # in iteration order


def test_a_small_loop_is_listed(tmp_path: Path) -> None:
    parts = pages.run_parts(PageData.of(record(tmp_path, iterations=3)))
    assert "for-loop-1[2]" in parts.table and "iterations:" not in parts.table


def test_superseded_and_running_executions_are_marked(tmp_path: Path) -> None:
    view = record(tmp_path, finish=None)
    use = next(e for e in view.executions.values() if e.task_name == "use")
    use.properties[SUPERSEDED_BY] = 99
    parts = pages.run_parts(PageData.of(view))
    assert "superseded by 99" in parts.table
    assert 'data-start="' in parts.table  # `use` is running: its duration counts up on the page


def test_compare_marks_differing_parameters_and_lists_metrics(tmp_path: Path) -> None:
    a, b = record(tmp_path), record(tmp_path)
    b.header = dataclasses.replace(b.header, parameters={"p": "other"})
    page = pages.compare_page([a, b])
    assert '<tr class="differs"><th>p</th>' in page
    assert "no metrics" in page
    assert pages.scalar_metrics(a) == {}


def test_unknown_and_damaged_pages_say_what_to_do() -> None:
    assert "python -m ledger runs" in pages.not_found_page("no run 'x'")
    assert "DAMAGED" in pages.damaged_page("r", "runs/r.jsonl:2: ledger damaged")


def test_runs_document_reads_unfinished_runs_through_the_folds_it_is_given(tmp_path: Path) -> None:
    from ledger.memory import MemoryLedger
    from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, RUNNING
    from ledger.views.cli import runs_document

    ledger = MemoryLedger()
    run = ledger.create_run(
        RunHeader.from_json({"run_id": "going", "pipeline_name": "p", "parameters": {"n": 1}}))
    root = run.create_execution(type=DAG_EXECUTION, state=RUNNING,
        properties=[RecordedProperties({"task_name": ""})])
    run.create_execution(type=CONTAINER_EXECUTION, state=COMPLETE,
        properties=[RecordedProperties({"task_name": "a",
                                                                               "parent_dag_id": root})])
    kept = ledger.open_run("going")
    asked: list[str] = []

    def view_of(run_id: str) -> Any:
        asked.append(run_id)
        return kept.view()

    assert runs_document(ledger, view_of=view_of) == runs_document(ledger)
    assert asked == ["going"]
    document, _ = runs_document(ledger)
    assert document["runs"][0]["task_counts"] == {"COMPLETE": 1}
    assert document["runs"][0]["parameters"] == {"n": 1}
