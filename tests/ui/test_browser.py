"""The UI in headless chromium: a run page follows a running pipeline without a reload, the runs page shows a
new run by itself, task panels preview artifacts, compare lists both runs' metrics, and an HTML artifact can
neither script the page around it nor call the API."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from tests.cli import REPO_ROOT
from tests.ui.server import UiServer, wait_until


def _wait(browser: Any, condition: Any, *, timeout: float = 30) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda _: condition())


def _execution_state(ui: UiServer, run: str, task: str) -> str | None:
    status, _, _ = ui.get(f"/api/runs/{run}")
    if status != 200:
        return None
    shown = ui.get_json(f"/api/runs/{run}")
    return next((e["state"] for e in shown["executions"] if e["task_name"] == task), None)


def test_a_running_task_turns_complete_without_a_reload(browser: Any, ui: UiServer, ui_pipeline: Path,
                                                          ui_home: Path, tmp_path: Path) -> None:
    browser.get(ui.url)
    _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#runs-box tr[data-run='a']"))
    browser.execute_script("window.notReloaded = true;")
    gate = tmp_path / "gate"
    driver = subprocess.Popen(
        [sys.executable, "-m", "driver", str(ui_pipeline), "--home", str(ui_home), "--run-id", "live", "-q",
         "--no-cache", "-p", f"gate={gate}"], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        # The runs page lists the new run by itself.
        _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#runs-box tr[data-run='live']"))
        assert browser.execute_script("return window.notReloaded === true;")
        wait_until(lambda: _execution_state(ui, "live", "wait-for") == "RUNNING"
                   and _execution_state(ui, "live", "evaluate") == "COMPLETE", timeout=60)
        browser.get(ui.url + "runs/live")
        _wait(browser, lambda: browser.execute_script("return document.body.dataset.ready === 'yes';"))
        browser.execute_script("window.notReloaded = true;")
        # (read by script: the page swaps the graph in whenever the run changes)
        running = "return Array.from(document.querySelectorAll('svg.dag g.node.s-RUNNING text.label'))" \
                  ".map(function (t) { return t.textContent; });"
        _wait(browser, lambda: browser.execute_script(running) == ["wait-for"])
        ticking = "return document.querySelector('svg.dag g.node.s-RUNNING text.sub').textContent;"
        first = browser.execute_script(ticking)
        time.sleep(1.2)
        later = browser.execute_script(ticking)
        assert later != first and later.startswith("running · ")  # its duration counts up
        # The running task's panel shows its log as it grows.
        row = browser.find_element(By.XPATH, "//div[@id='table-box']//tr[td/a[text()='wait-for']]")
        row.find_element(By.CSS_SELECTOR, "a").click()
        log = "var pre = document.querySelector('#panel details.log pre'); return pre ? pre.textContent : '';"
        _wait(browser, lambda: "waiting for" in browser.execute_script(log))
        gate.touch()
        # (how soon after the ledger write the page changes is measured by scripts/bench_ui.py)
        _wait(browser, lambda: browser.execute_script("return document.body.dataset.state;") == "COMPLETE",
              timeout=60)
        assert not browser.find_elements(By.CSS_SELECTOR, "svg.dag g.node.s-RUNNING")
        complete = browser.find_elements(By.CSS_SELECTOR, "svg.dag g.node.s-COMPLETE text.label")
        labels = [n.text for n in complete]
        assert sorted(labels) == ["evaluate", "wait-for"]
        _wait(browser, lambda: "gate opened" in browser.execute_script(log))
        assert browser.execute_script("return window.notReloaded === true;")
    finally:
        gate.touch()
        driver.wait(timeout=60)
    assert driver.returncode == 0, driver.stderr.read() if driver.stderr else ""


def _open_task(browser: Any, ui: UiServer, run: str, task: str) -> Any:
    browser.get(ui.url + f"runs/{run}")
    _wait(browser, lambda: browser.execute_script("return document.body.dataset.ready === 'yes';"))
    link = next(row.find_element(By.CSS_SELECTOR, "a") for row in
                browser.find_elements(By.CSS_SELECTOR, "#table-box tr[data-execution]")
                if row.find_element(By.CSS_SELECTOR, "a").text == task)
    link.click()
    return _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#panel details.task"))[0]


def test_task_panel_previews_artifacts(browser: Any, ui: UiServer) -> None:
    panel = _open_task(browser, ui, "a", "evaluate")
    metrics = panel.find_element(By.CSS_SELECTOR, "table.metrics")
    assert "accuracy" in metrics.text and "0.9" in metrics.text
    markdown = panel.find_element(By.CSS_SELECTOR, ".markdown")
    assert markdown.find_element(By.CSS_SELECTOR, "h1").text == "Model card"
    assert markdown.find_element(By.CSS_SELECTOR, "strong").text == "0.9"
    rows = panel.find_element(By.CSS_SELECTOR, "table.rows")
    assert "alpha" in rows.text and "score" in rows.text
    assert panel.find_elements(By.CSS_SELECTOR, "a[download]")
    commands = [c.get_attribute("textContent") for c in panel.find_elements(By.CSS_SELECTOR, "code.command")]
    assert any("--explain" in c for c in commands) and any("launcher replay" in c for c in commands)


def test_html_artifact_can_neither_script_the_page_nor_call_the_api(browser: Any, ui: UiServer) -> None:
    panel = _open_task(browser, ui, "a", "evaluate")
    frame = panel.find_element(By.CSS_SELECTOR, "iframe.html-artifact")
    assert frame.get_attribute("sandbox") == ""
    source = frame.get_attribute("src")
    time.sleep(1.5)  # time for its script to try
    assert browser.execute_script("return document.body.dataset.pwned || null;") is None
    browser.switch_to.frame(frame)
    assert browser.find_element(By.ID, "inner").text == "hostile artifact"  # it rendered ...
    assert browser.title != "ran"  # ... but ran nothing
    browser.switch_to.default_content()
    browser.get(source)  # opened on its own, the file is still a sandbox (Content-Security-Policy: sandbox)
    time.sleep(1)
    assert browser.title not in ("ran", "fetched")
    assert browser.find_element(By.ID, "inner").text == "hostile artifact"


def test_compare_page_shows_both_runs_metrics(browser: Any, ui: UiServer) -> None:
    browser.get(ui.url + "compare?runs=a,b")
    metrics = browser.find_element(By.ID, "metrics")
    row = next(r for r in metrics.find_elements(By.CSS_SELECTOR, "tbody tr")
               if "evaluate / metrics / accuracy" in r.text)
    assert [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")] == ["0.9", "0.8"]
    assert "differs" in (row.get_attribute("class") or "")
    parameters = browser.find_element(By.ID, "parameters")
    assert "accuracy" in parameters.text


def test_a_big_loop_is_counted_then_listed_when_opened(browser: Any, tmp_path: Path) -> None:
    from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION
    from ledger.store import Ledger
    from tests.ui.server import start_ui

    ledger = Ledger(tmp_path / "home")
    run = ledger.create_run(
        RunHeader.from_json({"run_id": "wide", "pipeline_name": "wide", "parameters": {}}))
    root = run.create_execution(type=DAG_EXECUTION, state=COMPLETE,
        properties=[RecordedProperties({"task_name": ""})])
    loop = run.create_execution(type=DAG_EXECUTION, state=COMPLETE, properties=[RecordedProperties({
        "task_name": "for-loop-1", "parent_dag_id": root, "dag_kind": "loop", "iteration_count": 300})])

    def iterations(ids: list[int]) -> list[dict[str, Any]]:
        return [{"kind": "execution", "id": ids[i], "type": CONTAINER_EXECUTION, "state": COMPLETE,
                 "properties": {"task_name": "for-loop-1", "parent_dag_id": loop, "iteration_index": i}}
                for i in range(300)]

    ledger.append(run.path, iterations, ids=300)
    run.finish_run(COMPLETE)
    server = start_ui(tmp_path / "home")
    try:
        browser.get(server.url + "runs/wide")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#table-box tr[data-execution]")) == 1  # the loop
        summary = browser.find_element(By.CSS_SELECTOR, "details.iterations > summary")
        assert summary.text.startswith("300 iterations: 300 complete")
        summary.click()
        rows = _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "details.iterations .list tr"))
        assert len(rows) == 301  # its head and 300 rows
    finally:
        assert server.stop() == 0
