"""Starting launcher processes through a fork server, so a task does not wait for Python to start.

The driver starts `python -m launcher --serve FD` before its own imports; the server imports the launcher
once and forks one launcher process per task attempt (see launcher/forkserver.py for the protocol). A
launcher is still a separate process per attempt, meeting the driver only through files and the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from driver.entry import python_module
from driver.run.server_process import ServerProcess
from spec.contracts import LaunchRequest


class Launchers(Protocol):
    """The driver's seam for starting launcher attempts (the fork server; an in-process fake in tests).

    Not to be confused with the launcher's runner seam, which chooses where the component itself runs.
    """

    async def launch(self, request: LaunchRequest) -> LaunchedProcess: ...

    async def close(self) -> None: ...

    def dismiss(self) -> None: ...


class LaunchedProcess(Protocol):
    """A started launcher attempt: stop it (it records itself CANCELED), wait for its exit code."""

    def stop(self) -> None: ...

    async def wait(self) -> int: ...


class Launched:
    """One forked launcher, as the driver sees it: a pid (its process group) and, later, an exit code."""

    def __init__(self, pid: int, exited: asyncio.Future[int]) -> None:
        self.pid = pid
        self._exited = exited

    @property
    def returncode(self) -> int | None:
        return self._exited.result() if self._exited.done() else None

    async def wait(self) -> int:
        return await self._exited

    def stop(self) -> None:
        """SIGTERM to the launcher's process group (its pid): it stops its component and records it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)


class InProcessLaunchers:
    """A `Launchers` for tests: each attempt is answered at once, in this process, by `attempt(request)`
    (which plays the launcher: it reads the task files and publishes the execution), with no process."""

    def __init__(self, attempt: Callable[[LaunchRequest], int]) -> None:
        self.attempt = attempt
        self.requests: list[LaunchRequest] = []

    async def launch(self, request: LaunchRequest) -> LaunchedProcess:
        self.requests.append(request)
        return _Answered(self.attempt(request))

    async def close(self) -> None:
        return None

    def dismiss(self) -> None:
        return None


class _Answered:
    def __init__(self, code: int) -> None:
        self.code = code

    def stop(self) -> None:
        return None  # it has already ended

    async def wait(self) -> int:
        return self.code


# A launcher told to stop has this long (its component's grace period and more) before the driver stops
# waiting for it.
LAUNCHER_STOP_SECONDS = 15.0


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not: it has ended and waits to be reaped by its new parent)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


async def _settle_when_gone(pid: int, exited: asyncio.Future[int]) -> None:
    deadline = asyncio.get_running_loop().time() + LAUNCHER_STOP_SECONDS
    while _alive(pid) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    if not exited.done():
        exited.set_result(-1)


class ForkServer:
    """The driver's side of the fork server: task lines down, `started`/`exited` answers up."""

    def __init__(self, process: ServerProcess) -> None:
        self.process = process
        self._tokens = itertools.count(1)
        self._started: dict[int, asyncio.Future[Launched]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._watchers: set[asyncio.Future[None]] = set()  # launchers outliving a dead server
        self._reader: asyncio.Task[None] | None = None

    async def launch(self, request: LaunchRequest) -> Launched:
        """Fork a launcher for this attempt; returns once it runs."""
        loop = asyncio.get_running_loop()
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_control())
        token = next(self._tokens)
        started: asyncio.Future[Launched] = loop.create_future()
        self._started[token] = started
        try:
            self.process.send(replace(request, token=token).to_line())
        except OSError:
            del self._started[token]
            raise
        return await started

    async def _read_control(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        control = os.fdopen(self.process.control_fd, "rb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), control)
        while line := await reader.readline():
            self._handle(line.decode().split())
        self._server_gone()

    def _handle(self, words: list[str]) -> None:
        if words[0] == "started":
            token, pid = int(words[1]), int(words[2])
            # The exit may be reported before `launch` resumes: the Launched owns its exit future.
            exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._exits[pid] = exited
            self._started.pop(token).set_result(Launched(pid, exited))
        elif words[0] == "exited":
            ended = self._exits.pop(int(words[1]), None)
            if ended is not None and not ended.done():
                ended.set_result(int(words[2]))

    def _server_gone(self) -> None:
        # A dead server cannot report exits. Its launchers are told to stop (they die with their parent)
        # and record their attempt themselves: an attempt ends when its launcher is really gone, never
        # before, or the driver would record a second outcome (FAILED) beside the launcher's (CANCELED).
        for started in self._started.values():
            if not started.done():
                started.set_exception(OSError("the launcher fork server exited"))
        for pid, exited in self._exits.items():
            if not exited.done():
                self._watchers.add(asyncio.ensure_future(_settle_when_gone(pid, exited)))

    async def close(self) -> None:
        """No more tasks: the server exits once its launchers have."""
        self.dismiss()
        await asyncio.to_thread(self.process.wait)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def dismiss(self) -> None:
        self.process.dismiss()


def start_ray_gateway(*, address: str, pipeline_root: str, log_path: Path) -> None:
    """Start the run's Ray gateway (launcher/runners/ray_gateway.py) beside the fork server.

    The driver never talks to Ray: the launchers hand their attempts to this process. It is started here,
    not by the first launcher that needs it, because it must outlive that launcher, and the fork server
    stops what an exited launcher leaves behind. It serves this process and ends when it does.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        argv = [*python_module("launcher.runners.ray_gateway"), "--owner", str(os.getpid())]
        subprocess.Popen(
            [*argv, "--address", address, "--pipeline-root", pipeline_root],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C is the driver's: the gateway hears of it from launchers
        )
