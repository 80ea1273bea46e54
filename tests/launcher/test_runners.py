"""The runner seam: the launcher drives any runner the same way (prepare, start, stream, stop, exit code)."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher import launch
from launcher.echo import OutputStream
from launcher.runners import RUNNERS, Attempt, runner_named
from launcher.runners.fake import FakeRunner
from launcher.runners.host import HostRunner
from spec.command import PythonPlan
from spec.errors import RunnerError
from spec.runner_choice import KNOWN_RUNNERS


@pytest.fixture(autouse=True)
def _keep_signal_handlers() -> Iterator[None]:
    """The launcher's interrupt handling installs SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _stream(log: io.BytesIO | None = None) -> OutputStream:
    return OutputStream(log=log or io.BytesIO(), console=sys.stdout.buffer, label="t")


def _attempt(tmp_path: Path, *argv: str, image: str = "") -> Attempt:
    return Attempt(
        command=argv[:1],
        args=argv[1:],
        env={"GREETING": "hi"},
        cwd=tmp_path,
        python=None,
        image=image,
        label="t",
    )


def test_every_runner_the_driver_may_choose_is_registered_in_the_launcher() -> None:
    assert set(KNOWN_RUNNERS) == set(RUNNERS)


def test_an_unknown_runner_is_refused_by_name() -> None:
    with pytest.raises(RunnerError, match="no runner 'warp'"):
        runner_named("warp")


def test_preloading_a_runner_imports_what_its_attempts_use_and_ignores_unknown_names() -> None:
    # In a fresh process: this one may have imported the Docker SDK already.
    script = (
        "import sys; from launcher.runners import preload_runner\n"
        "preload_runner('warp'); print('docker' in sys.modules)\n"
        "preload_runner('docker'); print('docker' in sys.modules, 'docker.types' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )

    assert ran.stdout.split() == ["False", "True", "True"], ran.stderr


def test_the_driver_has_its_fork_server_preload_the_runners_it_names() -> None:
    from driver.__main__ import _parser, _runners_named

    def named(*argv: str) -> set[str]:
        return _runners_named(_parser().parse_args(["p.json", *argv]))

    assert named() == set()
    assert named("--runner", "docker") == {"docker"}
    assert named("--runner-for", "train*=docker", "--runner-for", "eval = ray") == {"docker", "ray"}


def test_the_launcher_streams_a_runners_output_to_the_log_and_returns_its_exit_code(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    runner = FakeRunner(lambda attempt: ([b"one\n", b"two"], 3))
    log = io.BytesIO()
    code = launch.run_attempt(
        runner, _attempt(tmp_path, "prog"), stream=_stream(log), interrupt=launch._Interrupt()
    )
    assert code == 3
    assert log.getvalue() == b"one\ntwo"
    assert capfdbinary.readouterr().out == b"[t] one\n[t] two\n"


def test_prepare_hands_the_program_after_a_lightweight_components_preamble(tmp_path: Path) -> None:
    plan = PythonPlan(installs=(("kfp==2.17.3",),), program=("python3", "-m", "kfp.dsl.executor_main"))
    attempt = _attempt(tmp_path, "sh", "-c", 'pip install kfp && "$0" "$@"', "python3").but(python=plan)
    runner = FakeRunner()
    launch.run_attempt(runner, attempt, stream=_stream(), interrupt=launch._Interrupt())
    assert runner.prepared[0].argv[0] == "sh"  # the runner receives the compiled command whole
    assert runner.started[0].attempt.argv == plan.program


def test_an_interrupt_during_prepare_starts_nothing(tmp_path: Path) -> None:
    runner = FakeRunner()
    interrupt = launch._Interrupt()
    interrupt.requested = True
    code = launch.run_attempt(runner, _attempt(tmp_path, "prog"), stream=_stream(), interrupt=interrupt)
    assert code == launch.EXIT_INTERRUPTED
    assert runner.started == []


def test_a_signal_stops_the_running_attempt(tmp_path: Path) -> None:
    runner = FakeRunner(hold=True)
    interrupt = launch._Interrupt()
    timer = threading.Timer(0.2, signal.raise_signal, args=(signal.SIGINT,))
    timer.start()
    code = launch.run_attempt(runner, _attempt(tmp_path, "prog"), stream=_stream(), interrupt=interrupt)
    assert interrupt.requested
    assert code == 143


def test_host_runner_passes_the_task_variables_and_runs_in_the_task_dir(tmp_path: Path) -> None:
    runner = HostRunner()
    prepared = runner.prepare(_attempt(tmp_path, "sh", "-c", "echo $GREETING; pwd"), log=io.BytesIO())
    started = runner.start(prepared)
    assert b"".join(started.output()) == f"hi\n{tmp_path}\n".encode()
    assert started.wait() == 0


def test_host_runner_names_the_docker_runner_when_a_program_may_exist_only_in_the_image(
    tmp_path: Path,
) -> None:
    runner = HostRunner()
    prepared = runner.prepare(_attempt(tmp_path, "acme-tool", image="acme/tools:1"), log=io.BytesIO())
    with pytest.raises(RunnerError, match=r"cannot start 'acme-tool'.*--runner docker"):
        runner.start(prepared)


def test_host_runner_stops_what_its_component_left_but_not_its_callers_other_children(tmp_path: Path) -> None:
    # A Ray worker (or this test) has children of its own besides the component: they are not the task's.
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        runner = HostRunner()
        left = tmp_path / "left.pid"
        script = f"sleep 30 & echo $! > {left}; exit 0"
        prepared = runner.prepare(_attempt(tmp_path, "sh", "-c", script), log=io.BytesIO())
        started = runner.start(prepared)
        assert started.wait() == 0
        leftover = int(left.read_text())
        assert not Path(f"/proc/{leftover}").exists() or "Z" in Path(f"/proc/{leftover}/stat").read_text()
        assert bystander.poll() is None  # still running, and still this test's to collect
    finally:
        bystander.kill()
    assert bystander.wait() == -signal.SIGKILL
