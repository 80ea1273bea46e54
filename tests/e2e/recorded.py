"""What the foundation's end-to-end tests read from a finished run: tasks by path, artifacts, timings."""

from __future__ import annotations

from typing import Any

from ledger.model import DAG_EXECUTION, Execution
from tests.e2e.finished_run import FinishedRun


def tasks_by_path(run: FinishedRun) -> dict[str, Execution]:
    """Container and importer executions by task path (`outer/inner`), `[i]` appended inside a loop."""
    tasks: dict[str, Execution] = {}
    for execution in run.executions():
        if execution.type == DAG_EXECUTION:
            continue
        label = str(execution.properties["task_path"])
        if execution.properties.get("parent_iteration_index") is not None:
            label += f"[{execution.properties['parent_iteration_index']}]"
        assert label not in tasks, f"two executions for {label}"
        tasks[label] = execution
    return tasks


def artifacts_of(run: FinishedRun, execution: Execution, event_type: str) -> dict[str, list[dict[str, Any]]]:
    """An execution's INPUT or OUTPUT artifacts by name, as JSON records."""
    return {
        name: [artifact.to_json() for artifact in artifacts]
        for name, artifacts in run.view.artifacts_of(execution.id, event_type).items()
    }


def attempt_interval(execution: Execution) -> tuple[float, float]:
    """The (start, end) wall-clock times of an execution's only attempt, as its launcher recorded them."""
    assert len(execution.attempts) == 1, execution.attempts
    attempt = execution.attempts[0]
    return float(attempt["start"]), float(attempt["end"])


def overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def typed(value: Any) -> Any:
    """`value` with the type of every scalar beside it, so that `1 == 1.0 == True` no longer compare equal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)
