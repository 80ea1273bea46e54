"""Launcher processes started ahead of need, so a task does not wait for Python to start and import.

Each launcher still runs exactly one task attempt: it starts, imports what it needs, then waits on its
standard input for the one task it is given (or for end-of-file, when it exits having done nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol


class LauncherProcess(Protocol):
    """What the driver needs of a launcher process, whichever way it was started."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


def launcher_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "launcher", "--home", str(home), "--task-from-stdin"]


class EarlyLauncher:
    """A launcher started with `subprocess` before the driver's own imports, adopted by the pool."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @classmethod
    def start(cls, home: Path) -> EarlyLauncher:
        popen = subprocess.Popen(launcher_command(home), stdin=subprocess.PIPE, start_new_session=True)
        return cls(popen)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    async def wait(self) -> int:
        return await asyncio.to_thread(self.popen.wait)

    def hand_over(self, line: bytes) -> bool:
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(line)
            self.popen.stdin.close()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def dismiss(self) -> None:
        """Stop it if it was never given a task (safe: it has done nothing)."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            self.popen.terminate()
            with contextlib.suppress(BrokenPipeError):
                self.popen.stdin.close()
            self.popen.wait()


class LauncherPool:
    """Keeps up to `size` idle launchers ready; `start` hands one its task and readies a replacement."""

    def __init__(self, *, home: Path, size: int, early: EarlyLauncher | None = None) -> None:
        self.home = home
        self.size = size
        self._early = early
        self._idle: list[asyncio.subprocess.Process] = []
        self._spawning: set[asyncio.Task[None]] = set()
        self._closed = False

    def prime(self) -> None:
        """Start launchers in the background until `size` are idle or starting."""
        while not self._closed and len(self._idle) + len(self._spawning) < self.size:
            spawn = asyncio.create_task(self._spawn_idle())
            self._spawning.add(spawn)
            spawn.add_done_callback(self._spawning.discard)

    async def _spawn_idle(self) -> None:
        process = await self._spawn()
        if self._closed:
            await _dismiss(process)
        else:
            self._idle.append(process)

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *launcher_command(self.home), stdin=asyncio.subprocess.PIPE, start_new_session=True
        )

    async def start(self, task: dict[str, Any]) -> LauncherProcess:
        """A launcher running `task` (run_id, execution_id, task_dir, attempt)."""
        line = (json.dumps(task) + "\n").encode()
        early, self._early = self._early, None
        if early is not None and early.returncode is None and early.hand_over(line):
            self.prime()
            return early
        while self._idle:
            process = self._idle.pop(0)
            if process.returncode is None and await _hand_over(process, line):
                self.prime()
                return process
        process = await self._spawn()
        if not await _hand_over(process, line):
            raise OSError("a launcher exited before it was given its task")
        self.prime()
        return process

    async def close(self) -> None:
        """Dismiss idle launchers (they exit without doing anything) and stop starting new ones."""
        self._closed = True
        if self._early is not None:
            self._early.dismiss()
        for spawn in list(self._spawning):
            with contextlib.suppress(asyncio.CancelledError):
                await spawn
        idle, self._idle = self._idle, []
        for process in idle:
            await _dismiss(process)


async def _hand_over(process: asyncio.subprocess.Process, line: bytes) -> bool:
    assert process.stdin is not None
    try:
        process.stdin.write(line)
        await process.stdin.drain()
        process.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


async def _dismiss(process: asyncio.subprocess.Process) -> None:
    # An idle launcher has done nothing, so stopping it outright is safe and spares waiting for its imports.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    if process.stdin is not None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.close()
    await process.wait()
