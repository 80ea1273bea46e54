"""The host runner (the default): the component's command runs on this machine, a lightweight Python
component in a cached virtual environment holding exactly what its compiled preamble would install."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from launcher import process_tree
from launcher.environment import ensure_environment
from launcher.kubernetes_host import host_environment
from launcher.lifetime import die_with_parent
from launcher.runners.base import Attempt, Progress, Started
from launcher.warm.client import start_ahead, start_warm
from spec.command import (
    ENVIRONMENT_READY,
    environment_dir,
    executor_program,
    plan_python_component,
    start_mode,
)
from spec.contracts import WarmAhead
from spec.errors import RunnerError

KILL_GRACE_SECONDS = 5.0


class HostRunner:
    name = "host"

    def prepare(self, attempt: Attempt, *, log: BinaryIO) -> Attempt:
        env = dict(os.environ) | dict(attempt.env)
        if attempt.task is not None:
            env |= host_environment(attempt.task)
        if attempt.python is not None:
            build_log: list[str] = []
            try:
                env_dir = ensure_environment(
                    attempt.python, log=build_log, say=Progress.of(attempt, log=log).line
                )
            finally:  # a failed build's output is what the user needs to read
                log.write("".join(line + "\n" for line in build_log).encode())
            env = _in_environment(env, env_dir)
        env["PYTHONUNBUFFERED"] = "1"
        # `python` stays: `start` forks a lightweight component from its environment's warm interpreter.
        return attempt.but(command=attempt.program, args=(), env=env)

    def start(self, attempt: Attempt) -> Started:
        warm = _start_warm(attempt)
        if warm is not None:
            return warm
        spare = process_tree.other_children()  # not the component's: a Ray worker's or a test's own
        try:
            child = subprocess.Popen(
                list(attempt.argv),
                env=dict(attempt.env),
                cwd=attempt.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        except OSError as exc:
            raise RunnerError(_start_failure(attempt, exc)) from exc
        return HostStarted(child, spare=spare)


def _in_environment(env: dict[str, str], env_dir: Path) -> dict[str, str]:
    """The variables of a process run in the cached environment `env_dir`."""
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(env_dir)
    env.pop("PYTHONHOME", None)
    # The env is built without bytecode (compiling all of numpy costs over a second); each module's
    # bytecode is written into the cached env the first time a component imports it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_ahead(request: WarmAhead) -> None:
    """`spec.contracts.WarmAhead`, in a child of the fork server: start now the warm interpreter a task of
    this executor would be forked from, with the variables its launcher would give it, if its environment
    is built (it is never built here: the first task builds it, saying so on the console)."""
    plan = plan_python_component(request.command, request.args, kfp_package=request.kfp_package)
    program = executor_program(plan.program) if plan is not None else None
    if plan is None or program is None:
        return
    env_dir = environment_dir(plan)
    if not (env_dir / ENVIRONMENT_READY).exists():
        return
    env = _in_environment(dict(os.environ) | request.variables, env_dir)
    env["PYTHONUNBUFFERED"] = "1"
    start_ahead(program, env_dir=env_dir, env=env, driver_pid=request.driver_pid)


def starts_warm(attempt: Attempt) -> bool:
    """Whether the attempt would be forked from a warm interpreter (unless that cannot start): a
    lightweight component whose program is the SDK's own, run by a driver, without `--cold-start`."""
    cold_start = bool(attempt.options.get("cold_start"))
    warm = start_mode(attempt.python, cold_start=cold_start) == "warm"
    return warm and attempt.task is not None and bool(attempt.task.driver_pid)


def _start_warm(attempt: Attempt) -> Started | None:
    program = executor_program(attempt.program)
    if not starts_warm(attempt) or program is None or attempt.python is None or attempt.task is None:
        return None
    return start_warm(
        program,
        env_dir=environment_dir(attempt.python),
        env=attempt.env,
        cwd=attempt.cwd,
        driver_pid=attempt.task.driver_pid or 0,
    )


def _start_failure(attempt: Attempt, exc: OSError) -> str:
    message = f"cannot start {attempt.argv[0]!r}: {exc.strerror}"
    if attempt.image and isinstance(exc, FileNotFoundError):
        message += (
            f" (the host runner does not use the task's image {attempt.image!r}; if the program exists only"
            " there, `--runner docker` runs the task in its image)"
        )
    return message


def _child_setup() -> None:
    die_with_parent(signal.SIGKILL)


class HostStarted:
    """The component's process, its own session; it and whatever it starts are stopped as one tree."""

    def __init__(self, child: subprocess.Popen[bytes], *, spare: frozenset[int] = frozenset()) -> None:
        self.child = child
        self.spare = spare  # children of this process that were there before the component

    def output(self) -> Iterator[bytes]:
        assert self.child.stdout is not None
        yield from self.child.stdout

    def wait(self) -> int:
        code = self.child.wait()
        # The task ends when its main process ends: what it left running is killed now, as in a pod.
        process_tree.kill_tree(group=self.child.pid, root=os.getpid(), spare=self.spare)
        return code

    def stop(self) -> None:
        # The whole tree, even when the main process is gone: what it left behind is stopped too.
        process_tree.signal_tree(
            group=self.child.pid, root=os.getpid(), signum=signal.SIGTERM, spare=self.spare
        )
        # A component that ignores SIGTERM must not hold its launcher (and the run) forever.
        timer = threading.Timer(KILL_GRACE_SECONDS, self._kill)
        timer.daemon = True
        timer.start()

    def _kill(self) -> None:
        process_tree.signal_tree(
            group=self.child.pid, root=os.getpid(), signum=signal.SIGKILL, spare=self.spare
        )
