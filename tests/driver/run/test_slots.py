"""driver/run/slots.py: the run's attempt cap, widened while a loop with its own limit runs
(issue 15, item 9)."""

from __future__ import annotations

import asyncio

from driver.run.slots import DEFAULT_PARALLELISM, IdleCpu, Slots, cpu_times


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


def _idle() -> bool:
    return True


def _busy() -> bool:
    return False


def test_the_cap_holds_attempts_back() -> None:
    assert asyncio.run(_most_at_once(Slots(2, fixed=False, idle=_idle), attempts=6)) == 2


def test_a_loop_limit_widens_the_default_cap_while_it_runs() -> None:
    async def scenario() -> tuple[int, int]:
        slots = Slots(2, fixed=False, idle=_idle)
        during = await _most_at_once(slots, attempts=12, widen=8)
        after = await _most_at_once(slots, attempts=12)
        return during, after

    assert asyncio.run(scenario()) == (10, 2)


def test_an_explicit_parallelism_is_not_widened() -> None:
    assert asyncio.run(_most_at_once(Slots(3, fixed=True), attempts=12, widen=8)) == 3


def test_the_default_cap_is_not_the_cpu_count_of_a_small_machine() -> None:
    assert DEFAULT_PARALLELISM >= 8


def test_attempts_start_in_arrival_order_and_a_cancelled_waiter_loses_no_slot() -> None:
    async def scenario() -> tuple[list[int], int]:
        slots = Slots(1, fixed=True)
        order: list[int] = []
        await slots.acquire()  # the one slot is taken: everyone below waits

        async def attempt(index: int) -> None:
            async with slots:
                order.append(index)

        waiting = [asyncio.ensure_future(attempt(index)) for index in range(5)]
        await asyncio.sleep(0)
        waiting[1].cancel()  # gives up before its turn
        await slots.release()
        await asyncio.gather(*waiting, return_exceptions=True)
        return order, slots.in_use

    assert asyncio.run(scenario()) == ([0, 2, 3, 4], 0)


def test_a_waiter_cancelled_after_it_was_granted_passes_its_slot_on() -> None:
    async def scenario() -> tuple[bool, int]:
        slots = Slots(1, fixed=True)
        await slots.acquire()
        first = asyncio.ensure_future(slots.acquire())
        second = asyncio.ensure_future(slots.acquire())
        await asyncio.sleep(0)
        await slots.release()  # grants `first` ...
        first.cancel()  # ... which is cancelled before it resumes
        await asyncio.wait_for(second, timeout=1)
        return first.cancelled(), slots.in_use

    assert asyncio.run(scenario()) == (True, 1)


def test_beyond_one_attempt_per_cpu_the_default_cap_starts_attempts_only_on_an_idle_machine() -> None:
    assert asyncio.run(_most_at_once(Slots(16, fixed=False, cpus=2, idle=_busy), attempts=12)) == 2
    assert asyncio.run(_most_at_once(Slots(16, fixed=False, cpus=2, idle=_idle), attempts=12)) == 12
    # A loop's own limit and an explicit --parallelism are not held back by a busy machine.
    assert asyncio.run(_most_at_once(Slots(16, fixed=False, cpus=2, idle=_busy), attempts=12, widen=8)) == 10
    assert asyncio.run(_most_at_once(Slots(6, fixed=True, cpus=2, idle=_busy), attempts=12)) == 6


def test_a_held_back_attempt_starts_when_a_cpu_becomes_idle_without_waiting_for_a_release() -> None:
    async def scenario() -> tuple[int, int]:
        machine = {"idle": False}
        slots = Slots(16, fixed=False, cpus=2, idle=lambda: machine["idle"])
        await slots.acquire()
        await slots.acquire()
        third = asyncio.ensure_future(slots.acquire())
        await asyncio.sleep(0.1)
        held = slots.in_use
        machine["idle"] = True  # the two running attempts now wait on I/O
        await asyncio.wait_for(third, timeout=1)
        return held, slots.in_use

    assert asyncio.run(scenario()) == (2, 3)


class _Machine:
    """A machine's CPU time counters and clock, moved by hand: (idle, total) ticks and seconds."""

    def __init__(self) -> None:
        self.idle = self.total = 0
        self.now = 0.0

    def read(self) -> tuple[int, int]:
        return self.idle, self.total

    def run(self, seconds: float, *, idle_cpus: float, cpus: int = 2) -> None:
        ticks = int(seconds * 100 * cpus)  # the kernel counts 100 ticks a second per CPU
        self.idle += int(seconds * 100 * idle_cpus)
        self.total += ticks
        self.now += seconds


def test_idle_cpu_says_no_while_every_cpu_spins_and_yes_once_they_rest() -> None:
    machine = _Machine()
    idle = IdleCpu(window=0.2, cpus=2, read=machine.read, clock=lambda: machine.now)
    machine.run(0.3, idle_cpus=0)
    spinning = idle()
    machine.run(0.3, idle_cpus=0.4)  # less than half a CPU idle: still busy
    nearly = idle()
    machine.run(0.3, idle_cpus=1.5)
    rested = idle()
    machine.run(0.1, idle_cpus=2)
    assert (spinning, nearly, rested, idle()) == (False, False, True, False)  # the last: too soon


def test_idle_cpu_says_yes_where_the_counters_cannot_be_read() -> None:
    idle = IdleCpu(window=0.0, read=lambda: None)
    assert idle() is True


def test_the_machine_counters_are_read_from_proc_stat() -> None:
    first = cpu_times()
    if first is None:  # no /proc/stat here: IdleCpu always says yes (test above)
        return
    second = cpu_times()
    assert second is not None
    assert 0 <= first[0] <= first[1] and second[0] >= first[0] and second[1] >= first[1]
    assert isinstance(IdleCpu(window=0.0)(), bool)
