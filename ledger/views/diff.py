"""`diff RUN_A RUN_B`: the tasks of two runs matched by label, and what changed between them."""

from __future__ import annotations

from typing import Any

from ledger.model import Execution, RunView, label_executions

COMPARED_FIELDS = ("state", "inputs", "outputs", "cache_fingerprint")


def diff_runs(run_a: RunView, run_b: RunView) -> dict[str, Any]:
    """Tasks (matched by label: task path with iteration indices) that differ, and those only in one run."""
    tasks_a, tasks_b = _by_label(run_a), _by_label(run_b)
    changed: list[dict[str, Any]] = []
    for label in tasks_a.keys() & tasks_b.keys():
        fields = _changed_fields(tasks_a[label], tasks_b[label])
        if fields:
            changed.append({"task": label, "execution_a": tasks_a[label].id, "execution_b": tasks_b[label].id,
                            "fields": fields})
    changed.sort(key=lambda entry: int(entry["execution_a"]))
    return {
        "run_a": run_a.run_id,
        "run_b": run_b.run_id,
        "changed": changed,
        "only_in_a": [label for label in tasks_a if label not in tasks_b],
        "only_in_b": [label for label in tasks_b if label not in tasks_a],
        "unchanged": len(tasks_a.keys() & tasks_b.keys()) - len(changed),
    }


def _by_label(view: RunView) -> dict[str, Execution]:
    """The newest execution of each label, in order of first appearance."""
    labels = label_executions(view)
    newest: dict[str, Execution] = {}
    for execution_id in sorted(view.executions):
        newest[labels[execution_id]] = view.executions[execution_id]
    return newest


def _changed_fields(a: Execution, b: Execution) -> dict[str, dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {}
    for name in COMPARED_FIELDS:
        value_a, value_b = _field(a, name), _field(b, name)
        if value_a != value_b:
            fields[name] = {"a": value_a, "b": value_b}
    return fields


def _field(execution: Execution, name: str) -> Any:
    if name == "state":
        return execution.state
    default: dict[str, Any] | None = {} if name in ("inputs", "outputs") else None
    return execution.properties.get(name, default)
