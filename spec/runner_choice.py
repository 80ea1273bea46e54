"""Which runner each task attempt goes to: `--runner NAME` for all, `--runner-for PATTERN=NAME` for some.

PATTERN is a shell glob (`fnmatch`, case-sensitive) matched against the task's key (`train`), its path
(`outer/train`) and its image (`alpine:3.20`, `*/trainer:*`); the first `--runner-for` whose pattern matches
any of them decides, else `--runner`. The driver decides and writes the name into the task contract; the
launcher starts that runner.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from spec.errors import OptionError

# Names the launcher's registry (launcher/runners/__init__.py) knows; a test keeps the two in step.
KNOWN_RUNNERS = ("host", "docker", "ray")
DEFAULT_RUNNER = "host"


@dataclass(frozen=True)
class RunnerRule:
    pattern: str
    runner: str


@dataclass(frozen=True)
class RunnerChoice:
    default: str = DEFAULT_RUNNER
    rules: tuple[RunnerRule, ...] = ()

    def for_task(self, *, task_key: str, task_path: str, image: str) -> str:
        for rule in self.rules:
            if any(fnmatch.fnmatchcase(name, rule.pattern) for name in (task_key, task_path, image) if name):
                return rule.runner
        return self.default

    def to_json(self) -> dict[str, Any]:
        return {"default": self.default, "rules": [[rule.pattern, rule.runner] for rule in self.rules]}

    @classmethod
    def from_json(cls, data: Any) -> RunnerChoice:
        """As `to_json` wrote it (a run's header); anything else is the default choice."""
        if not isinstance(data, dict):
            return cls()
        rules = tuple(RunnerRule(pattern=str(p), runner=str(r)) for p, r in data.get("rules") or [])
        return cls(default=str(data.get("default") or DEFAULT_RUNNER), rules=rules)

    @property
    def names(self) -> set[str]:
        """Every runner this choice can pick."""
        return {self.default, *(rule.runner for rule in self.rules)}


def parse_runner_choice(default: str | None, runner_for: list[str]) -> RunnerChoice:
    """From `--runner` and the `--runner-for` items; an unknown runner or a bad item is an OptionError."""
    chosen = _known(default or DEFAULT_RUNNER, option="--runner")
    rules = []
    for item in runner_for:
        pattern, sep, runner = item.rpartition("=")
        if not sep or not pattern or not runner:
            raise OptionError(f"--runner-for {item!r}: expected PATTERN=RUNNER, e.g. 'train*=docker'")
        rules.append(RunnerRule(pattern=pattern, runner=_known(runner, option=f"--runner-for {item!r}")))
    return RunnerChoice(default=chosen, rules=tuple(rules))


def _known(name: str, *, option: str) -> str:
    if name not in KNOWN_RUNNERS:
        raise OptionError(f"{option}: no runner {name!r}; choose one of {', '.join(KNOWN_RUNNERS)}")
    return name


def runner_options(
    *,
    ignore_accelerators: bool,
    docker_network: str | None,
    ray_address: str | None,
    cold_start: bool = False,
) -> dict[str, Any]:
    """The runner settings given on a command line (the driver's and `launcher replay`'s; docs/runners.md)."""
    options: dict[str, Any] = {}
    if ignore_accelerators:
        options["ignore_accelerators"] = True
    if docker_network:
        options["docker_network"] = docker_network
    if ray_address:
        options["ray_address"] = ray_address
    if cold_start:
        options["cold_start"] = True
    return options
