"""How many task attempts run at once: a cap for the run, widened while a loop with its own limit runs.

Without `--parallelism` a loop's `parallelismLimit` is honoured as its author wrote it: while the loop runs,
the run's capacity grows by that limit (so eight sleepers in `ParallelFor(parallelism=8)` run eight at once
even where the default cap is lower) and shrinks back when the loop ends. `--parallelism N` is a fixed cap
for every attempt, loops included; the loop's own limit still bounds its iterations.

Under the default cap, attempts beyond one per CPU (and beyond what loops' own limits asked for) start one
at a time, each only once a CPU has been idle for a moment: attempts that wait (on I/O, a service, `sleep`)
make room for more, up to the cap, while CPU-bound attempts are not piled onto busy cores, where every
process runs slower (measured: 60 trivial Python tasks on 2 cores took 1.25 times as long 16 at once as 2
at once).
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import Callable
from types import TracebackType

# The cap for work outside loops with their own limit, chosen by measurement (scripts/measure_parallelism.py,
# README "Parallelism"): tasks that mostly wait (on I/O, on a service, on `sleep`) are starved by the CPU
# count; beyond one attempt per CPU, attempts start only while a CPU is idle (`IdleCpu`).
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
DEFAULT_PARALLELISM = max(16, 2 * CPUS)
# How often a held-back attempt looks whether a CPU has been idle, and the least time between two such
# starts (the kernel counts CPU time in 10 ms ticks: a shorter look sees too few of them).
IDLE_WINDOW_SECONDS = 0.05


class IdleCpu:
    """Whether about one CPU (half or more) was idle since the previous look, from the kernel's CPU time
    counters (/proc/stat, or what `read` returns: (idle, total) ticks); a look sooner than `window` after
    the previous one answers no. Where there is no /proc/stat the answer is always yes (the cap alone
    limits)."""

    def __init__(
        self,
        window: float = IDLE_WINDOW_SECONDS,
        cpus: int = CPUS,
        *,
        read: Callable[[], tuple[int, int] | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.cpus = cpus
        self._read = read if read is not None else cpu_times
        self._clock = clock
        self._at = clock()
        self._last = self._read()

    def __call__(self) -> bool:
        now = self._clock()
        if now - self._at < self.window:
            return False
        sample = self._read()
        if sample is None or self._last is None:
            return True
        (idle, total), (last_idle, last_total) = sample, self._last
        self._at, self._last = now, sample
        return total > last_total and (idle - last_idle) / (total - last_total) * self.cpus >= 0.5


def cpu_times() -> tuple[int, int] | None:
    """(idle, total) CPU ticks of the whole machine, from the `cpu` line of /proc/stat (iowait is idle)."""
    try:
        with open("/proc/stat", "rb") as handle:
            fields = [int(field) for field in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 5:
        return None
    return fields[3] + fields[4], sum(fields[:8])


class Slots:
    """An asyncio limiter whose capacity can change while attempts hold it.

    Waiters queue in arrival order and each freed slot wakes exactly one of them (a condition's
    `notify_all` would resume every waiting task's coroutine stack for each release: quadratic in a wide
    fan-out).
    """

    def __init__(
        self, capacity: int, *, fixed: bool, idle: Callable[[], bool] | None = None, cpus: int = CPUS
    ) -> None:
        self.capacity = max(1, capacity)
        self.fixed = fixed
        self.in_use = 0
        # Unfixed, attempts up to `free` start at once; the rest of the capacity one at a time, each when
        # `idle()` says a CPU was idle lately.
        self.free = min(self.capacity, cpus)
        self._idle = idle if idle is not None else IdleCpu(cpus=cpus)
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._recheck: asyncio.TimerHandle | None = None

    async def acquire(self) -> None:
        if not self._waiters and self._may_start():
            self.in_use += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(granted)
        self._grant()  # schedules a look again when only busy CPUs hold it back
        try:
            await granted  # set by `_grant`, which has counted the slot for us
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # granted, then cancelled: pass the slot on
                self.in_use -= 1
                self._grant()
            else:
                self._waiters.remove(granted)
            raise

    async def release(self) -> None:
        self.in_use -= 1
        self._grant()

    async def widen(self, extra: int) -> None:
        """Room for `extra` more attempts (a loop's own limit) until `narrow(extra)`; no-op when fixed."""
        if self.fixed or extra <= 0:
            return
        self.capacity += extra
        self.free += extra
        self._grant()

    async def narrow(self, extra: int) -> None:
        """Give back what `widen(extra)` added; attempts already running finish, new ones wait."""
        if self.fixed or extra <= 0:
            return
        self.capacity -= extra
        self.free -= extra

    def _may_start(self) -> bool:
        if self.in_use >= self.capacity:
            return False
        return self.fixed or self.in_use < self.free or self._idle()

    def _grant(self) -> None:
        while self._waiters and self._may_start():
            granted = self._waiters.popleft()
            if not granted.done():
                self.in_use += 1
                granted.set_result(None)
        if self._waiters and self.in_use < self.capacity and self._recheck is None:
            # Held back by busy CPUs, not by the cap: no release may come soon, so look again.
            self._recheck = asyncio.get_running_loop().call_later(IDLE_WINDOW_SECONDS, self._look_again)

    def _look_again(self) -> None:
        self._recheck = None
        self._grant()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.release()
