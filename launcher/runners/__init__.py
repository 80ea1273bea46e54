"""Runners by name: `host` (the default), `docker`, `ray`; another engine registers here (see base.py)."""

from __future__ import annotations

import importlib

from launcher.runners.base import Attempt, Mount, Runner, Started
from spec.errors import RunnerError

__all__ = [
    "RUNNERS",
    "Attempt",
    "Mount",
    "Runner",
    "Started",
    "clean_after_launcher",
    "preload_runner",
    "runner_named",
]

# name -> "module:class"; imported only when a task asks for it (the host runner must not pay for Docker).
RUNNERS = {
    "host": "launcher.runners.host:HostRunner",
    "docker": "launcher.runners.docker:DockerRunner",
    "ray": "launcher.runners.ray:RayRunner",
}


def runner_named(name: str) -> Runner:
    """The runner called `name`, ready to prepare and start attempts."""
    where = RUNNERS.get(name)
    if where is None:
        raise RunnerError(f"no runner {name!r}; known runners: {', '.join(sorted(RUNNERS))}")
    module_name, _, class_name = where.partition(":")
    runner: Runner = getattr(importlib.import_module(module_name), class_name)()
    return runner


def preload_runner(name: str) -> None:
    """Import the runner called `name` and what its attempts use (its module's `preload`), in a process
    that forks launchers; an unknown name is left to the launcher that meets it."""
    where = RUNNERS.get(name)
    if where is None:
        return
    module = importlib.import_module(where.partition(":")[0])
    preload = getattr(module, "preload", None)
    if preload is not None:
        preload()


def clean_after_launcher(pid: int) -> None:
    """Launcher `pid` died without cleaning up (SIGKILL): remove what it started in an engine."""
    from launcher.runners.docker_guard import remove_containers_of

    remove_containers_of(pid)
