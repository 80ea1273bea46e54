"""An in-process runner for tests: attempts are recorded and answered by a function, nothing is started."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from launcher.runners.base import Attempt

# What the fake does with an attempt: the lines it prints and its exit code.
Script = Callable[[Attempt], tuple[list[bytes], int]]


class FakeRunner:
    name = "fake"

    def __init__(self, script: Script | None = None, *, hold: bool = False) -> None:
        self.script: Script = script or (lambda attempt: ([], 0))
        self.hold = hold  # started attempts run until stopped (to test interrupts)
        self.prepared: list[Attempt] = []
        self.started: list[FakeStarted] = []

    def prepare(self, attempt: Attempt, *, log: BinaryIO) -> Attempt:
        self.prepared.append(attempt)
        return attempt.but(command=attempt.program, args=(), python=None)

    def start(self, attempt: Attempt) -> FakeStarted:
        lines, code = self.script(attempt)
        started = FakeStarted(attempt, lines=lines, code=code, hold=self.hold)
        self.started.append(started)
        return started


class FakeStarted:
    def __init__(self, attempt: Attempt, *, lines: list[bytes], code: int, hold: bool) -> None:
        self.attempt = attempt
        self.lines = lines
        self.code = code
        self.stopped = threading.Event()
        if not hold:
            self.stopped.set()

    def output(self) -> Iterator[bytes]:
        yield from self.lines
        self._wait_stopped()

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.code = 143  # as a process ended by SIGTERM reports it
            self.stopped.set()

    def wait(self) -> int:
        self._wait_stopped()
        return self.code

    def _wait_stopped(self) -> None:
        # In slices: the launcher's signal handler runs in the main thread, which an Event.wait() without a
        # timeout would block (a real runner waits in a system call that a signal interrupts).
        while not self.stopped.wait(0.05):
            pass
