"""The UI while a failed run is resumed (tests/pipelines/resume_after_failure.py): its event stream follows
the resume, the execution the resume ran again is marked superseded, and it is not counted twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli import run_cli
from tests.ui.server import start_ui, wait_until
from tests.ui.test_events import EventReader


def test_a_resumed_run_is_followed_and_superseded_executions_marked(
        compile_pipeline: Callable[[str], Path], tmp_path: Path) -> None:
    home, marker = tmp_path / "home", tmp_path / "marker"
    package = str(compile_pipeline("resume_after_failure"))
    failed = run_cli("driver", package, "--run-id", "r", "-q", "-p", f"marker={marker}", home=home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    ui = start_ui(home)
    try:
        reader = EventReader(ui, "/api/runs/r/events")
        marker.touch()
        resumed = run_cli("driver", "--resume", "r", "-q", home=home)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        wait_until(lambda: ("run", {"run_id": "r", "state": "COMPLETE"}) in reader.events, timeout=20)
        reader.close()
        assert ("for-loop-3[1]/check", "COMPLETE") in [(d.get("task"), d["state"]) for _, d in reader.events]
        cli = run_cli("ledger", "runs", "--json", home=home)
        listed = ui.get_json("/api/runs")
        assert listed == json.loads(cli.stdout)
        assert "FAILED" not in listed["runs"][0]["task_counts"]  # the superseded failure is not counted
        status, _, page = ui.get("/runs/r")
        assert status == 200 and b"superseded by" in page
    finally:
        assert ui.stop() == 0
