"""Stopping a run end to end (tests/pipelines/signals.py): SIGKILL of the driver at several points leaves no
launcher or component running, every record written before it readable, and a run that `--resume`
completes; SIGINT and SIGTERM stop the running task, record it and the run CANCELED, and exit 130.

The moment of each kill is found by polling the run's journal (or the file the held component writes when
it runs), never by a fixed sleep. Every process of a test run inherits a unique environment variable, which
is how leftovers are found in /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.model import CANCELED, COMPLETE, CONTAINER_EXECUTION, RUNNING, TERMINAL_STATES, RunView
from ledger.store import Ledger, RunLedger
from spec.errors import LedgerError
from tests.cli import REPO_ROOT, run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun
from tests.processes import TOKEN_VARIABLE, driver_in_background, kill_leftovers, leftovers, processes_with

RUN_ID = "stopped"
TASKS = ("step", "hold", "step-2")


@dataclass
class StartedRun:
    """A driver running tests/pipelines/signals.py in the background."""

    process: subprocess.Popen[bytes]
    home: Path
    release: Path
    token: str
    console: Path
    _run_ledger: RunLedger | None = None

    @property
    def output(self) -> str:
        return self.console.read_text(errors="replace")

    def view(self) -> RunView | None:
        """The run as recorded so far (read incrementally), or None before its journal exists."""
        if self._run_ledger is None:
            if not (self.home / "ledger" / "store.json").exists():
                return None
            try:
                self._run_ledger = Ledger(self.home, create=False).open_run(RUN_ID)
            except LedgerError:
                return None  # the run's journal is not written yet
        return self._run_ledger.view()

    def wait_for(self, what: str, predicate: Callable[[StartedRun], bool], *, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert self.process.poll() is None, f"the driver exited before {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {timeout}s:\n{self.output}"
            time.sleep(0.002)  # the window between a launcher's attempt record and its component is short

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)








@pytest.fixture
def started(compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path) -> Iterator[StartedRun]:
    token = f"signals-{uuid.uuid4().hex}"
    release = tmp_path / "release"
    console = tmp_path / "console.txt"
    package = str(compile_pipeline("signals"))
    arguments = (package, "--home", str(lpl_home), "--run-id", RUN_ID, "-p", f"release={release}")
    with driver_in_background(*arguments, token=token, release=release, console=console) as process:
        yield StartedRun(process=process, home=lpl_home, release=release, token=token, console=console)


def _execution_state(run: StartedRun, task: str) -> str | None:
    view = run.view()
    found = [e for e in view.executions.values() if e.task_name == task] if view else []
    return found[-1].state if found else None


def _has_attempt(run: StartedRun, task: str) -> bool:
    view = run.view()
    return view is not None and any(e.task_name == task and e.attempts for e in view.executions.values())


KILL_POINTS: dict[str, Callable[[StartedRun], bool]] = {
    # The run record is the first one a run writes: the driver has done nothing else yet.
    "right-after-the-run-record": lambda run: run.view() is not None,
    "as-the-first-task-completes": lambda run: _execution_state(run, "step") == COMPLETE,
    # The launcher has recorded its attempt; the component is about to start, or starting.
    "as-the-launcher-starts": lambda run: _has_attempt(run, "hold"),
    "while-the-component-runs": lambda run: run.release.with_name("release.started").exists(),
}


def _resume(run: StartedRun) -> FinishedRun:
    run.release.touch()
    completed = run_cli("driver", "--resume", RUN_ID, home=run.home, env={TOKEN_VARIABLE: run.token})
    return FinishedRun.read(run_id=RUN_ID, home=run.home, completed=completed)


def _assert_resumed_to_completion(run: StartedRun) -> None:
    resumed = _resume(run)
    assert resumed.returncode == 0, resumed.output
    assert resumed.view.state == COMPLETE
    assert resumed.root().state == COMPLETE
    for task in TASKS:
        assert COMPLETE in resumed.states(task), (task, resumed.states(task))
    unfinished = [e.to_json() for e in resumed.executions() if e.state not in TERMINAL_STATES]
    assert unfinished == [], "every execution ends in a terminal state"
    assert processes_with(run.token) == []


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_of_the_driver_leaves_no_process_and_a_resumable_run(started: StartedRun, point: str) -> None:
    started.wait_for(point, KILL_POINTS[point])
    seen = started.view()
    assert seen is not None
    seen_ids = set(seen.executions)

    assert started.stop(signal.SIGKILL) == -signal.SIGKILL
    assert leftovers(started.token) == []

    view = Ledger(started.home).open_run(RUN_ID).view()  # every record is readable, none is damaged
    assert seen_ids <= set(view.executions)
    assert view.state == RUNNING  # the driver never recorded an end
    shown = run_cli("ledger", "show", RUN_ID, "--json", home=started.home)
    assert shown.returncode == 0, shown.stderr

    _assert_resumed_to_completion(started)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_cancel_the_running_task_and_the_run(started: StartedRun, signum: int) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])

    assert started.stop(signum) == 130, started.output
    assert leftovers(started.token) == []
    view = Ledger(started.home).open_run(RUN_ID).view()
    assert view.state == CANCELED
    states = {e.task_name: e.state for e in view.executions.values() if e.type == CONTAINER_EXECUTION}
    assert states == {"step": COMPLETE, "hold": CANCELED}  # the last task never started
    root = next(e for e in view.executions.values() if e.name == f"run/{RUN_ID}")
    assert root.state == CANCELED
    assert "interrupted" in started.output

    _assert_resumed_to_completion(started)


def test_a_component_that_ignores_sigterm_is_killed_after_a_grace_period(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "stubborn"
    token = uuid.uuid4().hex
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "driver",
            "--home",
            str(lpl_home),
            str(compile_pipeline("stubborn")),
            "-p",
            f"marker={marker}",
            "--run-id",
            RUN_ID,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, TOKEN_VARIABLE: token},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{marker}.started").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
        assert leftovers(token) == []
        states = [
            e.state
            for e in Ledger(lpl_home).open_run(RUN_ID).view().executions.values()
            if e.type == CONTAINER_EXECUTION
        ]
        assert states == [CANCELED]
    finally:
        if process.poll() is None:
            process.kill()
        kill_leftovers(token)


def test_resume_is_refused_while_the_runs_driver_still_runs(started: StartedRun) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])

    refused = run_cli("driver", "--resume", RUN_ID, home=started.home)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "still running" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert started.stop(signal.SIGTERM) == 130  # the original driver was left alone
    _assert_resumed_to_completion(started)


def _attempt_pid(run: StartedRun, task: str) -> int:
    view = run.view()
    assert view is not None
    attempts = [a for e in view.executions.values() if e.task_name == task for a in e.attempts if "pid" in a]
    return int(attempts[-1]["pid"])


def _fork_server_pid(run: StartedRun) -> int:
    """The driver's child started with --serve (its launchers are forks that keep its command line)."""
    pids = [int(line.split(":", 1)[0]) for line in processes_with(run.token) if "--serve" in line]
    servers = [pid for pid in pids if _parent(pid) == run.process.pid]
    assert len(servers) == 1, pids
    return servers[0]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _assert_failed_not_complete(run: StartedRun, *, returncode: int) -> None:
    assert returncode == 1, run.output
    assert leftovers(run.token) == []
    view = Ledger(run.home).open_run(RUN_ID).view()
    assert view.state != COMPLETE and view.state != RUNNING, view.state
    states = {e.task_name: e.state for e in view.executions.values() if e.type == CONTAINER_EXECUTION}
    assert states["step"] == COMPLETE and states["hold"] in (CANCELED, "FAILED"), states
    assert "step-2" not in states, states
    root = next(e for e in view.executions.values() if e.name == f"run/{RUN_ID}")
    assert root.state == "FAILED", root.state
    assert "hold" in run.output
    # Every attempt record is closed, by its launcher or (when it was killed outright) by the driver.
    (hold,) = [e for e in view.executions.values() if e.task_name == "hold"]
    closed = ["end", "error", "exit_code", "number", "pid", "start", "state"]
    assert [sorted(a) for a in hold.attempts] == [closed], hold.attempts


