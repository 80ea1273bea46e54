"""The Ray runner: each attempt is one Ray task, run on the node Ray picks for the task's requests.

This side (in the launcher, which does not import Ray) hands the attempt to the run's Ray gateway
(launcher/runners/ray_gateway.py, started on first use) and streams back what the node reports; the node
side (ray_node.py) builds the environment and runs the component as the host runner does. The launcher
then collects the outputs from the shared pipeline root and publishes them, as for any runner.

Runner options (the task contract's `runner_options`): `ray_address` (empty: Ray's own resolution). The
gateway belongs to the task's driver (`driver_pid`), or to this process for a `launcher replay`; the node
selector comes from the task's kfp-kubernetes settings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from launcher.runners.base import Attempt
from launcher.runners.ray_gateway import gateway_name, receive_message, send_message
from launcher.runners.ray_request import RayRequest, ray_request
from spec.errors import RunnerError

INSTALL_HINT = "pip install 'local-pipelines[ray]'"
GATEWAY_START_SECONDS = 120.0


def require_ray() -> None:
    """RunnerError with the install command when Ray is not installed (checked without importing it)."""
    if importlib.util.find_spec("ray") is None:
        raise RunnerError(f"the ray runner needs Ray, which is not installed: {INSTALL_HINT}")


class RayRunner:
    name = "ray"

    def __init__(self) -> None:
        self.log: BinaryIO | None = None

    def prepare(self, attempt: Attempt, *, log: BinaryIO) -> Attempt:
        """Nothing to make ready here: the node builds the environment from the same install lines."""
        require_ray()
        self.log = log
        return attempt

    def start(self, attempt: Attempt) -> RayStarted:
        address = str(attempt.options.get("ray_address") or "")
        owner = (attempt.task.driver_pid if attempt.task is not None else None) or os.getpid()
        started_by_driver = attempt.task is not None and attempt.task.driver_pid is not None
        conn = connect_gateway(
            owner=owner, address=address, log_dir=attempt.cwd.parent, start=not started_by_driver
        )
        send_message(
            conn,
            {
                "attempt": attempt,
                "request": request_of(attempt),
                "shared": tuple(mount.source for mount in attempt.mounts),
                "label": attempt.label,
            },
        )
        return RayStarted(conn, log=self.log)


def request_of(attempt: Attempt) -> RayRequest:
    kubernetes = attempt.task.kubernetes if attempt.task is not None else {}
    selector = dict(kubernetes.get("node_selector") or {})
    return ray_request(attempt.resources, node_selector={str(k): str(v) for k, v in selector.items()})


def connect_gateway(*, owner: int, address: str, log_dir: Path, start: bool) -> socket.socket:
    """A connection to the owner's gateway. A driver starts its run's gateway (driver/run/launchers.py);
    without one (`launcher replay`) this process starts it, as its own child, when it does not run yet."""
    name = gateway_name(owner=owner, address=address)
    conn = _try_connect(name)
    if conn is not None:
        return conn
    log_path = log_dir / "ray-gateway.log"
    gateway = _start_gateway(owner=owner, address=address, log_path=log_path) if start else None
    deadline = time.monotonic() + GATEWAY_START_SECONDS
    while time.monotonic() < deadline:
        conn = _try_connect(name)
        if conn is not None:
            return conn
        if gateway is not None and gateway.poll() not in (None, 0):
            break
        time.sleep(0.05)
    raise RunnerError(f"the Ray gateway did not start; see {log_path}: {_tail(log_path)}")


def _start_gateway(*, owner: int, address: str, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*_python_module("launcher.runners.ray_gateway"), "--owner", str(owner), "--address", address],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _python_module(module: str) -> list[str]:
    """`python -m MODULE`, the working directory kept off sys.path (3.11+), as for our other processes."""
    return [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", module]


def _try_connect(name: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(name)
    except OSError:
        conn.close()
        return None
    return conn


def _tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else "no output"
    return "no output"


class RayStarted:
    """An attempt running as a Ray task, as the gateway reports it. One thread reads the gateway's stream:
    the launcher reads `output()` on a thread of its own while it waits in `wait()`."""

    def __init__(self, conn: socket.socket, *, log: BinaryIO | None = None) -> None:
        self.conn = conn
        self.log = log  # where the node this runs on is noted (the task log; not the console)
        self.node: dict[str, Any] = {}
        self.exit_code: int | None = None
        self.problem = ""
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._ended = threading.Event()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        try:
            while self.exit_code is None and not self.problem:
                self._handle(*receive_message(self.conn))
        except (EOFError, OSError, ValueError):
            self.problem = self.problem or "the Ray gateway went away before the attempt ended"
        finally:
            self._lines.put(None)
            self._ended.set()
            with contextlib.suppress(OSError):
                self.conn.close()

    def _handle(self, kind: str, value: Any) -> None:
        if kind == "node":
            self.node = value
            self._note(f"[launcher] on Ray node {value['node_id'][:12]} at {value['address']}\n")
        elif kind == "out":
            for line in value.splitlines(keepends=True):
                self._lines.put(line)
        elif kind == "exit":
            self.exit_code = int(value)
        elif kind == "lost":
            self.problem = str(value)
        else:  # "error": what kept the attempt from running, on the node when it had one
            node = self.node
            where = f"on Ray node {node['node_id'][:12]} at {node['address']}: " if node else ""
            self.problem = where + str(value)

    def _note(self, text: str) -> None:
        if self.log is not None:
            self.log.write(text.encode())
            self.log.flush()

    def output(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not None:
            yield line

    def wait(self) -> int:
        self._ended.wait()
        if self.problem:
            raise RunnerError(self.problem)
        assert self.exit_code is not None
        return self.exit_code

    def stop(self) -> None:
        """Ask the gateway to cancel the Ray task (the component gets SIGTERM, then is killed)."""
        with contextlib.suppress(OSError):
            send_message(self.conn, "stop")
