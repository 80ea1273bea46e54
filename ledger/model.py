"""The MLMD-like records of the ledger: executions, artifacts, events, runs and their fold."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.properties import REPLAY_OF, SKIPPED_CONDITION, STATE_REASON, SUPERSEDED_BY
from ledger.run_header import SCHEMA_VERSION, RunHeader
from spec import labels as task_labels
from spec.contracts import EXECUTOR_LOGS

__all__ = ["REPLAY_OF", "SCHEMA_VERSION", "SKIPPED_CONDITION", "STATE_REASON", "SUPERSEDED_BY"]

# MLMD execution states as KFP uses them.
RUNNING = "RUNNING"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
CACHED = "CACHED"
CANCELED = "CANCELED"
TERMINAL_STATES = frozenset({COMPLETE, FAILED, CACHED, CANCELED})
SUCCESS_STATES = frozenset({COMPLETE, CACHED})

DAG_EXECUTION = "system.DAGExecution"
CONTAINER_EXECUTION = "system.ContainerExecution"
IMPORTER_EXECUTION = "system.ImporterExecution"

PIPELINE_CONTEXT = "system.Pipeline"
PIPELINE_RUN_CONTEXT = "system.PipelineRun"


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


@dataclass
class Execution:
    """One MLMD execution: a DAG, a container task or an importer."""

    id: int
    type: str
    name: str
    state: str
    properties: dict[str, Any]
    create_time: float
    update_time: float
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task_name(self) -> str:
        return str(self.properties.get("task_name", ""))

    @property
    def parent_dag_id(self) -> int | None:
        return _optional_int(self.properties.get("parent_dag_id"))

    @property
    def iteration_index(self) -> int | None:
        return _optional_int(self.properties.get("iteration_index"))

    # Typed reads of the properties the records of ledger/properties.py write (TaskPlace, DagRecord, ...) and
    # of the driver's own (task_dir, fingerprints, cache hits): every reader goes through these.

    @property
    def task_path(self) -> str:
        return str(self.properties.get("task_path") or self.task_name)

    @property
    def display_name(self) -> str:
        return str(self.properties.get("display_name") or "")

    @property
    def parent_iteration_index(self) -> int | None:
        return _optional_int(self.properties.get("parent_iteration_index"))

    @property
    def iteration_count(self) -> int | None:
        return _optional_int(self.properties.get("iteration_count"))

    @property
    def inputs(self) -> dict[str, Any]:
        return dict(self.properties.get("inputs") or {})

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.properties.get("outputs") or {})

    @property
    def output_files(self) -> list[str]:
        return [str(path) for path in self.properties.get("output_files") or []]

    @property
    def error(self) -> str:
        return str(self.properties.get("error") or "")

    @property
    def log(self) -> str:
        return str(self.properties.get("log") or "")

    @property
    def task_dir(self) -> str | None:
        task_dir = self.properties.get("task_dir")
        return str(task_dir) if task_dir else None

    @property
    def cache_fingerprint(self) -> str | None:
        fingerprint = self.properties.get("cache_fingerprint")
        return str(fingerprint) if fingerprint is not None else None

    @property
    def cached_execution_id(self) -> int | None:
        return _optional_int(self.properties.get("cached_execution_id"))

    @property
    def state_reason(self) -> str:
        return str(self.properties.get(STATE_REASON) or "")

    @property
    def superseded_by(self) -> int | None:
        return _optional_int(self.properties.get(SUPERSEDED_BY))

    @property
    def output_artifact_ids(self) -> dict[str, Any]:
        """A finished DAG's output artifacts: name -> artifact id, or a list of ids (a collected output)."""
        return dict(self.properties.get("output_artifact_ids") or {})

    @property
    def definition_fingerprint(self) -> str | None:
        fingerprint = self.properties.get("definition_fingerprint")
        return str(fingerprint) if fingerprint is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "state": self.state,
            "properties": self.properties,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "attempts": self.attempts,
        }


# An artifact's properties that are ours (or MLMD's), not the metadata its component wrote.
NOT_METADATA = frozenset({"display_name", "store_session_info"})


def artifact_metadata(properties: dict[str, Any]) -> dict[str, Any]:
    """An artifact's metadata as its component wrote it: its properties but NOT_METADATA."""
    return {key: value for key, value in properties.items() if key not in NOT_METADATA}


@dataclass(frozen=True)
class ArtifactDraft:
    """An output artifact to record (`RunLedger.publish_execution` gives it its id): the schema title, the
    URI, the component's metadata and the output name it is shown by."""

    type: str
    uri: str
    metadata: dict[str, Any]
    display_name: str

    def properties(self) -> dict[str, Any]:
        """As recorded: the metadata and `display_name` (which wins over a metadata key of that name)."""
        return {**self.metadata, "display_name": self.display_name}

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "uri": self.uri, "properties": self.properties()}


