"""The UI under test: `python -m ledger ui` as a real process on a free port, and plain HTTP against it."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cli import REPO_ROOT


@dataclass
class UiServer:
    """A running `python -m ledger ui`; `url` ends with a slash."""

    process: subprocess.Popen[str]
    url: str
    port: int
    address: str = "127.0.0.1"

    def get(self, path: str, *, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """GET `path` exactly as written (no normalisation of `..` or `%2f`): status, headers, body."""
        connection = http.client.HTTPConnection(self.address, self.port, timeout=30)
        try:
            connection.putrequest("GET", path, skip_host=True)
            connection.putheader("Host", host or f"{self.address}:{self.port}")
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def get_json(self, path: str) -> Any:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_ui(home: Path, *extra: str) -> UiServer:
    """Start the UI on a free port (`--port 0`) and wait for the line that says where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", "ui", "--home", str(home), "--port", "0", *extra],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        errors = process.stderr.read() if process.stderr else ""
        raise AssertionError(f"the UI did not start: {line!r} {errors}")
    url = line.split(" at ", 1)[1].split()[0]
    address, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return UiServer(process=process, url=url, port=int(port), address=address.strip("[]"))


def wait_until(condition: Any, *, timeout: float = 30, every: float = 0.1) -> Any:
    """Poll `condition()` until it returns something truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
