"""What `python -m ledger` reports about runs and executions, as JSON-able values built from a run's fold."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from ledger.model import (
    Execution,
    RunView,
    count_tasks,
    execution_times,
    is_current,
    log_path,
    span,
    state_text,
)
from ledger.model import kind_of as kind_of  # re-exported: the report names executions as `show` does
from ledger.store import RunSummary
from spec import protojson
from spec.contracts import COMPONENT_SPEC_FILE, EXECUTOR_INPUT_FILE, EXECUTOR_LOGS, TaskFiles
from spec.errors import LplError, TaskRefError, UsageError
from spec.ir import pipeline_spec_pb2
from spec.labels import resolve_label
from spec.task_plan import handed_executor_input, plan_task

# Header fields too big (or too internal) for a run's description; `pipeline_spec` stays in the journal.
_HEADER_OMITTED = frozenset({"kind", "time", "pipeline_spec"})


def iso_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_run(view: RunView) -> dict[str, Any]:
    """The run's header (without the pipeline spec), state, timings and task counts."""
    start = view.header.time
    recorded = view.header.to_json() | {"schema_version": view.header.schema_version}
    header = {key: value for key, value in recorded.items() if key not in _HEADER_OMITTED}
    return {
        **header,
        "run_id": view.run_id,
        "state": view.state,
        "start_time": start,
        "end_time": view.end_time,
        "duration": span(start, view.end_time),
        "task_counts": count_tasks(view),
    }


def describe_run_summary(summary: RunSummary, task_counts: dict[str, int]) -> dict[str, Any]:
    """One row of `runs`."""
    return {
        "run_id": summary.run_id,
        "pipeline_name": summary.pipeline_name,
        "state": summary.state,
        "created": iso_time(summary.create_time),
        "start_time": summary.create_time,
        "end_time": summary.end_time,
        "duration": span(summary.create_time, summary.end_time),
        "task_counts": task_counts,
        "parameters": summary.parameters,
    }


def describe_execution(view: RunView, execution: Execution, *, labels: dict[int, str]) -> dict[str, Any]:
    """One execution as `show --json` lists it."""
    properties = execution.properties
    start, end = execution_times(execution)
    return {
        "id": execution.id,
        "type": execution.type,
        "kind": kind_of(execution),
        "label": labels.get(execution.id, ""),
        "task_name": execution.task_name,
        "display_name": execution.display_name,
        "task_path": execution.task_path,
        "state": execution.state,
        "state_reason": execution.state_reason,
        "state_text": state_text(execution),
        "current": is_current(execution),
        "superseded_by": execution.superseded_by,
        "parent_dag_id": execution.parent_dag_id,
        "iteration_index": execution.iteration_index,
        "parent_iteration_index": execution.parent_iteration_index,
        "iteration_count": execution.iteration_count,
        "inputs": execution.inputs,
        "outputs": execution.outputs,
        "cache_fingerprint": execution.cache_fingerprint,
        "cached_execution_id": execution.cached_execution_id,
        "attempts": execution.attempts,
        "log": execution.log or None,
        "error": execution.error,
        "input_artifacts": describe_artifacts(view, execution.id, "INPUT"),
        "output_artifacts": describe_artifacts(view, execution.id, "OUTPUT"),
        "start_time": start,
        "end_time": end,
        "duration": span(start, end),
        "properties": properties,
    }


def describe_artifacts(view: RunView, execution_id: int, event_type: str) -> list[dict[str, Any]]:
    """The artifacts an execution read or wrote; `name` is the input or output name (the event path)."""
    described: list[dict[str, Any]] = []
    for event in sorted(view.events_of(execution_id, event_type), key=lambda e: (e.path, e.index)):
        artifact = view.artifacts[event.artifact_id]
        described.append({"id": artifact.id, "name": event.path, "index": event.index, "type": artifact.type,
                          "uri": artifact.uri, "metadata": artifact.metadata})
    return described


def find_execution(view: RunView, ref: str, *, labels: dict[int, str]) -> Execution:
    """The execution a user means by `ref`: an execution id, or a task as `spec.labels.resolve_label` reads
    it (label, `NAME[i]`, task path, task key). Several executions with one label (a task run again on
    resume, or replayed) mean the newest."""
    if ref.isdigit() and int(ref) in view.executions:
        return view.executions[int(ref)]
    label = resolve_label(ref, labels.values(), where=f"run {view.run_id}", error=TaskRefError)
    return max((e for e in view.executions.values() if labels[e.id] == label), key=lambda e: e.id)


def log_file(view: RunView, execution: Execution) -> Path | None:
    """Where a task's log is: as recorded once it ended (or linked by a cache hit), else, while it runs, where
    its ExecutorInput tells the launcher to write it."""
    recorded = log_path(execution, view.artifacts_of(execution.id, "OUTPUT"))
    if recorded is not None or not execution.task_dir:
        return recorded
    try:
        handed = json.loads((Path(execution.task_dir) / EXECUTOR_INPUT_FILE).read_text())
        return Path(str(handed["outputs"]["artifacts"][EXECUTOR_LOGS]["artifacts"][0]["uri"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def describe_command_line(task_dir: str | None) -> list[str] | None:
    """The command line the launcher runs for a task, planned from its task directory as the launcher plans
    it; None when the directory is gone or unreadable."""
    if not task_dir:
        return None
    try:
        files = TaskFiles.read(Path(task_dir))
        plan = plan_task(files.executor_input, component_spec=files.component, container=files.container,
                         job=files.task.job_facts(), kfp_package=files.task.kfp_package)
    except (OSError, ValueError, LplError, json_format.ParseError):
        return None
    return plan.argv


def describe_executor_input(task_dir: object) -> dict[str, Any]:
    """A launched task's ExecutorInput as handed to the component (defaults added, by the same function the
    launcher uses) and, beside it, the driver's own message as written to the task directory."""
    if not task_dir:
        return {"executor_input_path": None, "executor_input": None, "driver_executor_input": None}
    path = Path(str(task_dir)) / EXECUTOR_INPUT_FILE
    try:
        driver_json = json.loads(path.read_text())
        component_text = (Path(str(task_dir)) / COMPONENT_SPEC_FILE).read_text()
    except FileNotFoundError:
        return {"executor_input_path": None, "executor_input": None, "driver_executor_input": None}
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from exc
    try:
        driver_message = json_format.ParseDict(driver_json, pipeline_spec_pb2.ExecutorInput())
        component = json_format.Parse(
            component_text, pipeline_spec_pb2.ComponentSpec(), ignore_unknown_fields=True
        )
    except json_format.ParseError as exc:
        raise UsageError(f"{path}: not an ExecutorInput with its ComponentSpec ({exc})") from exc
    handed = protojson.message_to_jsonable(handed_executor_input(driver_message, component))
    return {"executor_input_path": str(path), "executor_input": handed, "driver_executor_input": driver_json}
