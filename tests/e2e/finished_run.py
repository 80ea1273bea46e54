"""A finished driver run as the end-to-end tests read it: exit status, console, ledger view, probes.

`run_driver(package, *driver_args, home=..., run_id="run")` runs `python -m driver` and returns a
`FinishedRun`. Components in `tests/pipelines/` report what they received by printing one line
`PROBE {"tag": ..., ...}`; the launcher streams it to the driver's stdout as `[<task label>] PROBE {...}`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.model import DAG_EXECUTION, Execution, RunView
from ledger.store import Ledger
from tests.cli import run_cli

# The type of the `compile_pipeline` fixture (tests/conftest.py).
CompilePipeline = Callable[[str], Path]

_PROBE = re.compile(r"^\[(?P<label>.*?)\] PROBE (?P<body>\{.*\})$")


@dataclass
class FinishedRun:
    """One `python -m driver` run: its process, its ledger view and the probes its components printed."""

    run_id: str
    home: Path
    completed: subprocess.CompletedProcess[str]
    view: RunView
    probes_seen: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, *, run_id: str, home: Path, completed: subprocess.CompletedProcess[str]) -> FinishedRun:
        view = Ledger(home).open_run(run_id).view() if (home / "ledger").exists() else RunView(run_id=run_id)
        probes = []
        for line in completed.stdout.splitlines():
            match = _PROBE.match(line)
            if match:
                probes.append({**json.loads(match.group("body")), "_label": match.group("label")})
        return cls(run_id=run_id, home=home, completed=completed, view=view, probes_seen=probes)

    @property
    def returncode(self) -> int:
        return self.completed.returncode

    @property
    def output(self) -> str:
        """stdout and stderr together, for messages and assertion failures."""
        return self.completed.stdout + self.completed.stderr

    def probes(self, tag: str) -> list[dict[str, Any]]:
        return [p for p in self.probes_seen if p.get("tag") == tag]

    def probe(self, tag: str) -> dict[str, Any]:
        """The only probe with this tag."""
        found = self.probes(tag)
        assert len(found) == 1, f"expected one probe {tag!r}, got {found}\n{self.output}"
        return found[0]

    def tags(self) -> set[str]:
        return {str(p.get("tag")) for p in self.probes_seen}

    def executions(self, task_name: str | None = None, *, type: str | None = None) -> list[Execution]:
        """Executions in id order, optionally only those of one task key and/or one type."""
        found = sorted(self.view.executions.values(), key=lambda e: e.id)
        if task_name is not None:
            found = [e for e in found if e.task_name == task_name]
        if type is not None:
            found = [e for e in found if e.type == type]
        return found

    def execution(self, task_name: str, *, type: str | None = None) -> Execution:
        """The only execution of this task key."""
        found = self.executions(task_name, type=type)
        assert len(found) == 1, f"expected one execution of {task_name!r}, got {[e.to_json() for e in found]}"
        return found[0]

    def execution_at(self, task_path: str) -> Execution:
        """The only execution at this task path (`outer/inner`), for task keys reused in nested DAGs."""
        found = [e for e in self.executions() if e.properties.get("task_path") == task_path]
        assert len(found) == 1, f"expected one execution at {task_path!r}, got {[e.to_json() for e in found]}"
        return found[0]

    def root(self) -> Execution:
        return next(e for e in self.view.executions.values() if e.name == f"run/{self.run_id}")

    def children(self, execution: Execution) -> list[Execution]:
        return sorted(self.view.children(execution.id), key=lambda e: e.id)

    def descendants(self, execution: Execution) -> list[Execution]:
        found: list[Execution] = []
        for child in self.children(execution):
            found.append(child)
            found.extend(self.descendants(child))
        return found

    def states(self, task_name: str) -> list[str]:
        return [e.state for e in self.executions(task_name)]

    def dag_states(self) -> dict[str, list[str]]:
        """task key → states of its DAG executions (root included as ''), for whole-run assertions."""
        states: dict[str, list[str]] = {}
        for execution in self.executions(type=DAG_EXECUTION):
            states.setdefault(execution.task_name, []).append(execution.state)
        return states



def run_driver(package: Path, *args: str, home: Path, run_id: str = "run",
               env: dict[str, str] | None = None) -> FinishedRun:
    """`python -m driver PACKAGE --run-id RUN_ID ARGS...` with `--home HOME`; never raises on a failed run."""
    completed = run_cli("driver", str(package), "--run-id", run_id, *args, home=home, env=env)
    return FinishedRun.read(run_id=run_id, home=home, completed=completed)
