"""`/api/runs/{run}/events` sends one server-sent event per execution state change from the moment a client
connects, also for a run a driver creates after that; `/api/runs/events` tells when the run index changes."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tests.cli import run_cli
from tests.ui.server import UiServer, wait_until


class EventReader:
    """Reads a `text/event-stream` in a thread, collecting (event, data) pairs."""

    def __init__(self, ui: UiServer, path: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.connection = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=60)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type", "").startswith("text/event-stream")
        self.connected = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.connected.wait(10), "the stream never said it was following"

    def _read(self) -> None:
        try:
            self._read_lines()
        except (OSError, ValueError, AttributeError):  # the test closed the connection
            return

    def _read_lines(self) -> None:
        event = ""
        for raw in self.response:
            line = raw.decode().rstrip("\n")
            if line.startswith(": following"):
                self.connected.set()
            elif line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                self.events.append((event, json.loads(line.removeprefix("data: "))))

    def close(self) -> None:
        # Shut the socket first: a close alone waits for the reading thread's lock (until a heartbeat).
        if self.connection.sock is not None:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def test_a_run_started_after_connecting_streams_its_state_changes(ui: UiServer, ui_pipeline: Path,
                                                                    ui_home: Path) -> None:
    runs = EventReader(ui, "/api/runs/events")
    reader = EventReader(ui, "/api/runs/streamed/events")  # no such run yet: its journal is waited for
    try:
        completed = run_cli("driver", str(ui_pipeline), "--run-id", "streamed", "--no-cache", "-q",
                            home=ui_home)
        assert completed.returncode == 0, completed.stderr
        wait_until(lambda: ("run", {"run_id": "streamed", "state": "COMPLETE"}) in reader.events, timeout=20)
        changes = [data for kind, data in reader.events if kind == "execution"]
        wait_for = [(c["state"]) for c in changes if c["task"] == "wait-for"]
        assert wait_for == ["RUNNING", "COMPLETE"], changes
        assert all(set(c) == {"run_id", "execution_id", "task", "kind", "state"} for c in changes)
        # One event per change: no execution is announced twice in the same state.
        assert len({(c["execution_id"], c["state"]) for c in changes}) == len(changes)
        wait_until(lambda: any(kind == "runs" for kind, _ in runs.events), timeout=10)
    finally:
        reader.close()
        runs.close()


def test_a_finished_run_sends_nothing_old(ui: UiServer) -> None:
    reader = EventReader(ui, "/api/runs/a/events")
    try:
        time.sleep(0.6)  # three polls
        assert reader.events == []  # what was recorded before connecting is not news
    finally:
        reader.close()
