"""The report page read as text: self-contained, every task drawn and detailed, previews escaped."""

from __future__ import annotations

import json
import re

from ledger.model import DAG_EXECUTION
from tests.cli import run_cli
from tests.report.conftest import RecordedReport

# Anything that would make a browser fetch: an attribute pointing off the page, a CSS url()/@import.
_FETCHING = re.compile(r"""\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?!#|data:)[a-z]*:?//""", re.I)
_CSS_FETCH = re.compile(r"url\(\s*['\"]?(?!data:|#)|@import", re.I)


def test_page_fetches_nothing(report_runs: dict[str, RecordedReport]) -> None:
    page = report_runs["failed"].html
    assert not _FETCHING.findall(page)
    assert not _CSS_FETCH.findall(page)
    assert "<link" not in page and "<script src" not in page
    assert "default-src 'none'" in page  # the page's policy forbids fetching, artifacts included


def test_graph_draws_every_task_of_the_spec(report_runs: dict[str, RecordedReport]) -> None:
    report = report_runs["failed"]
    page = report.html
    svg = page[page.index("<svg class=\"dag\""): page.index("</svg>", page.index("<svg class=\"dag\""))]
    spec = report.view.header.pipeline_spec
    keys = set(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        keys |= set(component.get("dag", {}).get("tasks", {}))
    for key in keys:
        assert f'data-key="{key}"' in svg or f">{key}<" in svg or f">{key} ·" in svg, key
    assert svg.count('<path class="edge"') == 2  # evaluate -> describe, evaluate -> explode


def test_states_are_coloured_and_loops_grouped(report_runs: dict[str, RecordedReport]) -> None:
    page = report_runs["failed"].html
    assert re.search(r'class="node k-task s-FAILED"[^>]*>.*?>explode<', page)
    assert re.search(r'class="node k-task s-COMPLETE"[^>]*>.*?>evaluate<', page)
    assert re.search(r'class="group k-dag s-CANCELED"[^>]*data-key="condition-5"', page)
    assert 'class="group k-loop s-COMPLETE"' in page
    assert "for-loop-2 · loop · 3 iterations" in page
    for index, item in enumerate([1, 2, 3]):
        assert f"iteration {index} · item {item}" in page
    assert "<title>condition-4\nif text == 'hi'\nCOMPLETE</title>" in page  # the condition, readable


def test_every_execution_has_a_section(report_runs: dict[str, RecordedReport]) -> None:
    report = report_runs["failed"]
    page = report.html
    for execution in report.view.executions.values():
        if execution.parent_dag_id is None:
            continue
        assert f'id="x{execution.id}"' in page, execution.task_name
        if execution.type != DAG_EXECUTION:
            assert f'href="#x{execution.id}"' in page


def test_task_details_show_executor_input_log_and_error(report_runs: dict[str, RecordedReport]) -> None:
    page = report_runs["failed"].html
    section = _section(page, "explode")
    assert "open" in section.split(">", 1)[0]  # a failed task's details start open
    assert "exit code 1: RuntimeError: exploded on purpose" in section
    assert "&quot;parameterValues&quot;" in section  # the ExecutorInput, escaped
    assert "working 29 &lt;b&gt;not bold&lt;/b&gt;" in section  # the log, escaped
    assert "<b>not bold</b>" not in page


def test_artifact_previews(report_runs: dict[str, RecordedReport]) -> None:
    page = report_runs["failed"].html
    evaluate = _section(page, "evaluate")
    assert re.search(r"<th>accuracy</th><td>0.9</td>", evaluate)
    matrix = evaluate[evaluate.index('<table class="confusion"'):]
    assert re.search(r"<th>cat</th><td[^>]*>8</td><td[^>]*>2</td>", matrix)
    assert re.search(r"<th>dog</th><td[^>]*>1</td><td[^>]*>9</td>", matrix)
    describe = _section(page, "describe")
    assert "<h1>Model card</h1>" in describe and "<strong>0.9</strong>" in describe
    assert "&lt;script&gt;x&lt;/script&gt;" in describe and "<script>x" not in page
    frame = re.search(r'<iframe class="html-artifact" sandbox="" [^>]*srcdoc="([^"]*)"', describe)
    assert frame is not None and "Hello from an HTML artifact" in frame.group(1)
    assert "<h1 id='inner'>" not in page  # only inside the escaped srcdoc


def test_cached_run_shows_cache_hits_with_their_logs(report_runs: dict[str, RecordedReport]) -> None:
    page = report_runs["cached"].html
    assert '<span class="badge s-COMPLETE">COMPLETE</span></h1>' in page
    assert re.search(r'class="node k-task s-CACHED"[^>]*>.*?>evaluate<', page)
    evaluate = _section(page, "evaluate")
    assert "cached execution id" in evaluate
    assert "evaluated: accuracy 0.9" in evaluate  # the reused execution's log


def test_report_command_writes_where_asked_and_rejects_unknown_runs(
    report_runs: dict[str, RecordedReport],
) -> None:
    report = report_runs["failed"]
    completed = run_cli("ledger", "report", "fail", "--json", "-o", str(report.home / "again.html"),
                        home=report.home, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"run_id": "failed", "report": str(report.home / "again.html")}
    missing = run_cli("ledger", "report", "nope", home=report.home, timeout=60)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def _section(page: str, label: str) -> str:
    """The details section of the task labelled `label`."""
    pattern = r'<details class="task[^"]*" id="x\d+"[^>]*><summary>[^<]*<span[^>]*>\w+</span> <strong>'
    match = re.search(pattern + re.escape(label) + "</strong>", page)
    assert match is not None, label
    following = page.find('<details class="task', match.start() + 1)
    return page[match.start(): following if following != -1 else len(page)]
