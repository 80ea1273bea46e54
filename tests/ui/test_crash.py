"""The UI keeps serving a run whose driver is killed (`kill -9`) while a task runs: the run stays readable,
shown as it was left, and the rest of the home is served as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.cli import REPO_ROOT
from tests.ui.server import UiServer, wait_until


def _state(ui: UiServer, task: str) -> str | None:
    status, _, _ = ui.get("/api/runs/killed")
    if status != 200:
        return None
    return next((e["state"] for e in ui.get_json("/api/runs/killed")["executions"] if e["task_name"] == task),
                None)


def test_a_killed_driver_leaves_its_run_served(ui: UiServer, ui_pipeline: Path, ui_home: Path,
                                               tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    driver = subprocess.Popen(
        [sys.executable, "-m", "driver", str(ui_pipeline), "--home", str(ui_home), "--run-id", "killed", "-q",
         "--no-cache", "-p", f"gate={gate}"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: _state(ui, "wait-for") == "RUNNING", timeout=60)
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the processes it started
        driver.wait(timeout=30)
        status, _, page = ui.get("/runs/killed")
        assert status == 200 and b"wait-for" in page
        assert ui.get_json("/api/runs/killed")["run"]["state"] == "RUNNING"  # as the driver left it
        assert any(run["run_id"] == "killed" for run in ui.get_json("/api/runs")["runs"])
        assert ui.get("/runs/a")[0] == 200
    finally:
        gate.touch()  # anything of the run still waiting ends now
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(timeout=30)
