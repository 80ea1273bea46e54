"""How many task attempts run at once: a cap for the run, widened while a loop with its own limit runs.

Without `--parallelism` a loop's `parallelismLimit` is honoured as its author wrote it: while the loop runs,
the run's capacity grows by that limit (so eight sleepers in `ParallelFor(parallelism=8)` run eight at once
even where the default cap is lower) and shrinks back when the loop ends. `--parallelism N` is a fixed cap
for every attempt, loops included; the loop's own limit still bounds its iterations.
"""

from __future__ import annotations

import asyncio
import os
from types import TracebackType

# The cap for work outside loops with their own limit, chosen by measurement (scripts/measure_parallelism.py,
# README "Parallelism"): tasks mostly wait (on I/O, on a service, on `sleep`), so the CPU count starves them,
# while CPU-bound tasks lose nothing measurable up to 32 at once on 2 cores; the cap bounds memory instead.
DEFAULT_PARALLELISM = max(16, 2 * (os.cpu_count() or 1))


class Slots:
    """An asyncio limiter whose capacity can change while attempts hold it."""

    def __init__(self, capacity: int, *, fixed: bool) -> None:
        self.capacity = max(1, capacity)
        self.fixed = fixed
        self.in_use = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_use < self.capacity)
            self.in_use += 1

    async def release(self) -> None:
        async with self._changed:
            self.in_use -= 1
            self._changed.notify_all()

    async def widen(self, extra: int) -> None:
        """Room for `extra` more attempts (a loop's own limit) until `narrow(extra)`; no-op when fixed."""
        if self.fixed or extra <= 0:
            return
        async with self._changed:
            self.capacity += extra
            self._changed.notify_all()

    async def narrow(self, extra: int) -> None:
        """Give back what `widen(extra)` added; attempts already running finish, new ones wait."""
        if self.fixed or extra <= 0:
            return
        async with self._changed:
            self.capacity -= extra

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.release()
