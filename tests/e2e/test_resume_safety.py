"""`--resume` takes the run exclusively and trusts only what is still there (issue 15, items 2 and 7):

- the run is held by a lock for the driver's life, not by a pid check: a second `--resume` while one runs is
  refused with one line, and a live process that merely looks like a driver (a recycled pid, "driver" in its
  command line) does not block a resume (tests/pipelines/signals.py);
- a completed task whose artifact files were deleted runs again on resume, so its consumer reads a file that
  exists (tests/pipelines/resume_artifacts.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.model import COMPLETE, FAILED
from ledger.run_header import DriverStarted
from ledger.store import Ledger
from tests.cli import REPO_ROOT, run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of
from tests.e2e.test_signals import (  # `started` is the fixture: a driver running signals.py
    KILL_POINTS,
    RUN_ID,
    StartedRun,
    started,
)
from tests.processes import TOKEN_VARIABLE, leftovers

__all__ = ["started"]


def test_a_second_resume_is_refused_while_the_first_one_runs(started: StartedRun) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])
    assert started.stop(signal.SIGKILL) == -signal.SIGKILL
    assert leftovers(started.token) == []
    started.release.with_name("release.started").unlink()
    first = subprocess.Popen(
        [sys.executable, "-m", "driver", "--home", str(started.home), "--resume", RUN_ID],
        cwd=REPO_ROOT,
        env={**os.environ, TOKEN_VARIABLE: started.token},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started.process = first  # wait_for watches the resuming driver now
        started.wait_for("the held component, resumed", KILL_POINTS["while-the-component-runs"])

        second = run_cli("driver", "--resume", RUN_ID, home=started.home, env={TOKEN_VARIABLE: started.token})

        assert second.returncode == 2, second.stdout + second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "still running" in lines[0], second.stderr
        started.release.touch()
        assert first.wait(timeout=120) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    view = Ledger(started.home).open_run(RUN_ID).view()
    holds = [e for e in view.executions.values() if e.task_name == "hold"]
    assert [e.state for e in holds][-1] == COMPLETE
    # Every task ran to completion once after the kill: nothing was run by two drivers.
    completed = [e.task_name for e in view.executions.values() if e.state == COMPLETE and e.task_name]
    assert sorted(completed) == ["hold", "step", "step-2"]


def test_a_live_process_that_looks_like_a_driver_does_not_block_a_resume(
    started: StartedRun, tmp_path: Path
) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])
    assert started.stop(signal.SIGKILL) == -signal.SIGKILL
    # A recycled pid: a live process with "driver" in its command line, noted as the run's driver.
    impostor = subprocess.Popen(["bash", "-c", "exec -a python-m-driver sleep 60"])
    try:
        deadline = time.monotonic() + 10
        while b"driver" not in Path(f"/proc/{impostor.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline and impostor.poll() is None
            time.sleep(0.01)
        Ledger(started.home).open_run(RUN_ID).add_note(DriverStarted(driver_pid=impostor.pid))
        started.release.touch()

        env = {TOKEN_VARIABLE: started.token}
        resumed = run_cli("driver", "--resume", RUN_ID, home=started.home, env=env)

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    finally:
        impostor.kill()
        impostor.wait()


def test_resume_runs_a_completed_task_again_when_its_artifact_is_gone(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    package = compile_pipeline("resume_artifacts")
    marker = tmp_path / "marker"
    failed = run_driver(package, "-p", f"marker={marker}", home=lpl_home, run_id="gone")
    assert failed.returncode == 1, failed.output
    produced = artifacts_of(failed, failed.execution("produce"), "OUTPUT")["data"][0]["uri"]
    Path(produced).unlink()
    marker.touch()

    completed = run_cli("driver", "--resume", "gone", home=lpl_home)
    resumed = FinishedRun.read(run_id="gone", home=lpl_home, completed=completed)

    assert resumed.returncode == 0, resumed.output
    assert resumed.states("produce") == [COMPLETE, COMPLETE]
    assert resumed.states("consume") == [FAILED, COMPLETE]
    assert "is gone: running it again" in resumed.output
    assert resumed.executions("consume")[-1].properties["outputs"] == {"Output": "produced"}
