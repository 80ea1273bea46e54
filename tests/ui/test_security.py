"""What the UI refuses: foreign Host headers (DNS rebinding), files outside a run's roots however the path is
spelled, a port already taken; and what it never hides: a damaged run is shown as damaged."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from ledger.run_header import RunHeader
from ledger.store import Ledger
from ledger.ui.server import allowed_hosts, is_loopback
from tests.cli import REPO_ROOT
from tests.ui.server import UiServer, start_ui


def test_foreign_host_header_is_refused(ui: UiServer) -> None:
    for host in ("evil.example", f"evil.example:{ui.port}", "127.0.0.1", f"127.0.0.2:{ui.port}"):
        status, _, body = ui.get("/api/runs", host=host)
        assert status == 421, host
        assert b"runs" not in body
    for host in (f"127.0.0.1:{ui.port}", f"localhost:{ui.port}", f"[::1]:{ui.port}"):
        assert ui.get("/api/runs", host=host)[0] == 200, host


def _artifact_uri(ui: UiServer, run: str, type_: str) -> str:
    shown = ui.get_json(f"/api/runs/{run}")
    return next(a["uri"] for e in shown["executions"] for a in e["output_artifacts"] if a["type"] == type_)


def test_files_outside_the_run_roots_are_refused(ui: UiServer, ui_home: Path) -> None:
    markdown = _artifact_uri(ui, "a", "system.Markdown")
    status, headers, body = ui.get(f"/runs/a/files{markdown}")
    assert status == 200 and b"Model card" in body
    assert headers["content-security-policy"].startswith("sandbox")
    link = Path(markdown).parent / "escape"
    link.symlink_to("/etc/passwd")
    root = str(ui_home.resolve() / "pipeline_root")
    refused = [
        "/runs/a/files/..%2f..%2fetc/passwd",
        "/runs/a/files/../../../../etc/passwd",
        "/runs/a/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/runs/a/files/etc/passwd",
        "/runs/a/files//etc/passwd",
        f"/runs/a/files{root}/../../../../../etc/passwd",
        f"/runs/a/files{root}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/runs/a/files{link}",
        f"/runs/a/files{root}",  # a directory
    ]
    for path in refused:
        status, _, body = ui.get(path)
        assert status in (400, 404), path
        assert b"root:" not in body, path


def test_a_taken_port_is_one_line_and_status_2(ui_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        completed = subprocess.run([sys.executable, "-m", "ledger", "ui", "--home", str(ui_home), "--port",
                                    str(port)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_host_option_is_served_and_others_warned_about(ui_home: Path) -> None:
    server = start_ui(ui_home, "--host", "127.0.0.2")
    try:
        assert server.url.startswith("http://127.0.0.2:")
        assert server.get("/api/runs", host=f"127.0.0.2:{server.port}")[0] == 200
        assert server.get("/api/runs", host=f"127.0.0.3:{server.port}")[0] == 421
    finally:
        assert server.stop() == 0
    assert server.process.stderr is not None and "warning" not in server.process.stderr.read()  # loopback
    # Any address that is not loopback gets the warning (not started here: it would listen beyond this host).
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.4", "::")] == [
        True, True, True, False, False, False]
    assert allowed_hosts("::1", 8) == {"127.0.0.1:8", "localhost:8", "[::1]:8"}


def test_a_damaged_run_is_shown_damaged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger = Ledger(home)
    ledger.create_run(RunHeader.from_json({"run_id": "hurt", "pipeline_name": "p", "parameters": {}}))
    with open(ledger.run_path("hurt"), "ab") as journal:
        journal.write(b"this is no record\n" + json.dumps({"kind": "note"}).encode() + b"\n")
        journal.flush()
        os.fsync(journal.fileno())
    server = start_ui(home)
    try:
        runs = server.get_json("/api/runs")["runs"]
        assert [(r["run_id"], r["state"]) for r in runs] == [("hurt", "DAMAGED")]
        status, _, page = server.get("/runs/hurt")
        assert status == 500 and b"DAMAGED" in page and b"hurt.jsonl:2: ledger damaged" in page
        status, _, body = server.get("/api/runs/hurt")
        assert status == 500 and json.loads(body)["state"] == "DAMAGED"
        assert server.get("/")[0] == 200
    finally:
        assert server.stop() == 0
