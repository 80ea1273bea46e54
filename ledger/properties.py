"""What the driver and the launcher write on an execution: one typed record per group of properties, and one
per attempt record, each with the field list its writer (`to_json`) and its reader (`from_json`) share.

MLMD's names where KFP writes them (`task_name`, `display_name`, `parent_dag_id`, `iteration_index`,
`iteration_count`, `total_dag_tasks`, `inputs`) and ours beside them (`task_path`, `parent_iteration_index`,
`dag_kind`, and what a launcher publishes when an attempt ends); docs/ledger.md lists them all. A writer
builds records and hands them to `RunLedger.create_execution`/`update_execution`/`publish_execution`, which
merge their `to_json()` in order; `ledger.model.Execution` reads its properties back through the same
records. A field left `None` is not written (so a later group, or an earlier record, is not overwritten).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# What a DAG execution is, recorded as its `dag_kind`.
KIND_ROOT, KIND_DAG, KIND_LOOP, KIND_ITERATION = "root", "dag", "loop", "iteration"

# Why an execution is in its state, when the state alone does not say (`CANCELED` for a skipped branch).
STATE_REASON = "state_reason"
SKIPPED_CONDITION = "skipped: condition false"
# Set on an execution that a `--resume` ran again: the newer execution is the task's current one.
SUPERSEDED_BY = "superseded_by"
REPLAY_OF = "replay_of"  # set on a `python -m launcher replay` execution


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _optional_str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _present(found: dict[str, Any]) -> dict[str, Any]:
    """The fields that are set: `None` means "not written by this record"."""
    return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class RootPlace:
    """The root DAG's place: it has no task key, display name or parent (only the two empty names)."""

    def to_json(self) -> dict[str, Any]:
        return {"task_name": "", "display_name": ""}


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

    @classmethod
    def from_json(cls, properties: Mapping[str, Any]) -> TaskPlace:
        task_name = str(properties.get("task_name", ""))
        return cls(
            task_name=task_name,
            display_name=str(properties.get("display_name") or ""),
            parent_dag_id=_optional_int(properties.get("parent_dag_id")),
            task_path=str(properties.get("task_path") or task_name),
            parent_iteration_index=_optional_int(properties.get("parent_iteration_index")),
        )


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
class DagProducers:
    """A sub-DAG's or loop's output mapping as the backend records it (which task produces each output)."""

    parameter_producer_task: dict[str, Any]
    artifact_producer_task: str  # JSON text, as the backend writes it

    def to_json(self) -> dict[str, Any]:
        return {
            "parameter_producer_task": self.parameter_producer_task,
            "artifact_producer_task": self.artifact_producer_task,
        }


@dataclass(frozen=True)
class DagOutcome:
    """A finished DAG's outputs, the ids of its output artifacts (a list for a list output) and its first
    error; all three always written, so that on resume an earlier attempt's error does not outlive its fix."""

    outputs: dict[str, Any]
    output_artifact_ids: dict[str, Any]
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"outputs": self.outputs, "output_artifact_ids": self.output_artifact_ids, "error": self.error}


@dataclass(frozen=True)
class StateReason:
    """Why the execution is in its state (SKIPPED_CONDITION), or "" to clear an earlier reason."""

    reason: str

    def to_json(self) -> dict[str, Any]:
        return {STATE_REASON: self.reason}


@dataclass(frozen=True)
class ContainerTask:
    """A container task's facts as the driver records them before it launches (or reuses) the task."""

    inputs: dict[str, Any]  # input parameters as JSON values
    image: str = ""  # kept empty: where the task runs is the runner's choice, not this record's
    pod_labels: dict[str, str] | None = None  # kfp-kubernetes' pod metadata, when the task sets any
    pod_annotations: dict[str, str] | None = None
    definition_fingerprint: str | None = None  # what a resume compares to keep a completed task
    cache_fingerprint: str | None = None  # "" when the task is not cached
    cached_execution_id: int | None = None  # a cache hit: the execution it reused

    def to_json(self) -> dict[str, Any]:
        return _present({
            "image": self.image,
            "inputs": self.inputs,
            "pod_labels": self.pod_labels,
            "pod_annotations": self.pod_annotations,
            "definition_fingerprint": self.definition_fingerprint,
            "cache_fingerprint": self.cache_fingerprint,
            "cached_execution_id": self.cached_execution_id,
        })


