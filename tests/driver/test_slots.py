"""driver/slots.py: the run's attempt cap, widened while a loop with its own limit runs (issue 15, item 9)."""

from __future__ import annotations

import asyncio

from driver.slots import DEFAULT_PARALLELISM, Slots


async def _most_at_once(slots: Slots, *, attempts: int, widen: int = 0) -> int:
    running = most = 0

    async def attempt() -> None:
        nonlocal running, most
        async with slots:
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1

    await slots.widen(widen)
    try:
        await asyncio.gather(*(attempt() for _ in range(attempts)))
    finally:
        await slots.narrow(widen)
    return most


def test_the_cap_holds_attempts_back() -> None:
    assert asyncio.run(_most_at_once(Slots(2, fixed=False), attempts=6)) == 2


def test_a_loop_limit_widens_the_default_cap_while_it_runs() -> None:
    async def scenario() -> tuple[int, int]:
        slots = Slots(2, fixed=False)
        during = await _most_at_once(slots, attempts=12, widen=8)
        after = await _most_at_once(slots, attempts=12)
        return during, after

    assert asyncio.run(scenario()) == (10, 2)


def test_an_explicit_parallelism_is_not_widened() -> None:
    assert asyncio.run(_most_at_once(Slots(3, fixed=True), attempts=12, widen=8)) == 3


def test_the_default_cap_is_not_the_cpu_count_of_a_small_machine() -> None:
    assert DEFAULT_PARALLELISM >= 8
