"""The one way a task is named to the user: its place in the run, e.g. `for-loop-1[0]/train`.

Task keys from the root joined by `/`, and after a loop's key the index of the iteration the task sits in
(`outer[1]/inner[0]/train` inside two loops). Unlike a task key or path, a label tells apart the copies of a
task that loops make. The console, the summary, the ledger, `--explain`, the report and error messages all
build labels here, so one task has one name everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

ROOT = ""  # the root DAG's place: tasks at the top of the pipeline are labelled by their key alone


def child_label(parent: str, key: str) -> str:
    """The label of task `key` inside the DAG whose label is `parent` (ROOT at the top)."""
    return f"{parent}/{key}" if parent else key


def iteration_label(loop: str, index: int | str) -> str:
    """The label of iteration `index` of the loop labelled `loop` (`?` where the index is not known yet)."""
    return f"{loop}[{index}]"


def task_label(steps: Iterable[tuple[str, int | None]]) -> str:
    """A label from (task key, iteration index or None) pairs from the root: [("for-loop-1", 0), ("train",
    None)] is `for-loop-1[0]/train`."""
    label = ROOT
    for key, index in steps:
        label = child_label(label, key)
        if index is not None:
            label = iteration_label(label, index)
    return label
