"""The report in a real headless browser (Debian's chromium): its script runs without errors, it fetches
nothing, a task link opens that task's details, and a screenshot can be taken."""

from __future__ import annotations

import re
from pathlib import Path

from tests.report.browser import run_chromium
from tests.report.conftest import RecordedReport

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def console_messages(stderr: str, page: Path) -> list[str]:
    """Console messages (errors, policy violations, logs) of the page and its frames in chromium's stderr."""
    return [line for line in stderr.splitlines()
            if ":CONSOLE" in line and (page.name in line or "about:srcdoc" in line)]


def test_script_builds_the_filters_without_errors(report_runs: dict[str, RecordedReport], chromium: str,
                                                  tmp_path: Path) -> None:
    report = report_runs["failed"]
    completed = run_chromium(chromium, "--dump-dom", report.path.as_uri(), profile=tmp_path / "profile")
    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    assert 'data-ready="yes"' in dom  # the script ran to its end
    filters = dom[dom.index('id="filters"'): dom.index("</div>", dom.index('id="filters"'))]
    assert re.findall(r'<button type="button" data-state="(\w+)"', filters) == ["all", "FAILED", "COMPLETE",
                                                                                "CANCELED"]
    assert '<svg class="dag"' in dom and 'sandbox=""' in dom
    messages = console_messages(completed.stderr, report.path)
    # The only messages: the HTML artifact's off-page image, blocked by the policy (the page's and its own).
    assert messages, "the HTML artifact's image was neither loaded nor blocked"
    assert all("example.invalid/pixel.png" in m and "blocked" in m for m in messages), messages


def test_a_task_link_opens_its_details(report_runs: dict[str, RecordedReport], chromium: str,
                                       tmp_path: Path) -> None:
    report = report_runs["failed"]
    evaluate = next(e for e in report.view.executions.values() if e.task_name == "evaluate")
    url = f"{report.path.as_uri()}#x{evaluate.id}"
    completed = run_chromium(chromium, "--dump-dom", url, profile=tmp_path / "profile")
    assert completed.returncode == 0, completed.stderr[-2000:]
    opened = re.search(rf'<details class="task k-container[^"]*" id="x{evaluate.id}"[^>]*>', completed.stdout)
    assert opened is not None and "open" in opened.group(0)


def test_screenshot(report_runs: dict[str, RecordedReport], chromium: str, tmp_path: Path) -> None:
    report = report_runs["cached"]
    shot = tmp_path / "report.png"
    completed = run_chromium(chromium, f"--screenshot={shot}", "--window-size=1400,1000",
                             report.path.as_uri(), profile=tmp_path / "profile")
    assert completed.returncode == 0, completed.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 30_000  # a blank page is about 6 KB; the graph and tables make it larger
    assert not [m for m in console_messages(completed.stderr, report.path) if "pixel.png" not in m]