# A stop that the driver did not ask for (a signal to one launcher, the fork server killed) is a failure of
# that task, never a success of the run: the run fails and `--resume` finishes it.
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_launcher_stopped_from_outside_fails_the_run(started: StartedRun, signum: int) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])

    os.kill(_attempt_pid(started, "hold"), signum)

    _assert_failed_not_complete(started, returncode=started.process.wait(timeout=30))
    _assert_resumed_to_completion(started)


def test_the_fork_server_killed_mid_run_fails_the_run(started: StartedRun) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])

    os.kill(_fork_server_pid(started), signal.SIGKILL)

    _assert_failed_not_complete(started, returncode=started.process.wait(timeout=30))
    _assert_resumed_to_completion(started)


_CALLER = """
import sys
from driver import run_pipeline
run_pipeline(sys.argv[1], {"release": sys.argv[2]}, home=sys.argv[3], run_id=sys.argv[4], echo=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_pipeline_caller_stops_its_run(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, signum: int
) -> None:
    token = f"caller-{uuid.uuid4().hex}"
    release = tmp_path / "release"
    caller = subprocess.Popen(
        [sys.executable, "-c", _CALLER, str(compile_pipeline("signals")), str(release), str(lpl_home),
         RUN_ID],
        cwd=REPO_ROOT, env={**os.environ, TOKEN_VARIABLE: token},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not release.with_name("release.started").exists():
            assert caller.poll() is None and time.monotonic() < deadline, "the held task never started"
            time.sleep(0.02)
        caller.send_signal(signum)
        assert caller.wait(timeout=10) == -signum

        assert leftovers(token, within=10) == []  # the driver noticed, stopped its task and ended
        view = Ledger(lpl_home).open_run(RUN_ID).view()
        assert view.state == CANCELED
        states = {e.task_name: e.state for e in view.executions.values() if e.type == CONTAINER_EXECUTION}
        assert states == {"step": COMPLETE, "hold": CANCELED}
    finally:
        release.touch()
        kill_leftovers(token)
