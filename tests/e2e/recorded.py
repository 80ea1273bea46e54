"""Run a compiled pipeline through `python -m driver` and read back what the ledger recorded about it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ledger.model import DAG_EXECUTION, Execution, RunView
from ledger.store import Ledger
from tests.cli import run_cli

RUN_ID = "e2e-run"


@dataclass(frozen=True)
class RecordedRun:
    """A finished driver process and the run's journal as the ledger folds it."""

    completed: subprocess.CompletedProcess[str]
    home: Path
    view: RunView

    @property
    def output(self) -> str:
        return self.completed.stdout + self.completed.stderr

    def tasks(self) -> dict[str, Execution]:
        """Container and importer executions by task path (`outer/inner`), `[i]` appended inside a loop."""
        tasks: dict[str, Execution] = {}
        for execution in self.view.executions.values():
            if execution.type == DAG_EXECUTION:
                continue
            label = str(execution.properties["task_path"])
            if execution.properties.get("parent_iteration_index") is not None:
                label += f"[{execution.properties['parent_iteration_index']}]"
            assert label not in tasks, f"two executions for {label}"
            tasks[label] = execution
        return tasks

    def artifacts(self, execution: Execution, event_type: str) -> dict[str, list[dict[str, object]]]:
        """An execution's INPUT or OUTPUT artifacts by name, as JSON records."""
        return {
            name: [artifact.to_json() for artifact in artifacts]
            for name, artifacts in self.view.artifacts_of(execution.id, event_type).items()
        }


def run_pipeline(package: Path, *args: str, home: Path, run_id: str = RUN_ID) -> RecordedRun:
    """`python -m driver --home HOME --run-id RUN_ID ARGS... PACKAGE`; the run must have been recorded."""
    completed = run_cli("driver", "--run-id", run_id, *args, str(package), home=home)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return RecordedRun(completed=completed, home=home, view=read_run(home, run_id))


def read_run(home: Path, run_id: str) -> RunView:
    return Ledger(home).open_run(run_id).view()


def attempt_interval(execution: Execution) -> tuple[float, float]:
    """The (start, end) wall-clock times of an execution's only attempt, as its launcher recorded them."""
    assert len(execution.attempts) == 1, execution.attempts
    attempt = execution.attempts[0]
    return float(attempt["start"]), float(attempt["end"])


def overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] < second[1] and second[0] < first[1]
