"""A task attempt is a process tree its launcher owns and always reaps (issue 15, item 1), with
tests/pipelines/process_tree.py, whose component leaves two `sleep 300` behind (one in its process group,
one escaped with setsid):

- the task ends when its main process ends, and what it left running is killed then (as a pod's are);
- a stop (SIGTERM to the driver) reaches the whole tree, and the driver exits;
- whoever is killed first (the driver, the launcher, the component's main process, the fork server), no
  launcher or component process outlives it by more than the grace period, and each attempt has one
  outcome in the ledger.

Leftovers are found by an environment variable every process of the test run inherits (as in
test_signals.py); `setsid` keeps the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger import journal
from ledger.model import CANCELED, COMPLETE, FAILED, TERMINAL_STATES
from ledger.store import Ledger
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, run_driver
from tests.processes import TOKEN_VARIABLE, driver_in_background, gone_within, kill_leftovers, leftovers

RUN_ID = "tree"
GRACE = 5.0  # launcher.launch.KILL_GRACE_SECONDS


@dataclass
class HeldRun:
    process: subprocess.Popen[bytes]
    home: Path
    marker: Path
    token: str

    def wait_started(self) -> None:
        deadline = time.monotonic() + 60
        while not self.marker.with_name(self.marker.name + ".started").exists():
            assert self.process.poll() is None, "the driver ended before the component held"
            assert time.monotonic() < deadline
            time.sleep(0.02)

    def sleepers(self) -> list[int]:
        return [int(pid) for pid in self.marker.with_name(self.marker.name + ".pids").read_text().split()]

    def main_pid(self) -> int:
        return int(self.marker.with_name(self.marker.name + ".main").read_text())

    def launcher_pid(self) -> int:
        view = Ledger(self.home).open_run(RUN_ID).view()
        [execution] = [e for e in view.executions.values() if e.task_name == "leave-behind"]
        return int(execution.attempts[-1]["pid"])

    def terminal_records(self, task: str) -> list[str]:
        """The terminal states the journal gave the task's first execution (the held attempt): one outcome
        is one record."""
        view = Ledger(self.home).open_run(RUN_ID).view()
        first = min(e.id for e in view.executions.values() if e.task_name == task)
        records = journal.read_all(self.home / "ledger" / "runs" / f"{RUN_ID}.jsonl")
        updates = [r for r in records if r["kind"] == "execution_update" and r["id"] == first]
        return [r["state"] for r in updates if r.get("state") in TERMINAL_STATES]



@pytest.fixture
def held(compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path) -> Iterator[HeldRun]:
    token = f"tree-{uuid.uuid4().hex}"
    marker = tmp_path / "marker"
    arguments = (str(compile_pipeline("process_tree")), "--home", str(lpl_home), "--run-id", RUN_ID,
                 "-p", f"marker={marker}", "-p", "mode=hold")
    with driver_in_background(*arguments, token=token, release=marker.with_name("marker.release")) as process:
        run = HeldRun(process=process, home=lpl_home, marker=marker, token=token)
        run.wait_started()
        yield run


def test_a_task_ends_when_its_main_process_ends_and_its_leftovers_are_killed(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    token = f"tree-{uuid.uuid4().hex}"
    started = time.monotonic()
    try:
        run = run_driver(compile_pipeline("process_tree"), "-p", f"marker={marker}", home=lpl_home,
                         run_id=RUN_ID, env={TOKEN_VARIABLE: token})
        took = time.monotonic() - started

        assert run.returncode == 0, run.output
        assert took < 60, took  # not the 300 s the sleepers would hold the output pipe
        assert run.execution("after").state == COMPLETE
        pids = [int(pid) for pid in Path(f"{marker}.pids").read_text().split()]
        assert len(pids) == 2
        assert gone_within(pids, 0) == []  # killed when the main process ended, before the task was recorded
        assert leftovers(token) == []
    finally:
        kill_leftovers(token)


def test_a_stop_reaches_the_whole_tree_and_the_driver_exits(held: HeldRun) -> None:
    sleepers = held.sleepers()

    held.process.send_signal(signal.SIGTERM)

    assert held.process.wait(timeout=GRACE + 25) == 130
    assert gone_within(sleepers, 0) == []
    assert leftovers(held.token) == []
    assert held.terminal_records("leave-behind") == [CANCELED]


def test_sigkill_of_the_driver_leaves_no_process_beyond_the_grace_period(held: HeldRun) -> None:
    held.process.kill()
    held.process.wait()

    assert leftovers(held.token) == []  # within tests.processes.GONE_WITHIN, the grace period
    held.marker.with_name("marker.release").touch()
    resumed = run_cli("driver", "--resume", RUN_ID, home=held.home, env={TOKEN_VARIABLE: held.token})
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert held.terminal_records("leave-behind") == [CANCELED]  # the killed attempt: one outcome


def test_sigkill_of_the_launcher_leaves_no_component_process(held: HeldRun) -> None:
    sleepers, main = held.sleepers(), held.main_pid()

    os.kill(held.launcher_pid(), signal.SIGKILL)

    assert gone_within([main, *sleepers], GRACE) == []
    assert held.process.wait(timeout=60) == 1
    assert held.terminal_records("leave-behind") == [FAILED]
    assert leftovers(held.token) == []


def test_sigkill_of_the_component_ends_the_task_without_waiting_for_its_children(held: HeldRun) -> None:
    sleepers = held.sleepers()

    os.kill(held.main_pid(), signal.SIGKILL)

    assert held.process.wait(timeout=60) == 1  # the task FAILED: exit code -9
    assert gone_within(sleepers, 0) == []
    assert held.terminal_records("leave-behind") == [FAILED]
    assert leftovers(held.token) == []


def test_the_fork_servers_death_records_one_outcome_per_attempt(held: HeldRun) -> None:
    launcher = held.launcher_pid()
    with open(f"/proc/{launcher}/stat", "rb") as handle:
        server = int(handle.read().rsplit(b")", 1)[1].split()[1])

    os.kill(server, signal.SIGKILL)

    held.process.wait(timeout=60)
    assert held.terminal_records("leave-behind") == [CANCELED]  # not FAILED, then CANCELED
    assert leftovers(held.token) == []