@dataclass
class Artifact:
    """One MLMD artifact: type is the schema title, metadata lives in the properties."""

    id: int
    type: str
    uri: str
    state: str
    properties: dict[str, Any]
    create_time: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "uri": self.uri,
            "state": self.state,
            "properties": self.properties,
            "create_time": self.create_time,
        }

    @property
    def metadata(self) -> dict[str, Any]:
        return artifact_metadata(self.properties)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Artifact:
        return cls(
            id=int(record["id"]),
            type=str(record["type"]),
            uri=str(record["uri"]),
            state=str(record.get("state", "LIVE")),
            properties=dict(record.get("properties", {})),
            create_time=float(record.get("create_time", 0.0)),
        )


@dataclass(frozen=True)
class Event:
    """An INPUT or OUTPUT edge between an execution and an artifact; `path` is the input/output name."""

    execution_id: int
    artifact_id: int
    type: str
    path: str
    index: int = 0


@dataclass
class RunView:
    """The fold of one run's journal: what the driver and the inspection commands read."""

    run_id: str
    header: RunHeader = field(default_factory=lambda: RunHeader(run_id="", pipeline_name=""))
    has_header: bool = False  # the journal's first record has been read
    state: str = RUNNING
    end_time: float | None = None
    executions: dict[int, Execution] = field(default_factory=dict)
    artifacts: dict[int, Artifact] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    # Events by execution id: `events_of` is called per task, and a scan per call is quadratic.
    _events_by_execution: dict[int, list[Event]] = field(default_factory=dict, repr=False, compare=False)

    def apply(self, record: dict[str, Any]) -> None:
        """Fold one journal record into the view."""
        kind = record["kind"]
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise ValueError(f"unknown record kind {kind!r}")
        handler(self, record)

    def children(self, parent_dag_id: int) -> list[Execution]:
        return [e for e in self.executions.values() if e.parent_dag_id == parent_dag_id]

    def events_of(self, execution_id: int, event_type: str) -> list[Event]:
        return [e for e in self._events_by_execution.get(execution_id, []) if e.type == event_type]

    def by_place(self) -> dict[tuple[int | None, str, int | None], Execution]:
        """The run's own executions by where they sit: (parent DAG execution, task key, loop iteration).

        Where a resume recorded a task again, the newest execution counts; a `launcher replay` rerun is not
        the run's own record of its task and is left out.
        """
        found: dict[tuple[int | None, str, int | None], Execution] = {}
        for execution in sorted(self.executions.values(), key=lambda e: e.id):
            if REPLAY_OF not in execution.properties:
                found[(execution.parent_dag_id, execution.task_name, execution.iteration_index)] = execution
        return found

    def artifacts_of(self, execution_id: int, event_type: str) -> dict[str, list[Artifact]]:
        """Artifacts linked to an execution by name, each list in journal order.

        One publish writes a list's events in index order; a later publish (another attempt) comes after,
        so the last artifact of a name is the newest. Sorting by index would interleave attempts.
        """
        named: dict[str, list[Artifact]] = {}
        for event in self.events_of(execution_id, event_type):
            named.setdefault(event.path, []).append(self.artifacts[event.artifact_id])
        return named


def _apply_run(view: RunView, record: dict[str, Any]) -> None:
    view.header = RunHeader.from_json(record)
    view.has_header = True


def _apply_run_update(view: RunView, record: dict[str, Any]) -> None:
    view.state = record["state"]
    view.end_time = record.get("time")


def _apply_execution(view: RunView, record: dict[str, Any]) -> None:
    view.executions[int(record["id"])] = Execution(
        id=int(record["id"]),
        type=record["type"],
        name=record.get("name", ""),
        state=record["state"],
        properties=dict(record.get("properties", {})),
        create_time=record["time"],
        update_time=record["time"],
    )


def _apply_execution_update(view: RunView, record: dict[str, Any]) -> None:
    execution = view.executions[int(record["id"])]
    if "state" in record:
        execution.state = record["state"]
    execution.properties.update(record.get("properties", {}))
    if "attempt" in record:
        _merge_attempt(execution.attempts, record["attempt"])
    execution.update_time = record["time"]


def _merge_attempt(attempts: list[dict[str, Any]], attempt: dict[str, Any]) -> None:
    number = attempt.get("number", len(attempts))
    for existing in attempts:
        if existing.get("number") == number:
            existing.update(attempt)
            return
    attempts.append(dict(attempt))


def _apply_artifact(view: RunView, record: dict[str, Any]) -> None:
    artifact = Artifact.from_json({"create_time": record.get("time", 0.0), **record})
    view.artifacts[artifact.id] = artifact


def _apply_event(view: RunView, record: dict[str, Any]) -> None:
    event = Event(
        execution_id=int(record["execution_id"]),
        artifact_id=int(record["artifact_id"]),
        type=record["type"],
        path=record["path"],
        index=int(record.get("index", 0)),
    )
    if event.artifact_id not in view.artifacts or event.execution_id not in view.executions:
        raise ValueError(f"event links unknown execution {event.execution_id} / artifact {event.artifact_id}")
    view.events.append(event)
    view._events_by_execution.setdefault(event.execution_id, []).append(event)


def _apply_note(view: RunView, record: dict[str, Any]) -> None:
    view.notes.append(record)


