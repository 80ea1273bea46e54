"""Container lifetime under `--runner docker`: a cache hit starts no container; SIGKILL of the driver or of a
launcher leaves no container behind within 10 s, and `--resume` then completes the run; SIGINT stops the
containers; a missing image fails its task naming the image and how to provide it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.model import CACHED, CANCELED, COMPLETE, FAILED, REPLAY_OF, RUNNING, is_current
from ledger.store import Ledger
from tests.cli import REPO_ROOT
from tests.e2e.docker_support import RUN_LABEL, run_containers, wait_for
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

ORPHAN_DEADLINE = 10.0


@dataclass
class SleepingRun:
    """A `docker_lifecycle` run started in the background, its `sleeper` container running."""

    process: subprocess.Popen[bytes]
    run_id: str
    home: Path
    root: Path
    console: Path


@pytest.fixture
def sleeping(compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any) -> Iterator[SleepingRun]:
    run_id = f"sleeping-{os.getpid()}-{tmp_path.name}"
    root = tmp_path / "root"
    root.mkdir()
    console = tmp_path / "console.txt"
    with open(console, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "driver",
                str(compile_pipeline("docker_lifecycle")),
                "--home",
                str(tmp_path / "home"),
                "--run-id",
                run_id,
                "--runner",
                "docker",
                "--pipeline-root",
                str(root),
                "-p",
                f"marker={root / 'marker'}",
                "-p",
                "seconds=120",
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    sleeping = SleepingRun(process=process, run_id=run_id, home=tmp_path / "home", root=root, console=console)
    try:
        wait_for(lambda: _running(docker_client, run_id, task="sleeper"), timeout=60, what="the sleeper")
        yield sleeping
    finally:
        if process.poll() is None:
            process.kill()
        for container in run_containers(docker_client, run_id):  # only after a failed test
            docker_client.api.remove_container(container["Id"], force=True)


def _running(client: Any, run_id: str, *, task: str) -> list[dict[str, Any]]:
    return [
        c
        for c in run_containers(client, run_id)
        if c["State"] == "running" and c["Labels"].get("io.local-pipelines.task") == task
    ]


def test_a_sigkilled_driver_leaves_no_container_and_resume_completes(
    sleeping: SleepingRun, docker_client: Any
) -> None:
    sleeping.process.kill()
    sleeping.process.wait()
    took = wait_for(
        lambda: not run_containers(docker_client, sleeping.run_id),
        timeout=ORPHAN_DEADLINE,
        what="the killed driver's containers to go",
    )
    assert took < ORPHAN_DEADLINE
    resumed = _resume(sleeping)
    assert resumed.returncode == 0, resumed.output
    current = [e for e in resumed.executions("sleeper") if is_current(e)]
    assert [e.state for e in current] == [COMPLETE]
    assert "[sleeper] woke" in resumed.completed.stdout
    assert run_containers(docker_client, sleeping.run_id) == []


def _resume(sleeping: SleepingRun) -> FinishedRun:
    from tests.cli import run_cli

    completed = run_cli("driver", "--resume", sleeping.run_id, "--runner", "docker", home=sleeping.home)
    return FinishedRun.read(run_id=sleeping.run_id, home=sleeping.home, completed=completed)


def test_a_sigkilled_launcher_leaves_no_container(sleeping: SleepingRun, docker_client: Any) -> None:
    (container,) = _running(docker_client, sleeping.run_id, task="sleeper")
    os.kill(int(container["Labels"]["io.local-pipelines.launcher-pid"]), signal.SIGKILL)
    wait_for(
        lambda: not _running(docker_client, sleeping.run_id, task="sleeper"),
        timeout=ORPHAN_DEADLINE,
        what="the killed launcher's container to go",
    )
    assert sleeping.process.wait(timeout=60) == 1  # the task failed: its launcher died


def test_sigint_stops_the_containers_and_records_the_task_canceled(
    sleeping: SleepingRun, docker_client: Any
) -> None:
    sleeping.process.send_signal(signal.SIGINT)
    assert sleeping.process.wait(timeout=30) == 130
    assert run_containers(docker_client, sleeping.run_id) == []
    stopped = FinishedRun.read(
        run_id=sleeping.run_id,
        home=sleeping.home,
        completed=subprocess.CompletedProcess([], 130, sleeping.console.read_text(), ""),
    )
    assert stopped.execution("sleeper").state == CANCELED


def test_a_cache_hit_starts_no_container(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    package = compile_pipeline("docker_lifecycle")
    root = tmp_path / "root"
    root.mkdir()
    (root / "marker").touch()  # the sleeper finishes at once
    args = ["--runner", "docker", "--pipeline-root", str(root), "-p", f"marker={root / 'marker'}"]
    first = run_driver(package, *args, home=tmp_path / "home", run_id="first")
    assert first.returncode == 0, first.output
    since = int(time.time()) - 1
    second = run_driver(package, *args, home=tmp_path / "home", run_id="second")
    assert second.returncode == 0, second.output
    assert second.execution("greet").state == CACHED
    created = docker_client.events(
        since=since,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "create", "label": f"{RUN_LABEL}=second"},
    )
    tasks = [event["Actor"]["Attributes"].get("io.local-pipelines.task") for event in created]
    assert tasks == ["sleeper"]  # the uncached task only


def test_a_missing_image_fails_the_task_naming_the_image_and_how_to_provide_it(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    run = run_driver(compile_pipeline("docker_missing_image"), "--runner", "docker", home=tmp_path)
    assert run.returncode == 1
    assert run.execution("absent").state == FAILED
    error = run.execution("absent").properties["error"]
    assert "image 'lpl-test/absent:404' is not on this machine and cannot be pulled" in error, error
    assert "docker import" in error and "docker build" in error


def test_run_pipeline_runs_in_containers_with_runner_docker(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    from driver import run_pipeline

    root = tmp_path / "root"
    root.mkdir()
    (root / "marker").touch()
    run_id = f"api-{os.getpid()}-{time.time_ns()}"
    since = int(time.time()) - 1
    result = run_pipeline(
        compile_pipeline("docker_lifecycle"),
        {"marker": str(root / "marker")},
        home=tmp_path / "home",
        pipeline_root=root,
        runner="docker",
        run_id=run_id,
        echo=False,
    )
    assert result.succeeded, result
    created = docker_client.events(
        since=since,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "create", "label": f"{RUN_LABEL}={run_id}"},
    )
    assert sorted(event["Actor"]["Attributes"]["io.local-pipelines.task"] for event in created) == [
        "greet",
        "sleeper",
    ]


def test_a_sigkilled_replay_leaves_no_container_and_records_its_execution(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    home, root = tmp_path / "home", tmp_path / "root"
    root.mkdir()
    marker = root / "marker"
    marker.touch()  # the recorded run's sleeper wakes at once; its replay, without the marker, sleeps
    run = run_driver(
        compile_pipeline("docker_lifecycle"), "--runner", "docker", "--pipeline-root", str(root),
        "-p", f"marker={marker}", "-p", "seconds=120", home=home, run_id=f"replayed-{tmp_path.name}",
    )
    assert run.returncode == 0, run.output
    marker.unlink()
    replay = subprocess.Popen(
        [sys.executable, "-m", "launcher", "replay", "--home", str(home), "--run", run.run_id,
         "--task", "sleeper"],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _running(docker_client, run.run_id, task="sleeper"), timeout=60, what="the replay")
        replay.kill()
        replay.wait()
        took = wait_for(
            lambda: not run_containers(docker_client, run.run_id), timeout=10, what="the replay's container"
        )
        assert took < 10

        def replayed_states() -> list[str]:
            executions = Ledger(home).open_run(run.run_id).view().executions.values()
            return [e.state for e in executions if e.properties.get(REPLAY_OF)]

        # The launcher removes the container, then records the stop: read once it has.
        wait_for(lambda: RUNNING not in replayed_states(), timeout=10, what="the replay's record")
        assert replayed_states() == [CANCELED]  # recorded by its launcher, never left RUNNING
    finally:
        if replay.poll() is None:
            replay.kill()
        for container in run_containers(docker_client, run.run_id):
            docker_client.api.remove_container(container["Id"], force=True)
