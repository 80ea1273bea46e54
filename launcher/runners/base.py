"""The runner seam: where one attempt of a container task runs (this machine, a Docker container, a cluster).

The launcher resolves placeholders, then hands a runner an `Attempt` (what the component needs) and drives it:

    prepared = runner.prepare(attempt, log=log)   # environment or image, cached; may take long
    started = runner.start(prepared)              # the component runs now
    for line in started.output(): ...             # its combined stdout/stderr, line by line
    started.stop()                                # (from a signal handler) stop it, escalating if ignored
    exit_code = started.wait()                    # 0 succeeded; the launcher collects outputs as always

A runner knows nothing of DAGs, ledgers or outputs; the launcher knows nothing of engines. Errors a runner
raises on purpose are `RunnerError` (or `EnvironmentBuildError` while preparing); the task then fails with
that message.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from spec.command import PythonPlan
from spec.contracts import LauncherTask
from spec.resources import ResourceSpec


@dataclass(frozen=True)
class Mount:
    """A host path the attempt sees at `target` (the same absolute path, for the run's own directories)."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class Attempt:
    """One attempt of one container task, as a runner needs it: nothing here is specific to an engine."""

    command: tuple[str, ...]  # the compiled command (the image's entrypoint when empty), resolved
    args: tuple[str, ...]  # the compiled args, resolved
    env: Mapping[str, str]  # the task's own variables (the container spec's env), not the launcher's
    cwd: Path  # the task directory
    python: PythonPlan | None  # a lightweight component: its install lines and the program after them
    image: str = ""
    mounts: tuple[Mount, ...] = ()  # directories the component must see: pipeline root, workspace, task dir
    resources: ResourceSpec = field(default_factory=ResourceSpec)
    label: str = ""  # the task as the console names it
    labels: Mapping[str, str] = field(default_factory=dict)  # identity: run id, execution id, attempt
    options: Mapping[str, Any] = field(default_factory=dict)  # runner settings, from the task contract
    task: LauncherTask | None = None  # the task contract (kfp-kubernetes settings, local sources, run facts)
    home: Path | None = None  # the home (`<home>/volumes/<name>` holds PVCs)

    @property
    def argv(self) -> tuple[str, ...]:
        """The command line as compiled (a lightweight component's preamble included)."""
        return (*self.command, *self.args)

    @property
    def program(self) -> tuple[str, ...]:
        """What runs once the environment is ready: the program after a lightweight component's preamble."""
        return self.python.program if self.python is not None else self.argv

    def but(self, **changes: Any) -> Attempt:
        return replace(self, **changes)


class Started(Protocol):
    """A running attempt."""

    def output(self) -> Iterator[bytes]:
        """Its combined stdout and stderr, one line (bytes, newline kept) at a time, until it ends."""
        ...

    def stop(self) -> None:
        """Ask it to stop (SIGTERM, then kill after a grace period); safe to call from a signal handler,
        more than once, and after it ended."""
        ...

    def wait(self) -> int:
        """Its exit code, once it ended."""
        ...


class Runner(Protocol):
    """Where attempts run."""

    name: str

    def prepare(self, attempt: Attempt, *, log: BinaryIO) -> Attempt:
        """Make ready what the attempt needs (a Python environment, an image), writing what that took to
        `log`; the attempt as it will start."""
        ...

    def start(self, attempt: Attempt) -> Started:
        """Start a prepared attempt; `RunnerError` when it cannot start."""
        ...


class Progress:
    """Lines about preparing what an attempt runs in (an environment, an image): into the task log and,
    prefixed with the task's label, onto the console unless the run is quiet."""

    def __init__(self, *, log: BinaryIO, label: str, console: bool = True) -> None:
        self.log = log
        self.prefix = f"[{label}] ".encode()
        self.console = console

    @classmethod
    def of(cls, attempt: Attempt, *, log: BinaryIO) -> Progress:
        quiet = attempt.task is not None and attempt.task.console == "quiet"
        return cls(log=log, label=attempt.label, console=not quiet)

    def line(self, text: str) -> None:
        data = f"[launcher] {text}\n".encode()
        self.log.write(data)
        if self.console:
            sys.stdout.buffer.write(self.prefix + data)
            sys.stdout.buffer.flush()