_HANDLERS = {
    "run": _apply_run,
    "run_update": _apply_run_update,
    "execution": _apply_execution,
    "execution_update": _apply_execution_update,
    "artifact": _apply_artifact,
    "event": _apply_event,
    "note": _apply_note,
}


_KINDS = {CONTAINER_EXECUTION: "container", IMPORTER_EXECUTION: "importer"}


def kind_of(execution: Execution) -> str:
    """A short name for the execution's role: root, dag, loop, iteration, container or importer."""
    if execution.type == DAG_EXECUTION:
        recorded = execution.properties.get("dag_kind")
        if isinstance(recorded, str) and recorded:
            return recorded
        # Journals written before `dag_kind` was recorded: told from the other properties.
        if execution.parent_dag_id is None:
            return "root"
        if execution.iteration_index is not None:
            return "iteration"
        return "loop" if "iteration_count" in execution.properties else "dag"
    return _KINDS.get(execution.type, execution.type)



def state_text(execution: Execution) -> str:
    """The state as users read it everywhere: `CANCELED (skipped: condition false)`."""
    reason = execution.state_reason
    return f"{execution.state} ({reason})" if reason else execution.state


def is_current(execution: Execution) -> bool:
    """Part of the run's own outcome: not superseded by a resume, not a replay run on the side."""
    return SUPERSEDED_BY not in execution.properties and REPLAY_OF not in execution.properties


def count_tasks(view: RunView) -> dict[str, int]:
    """Executions by state, one per task instance: all but the root, loop iterations, executions a resume
    superseded and replays."""
    counts: dict[str, int] = {}
    for execution in view.executions.values():
        if kind_of(execution) not in ("root", "iteration") and is_current(execution):
            counts[execution.state] = counts.get(execution.state, 0) + 1
    return dict(sorted(counts.items()))


# --- Reading a run: labels, tree order, times (the driver's console and the views share these) ---------

ROOT_LABEL = "(root)"


def span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 3) if start is not None and end is not None else None


def label_executions(view: RunView) -> dict[int, str]:
    """Each execution's place in the run: task keys from the root, `[i]` after a loop's iteration i.

    `for-loop-2[1]/train` is task `train` in iteration 1 of loop `for-loop-2`; unlike the task key or the
    `task_path` property, the label tells apart the copies of a task that a loop makes.
    """
    labels: dict[int, str] = {}
    for execution_id in sorted(view.executions):
        _label(view, execution_id, labels)
    return labels


def _label(view: RunView, execution_id: int, labels: dict[int, str]) -> str:
    if execution_id in labels:
        return labels[execution_id]
    execution = view.executions.get(execution_id)
    if execution is None:
        return f"?{execution_id}"
    parent = execution.parent_dag_id
    if parent is None:
        label = execution.task_name or ROOT_LABEL
    else:
        above = _label(view, parent, labels) if parent != execution_id else "?"
        prefix = task_labels.ROOT if above == ROOT_LABEL else above
        if kind_of(execution) == "iteration":
            label = task_labels.iteration_label(prefix, execution.iteration_index or 0)
        else:
            label = task_labels.child_label(prefix, execution.task_name)
    labels[execution_id] = label
    return label


def tree_order(view: RunView) -> list[tuple[int, Execution]]:
    """Executions depth first from the root (children by id), with their depth; orphans last."""
    children: dict[int | None, list[Execution]] = {}
    for execution in sorted(view.executions.values(), key=lambda e: e.id):
        parent = execution.parent_dag_id if execution.parent_dag_id in view.executions else None
        children.setdefault(parent, []).append(execution)
    ordered: list[tuple[int, Execution]] = []
    stack = [(0, execution) for execution in reversed(children.get(None, []))]
    while stack:
        depth, execution = stack.pop()
        ordered.append((depth, execution))
        stack.extend((depth + 1, child) for child in reversed(children.get(execution.id, [])))
    return ordered


def execution_times(execution: Execution) -> tuple[float, float | None]:
    """When the execution started (its first attempt, else its creation) and ended, if it has."""
    timed = [attempt for attempt in execution.attempts if "start" in attempt]
    start = float(timed[0]["start"]) if timed else execution.create_time
    if timed and "end" in timed[-1]:
        return start, float(timed[-1]["end"])
    return start, execution.update_time if execution.state in TERMINAL_STATES else None


def log_path(execution: Execution, outputs: dict[str, list[Artifact]]) -> Path | None:
    """The task's log, given its OUTPUT artifacts: a cache hit links the log of the execution it reused as its
    `executor-logs` output."""
    if execution.log:
        return Path(execution.log)
    logs = outputs.get(EXECUTOR_LOGS, [])
    return Path(logs[-1].uri) if logs else None


def read_log_end(path: Path, *, max_bytes: int) -> tuple[str, int]:
    """The last `max_bytes` of a log as text (undecodable bytes replaced) and the log's size; OSError if the
    log cannot be read."""
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - max_bytes))
        data = file.read()
    return data.decode("utf-8", errors="replace"), size