@dataclass(frozen=True)
class TaskDirectory:
    """Where a launched task's files are: its directory (with `executor_input.json`), its output root and
    the uuid in its artifact paths."""

    task_dir: str
    task_root: str
    task_uuid: str | None = None  # a replay keeps its original's uuid and does not repeat it

    def to_json(self) -> dict[str, Any]:
        return _present({"task_dir": self.task_dir, "task_root": self.task_root, "task_uuid": self.task_uuid})


@dataclass(frozen=True)
class ImporterTask:
    """An importer's facts: the URI it names (before any --mount) and whether it always imports anew."""

    source_uri: str
    reimport: bool
    inputs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "source_uri": self.source_uri, "reimport": self.reimport}


@dataclass(frozen=True)
class TaskError:
    """Why an execution failed or was stopped, as users read it."""

    error: str

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error}


@dataclass(frozen=True)
class TaskOutputs:
    """Output parameters published without a launcher (a cache hit, a PVC operation) and, for a cache hit,
    the files it reused."""

    outputs: dict[str, Any]
    output_files: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return _present({"outputs": self.outputs, "output_files": self.output_files})


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


@dataclass(frozen=True)
class Superseded:
    """Set on the execution a resume ran again: `by` is the task's current execution."""

    by: int

    def to_json(self) -> dict[str, Any]:
        return {SUPERSEDED_BY: self.by}


@dataclass(frozen=True)
class ReplayOf:
    """A `python -m launcher replay` execution: the execution it reruns and the pipeline file it took the
    task from, if another than the run's."""

    execution_id: int
    pipeline: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _present({REPLAY_OF: self.execution_id, "replay_pipeline": self.pipeline})


# What a replay does not take over from the execution it reruns: properties that describe the original's
# outcome or its files, not the task (the replay has its own), and the mark of what it is a copy of.
NOT_COPIED = frozenset(
    {
        "outputs",
        "output_files",
        "error",
        STATE_REASON,
        SUPERSEDED_BY,
        "log",
        "command",
        "task_dir",
        "task_root",
        "cached_execution_id",
        REPLAY_OF,
    }
)


@dataclass(frozen=True)
class RecordedProperties:
    """Properties taken over as another execution recorded them (a replay copies its original's but for
    NOT_COPIED, `copied_from`); their keys are whatever that execution's writers wrote."""

    properties: Mapping[str, Any]

    @classmethod
    def copied_from(cls, properties: Mapping[str, Any]) -> RecordedProperties:
        return cls({key: value for key, value in properties.items() if key not in NOT_COPIED})

    def to_json(self) -> dict[str, Any]:
        return dict(self.properties)


# Every group of execution properties a writer may hand to the store.
PropertyGroup: TypeAlias = (
    RootPlace | TaskPlace | DagRecord | DagProducers | DagOutcome | StateReason | ContainerTask
    | TaskDirectory | ImporterTask | TaskError | TaskOutputs | AttemptOutcome | Superseded | ReplayOf
    | RecordedProperties
)


def merge(groups: Sequence[PropertyGroup]) -> dict[str, Any]:
    """The properties one record writes: the groups' fields, a later group's winning a shared key."""
    merged: dict[str, Any] = {}
    for group in groups:
        merged.update(group.to_json())
    return merged


@dataclass(frozen=True)
class AttemptStart:
    """An attempt as its launcher starts it."""

    number: int
    start: float
    pid: int

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "start": self.start, "pid": self.pid}


@dataclass(frozen=True)
class AttemptEnd:
    """How an attempt ended; merged into the attempt with the same `number`."""

    number: int
    end: float
    state: str
    error: str
    start: float | None = None  # not repeated by the driver when it closes an attempt its launcher left open
    exit_code: int | None = None  # null when the process never ran, or did not say
    # False: the driver did the work itself (a PVC operation): there is no process, and no `exit_code` key.
    process: bool = True

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"number": self.number}
        if self.start is not None:
            found["start"] = self.start
        found["end"] = self.end
        if self.process:
            found["exit_code"] = self.exit_code
        return found | {"state": self.state, "error": self.error}


AttemptRecord: TypeAlias = AttemptStart | AttemptEnd
