"""An execution's custom properties as the driver and the launcher write them: one record per group.

MLMD's names where KFP writes them (`task_name`, `display_name`, `parent_dag_id`, `iteration_index`,
`iteration_count`, `total_dag_tasks`, `inputs`) and ours beside them (`task_path`, `parent_iteration_index`,
`dag_kind`, and what a launcher publishes when an attempt ends); docs/ledger.md lists them all. A writer
builds the record and stores `to_json()`; `kind_of` reads `dag_kind`, so a loop is no longer told by the
presence of a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What a DAG execution is, recorded as its `dag_kind`.
KIND_ROOT, KIND_DAG, KIND_LOOP, KIND_ITERATION = "root", "dag", "loop", "iteration"


@dataclass(frozen=True)
class TaskPlace:
    """Where a task's execution sits in the run: every task execution (not the root) records it."""

    task_name: str  # the task key in its DAG
    display_name: str
    parent_dag_id: int | None
    task_path: str  # task keys from the root, `/`-joined
    parent_iteration_index: int | None = None  # inside a loop iteration: its index

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "task_name": self.task_name,
            "display_name": self.display_name,
            "parent_dag_id": self.parent_dag_id,
            "task_path": self.task_path,
        }
        if self.parent_iteration_index is not None:
            found["parent_iteration_index"] = self.parent_iteration_index
        return found


@dataclass(frozen=True)
class DagRecord:
    """A DAG execution's own properties: what it is, its inputs and size, a loop's and iteration's count."""

    dag_kind: str  # KIND_ROOT, KIND_DAG, KIND_LOOP or KIND_ITERATION
    inputs: dict[str, Any]
    total_dag_tasks: int
    iteration_count: int | None = None  # a loop and each of its iterations
    iteration_index: int | None = None  # an iteration

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "dag_kind": self.dag_kind,
            "inputs": self.inputs,
            "total_dag_tasks": self.total_dag_tasks,
        }
        if self.iteration_count is not None:
            found["iteration_count"] = self.iteration_count
        if self.iteration_index is not None:
            found["iteration_index"] = self.iteration_index
        return found


@dataclass(frozen=True)
class AttemptOutcome:
    """What a launcher publishes on a container execution when an attempt ends."""

    log: str  # the task's log file
    error: str  # the failure message, or ""
    command: list[str] | None = None  # the command line run, once planned
    outputs: dict[str, Any] | None = None  # output parameters (a COMPLETE attempt)
    # The artifact files it wrote (a COMPLETE attempt): a resume trusts the execution while all are there.
    output_files: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"log": self.log, "error": self.error}
        if self.outputs is not None:
            found["outputs"] = self.outputs
        if self.output_files is not None:
            found["output_files"] = self.output_files
        if self.command is not None:
            found["command"] = self.command
        return found
