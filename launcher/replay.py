"""`python -m launcher replay`: run one recorded task again, recorded as a new execution linked to it."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from launcher import process_tree
from launcher.launch import launch
from launcher.replay_source import from_pipeline
from launcher.runners import clean_after_launcher
from ledger.model import (
    CONTAINER_EXECUTION,
    FAILED,
    RUNNING,
    TERMINAL_STATES,
    Artifact,
    Execution,
    RunView,
    label_executions,
)
from ledger.properties import PropertyGroup, RecordedProperties, ReplayOf, TaskDirectory, TaskError
from ledger.store import Ledger, RunLedger
from spec.contracts import TaskFiles
from spec.errors import ContractError, LedgerError, OptionError, TaskRefError
from spec.ir import pipeline_spec_pb2
from spec.labels import resolve_label


@dataclass(frozen=True)
class ReplayOptions:
    home: Path
    run_id: str
    task: str
    iteration: int | None = None
    runner: str | None = None  # None: where the original ran
    runner_options: dict[str, Any] = field(default_factory=dict)  # added to the original's
    pipeline: Path | None = None  # run the component as FILE (recompiled after a fix) defines it


def replay(options: ReplayOptions) -> int:
    """Run the task again and record it; return 0 if it succeeded, 1 if it failed, 130 if interrupted."""
    run_ledger = _open_run(options.home, options.run_id)
    view = run_ledger.view()
    original = find_execution(view, task=options.task, iteration=options.iteration)
    # A fresh task root and task directory: the original's outputs and log stay as they were.
    files = relocate(read_task_files(original), uid=uuid.uuid4().hex)
    if options.pipeline is not None:
        files = from_pipeline(files, original, pipeline=options.pipeline, home=options.home)
    files.task = replace(
        files.task,
        runner=options.runner or files.task.runner,
        runner_options={**files.task.runner_options, **options.runner_options},
    )
    execution_id = _start_replay(
        run_ledger, original, files, input_artifacts=view.artifacts_of(original.id, "INPUT"),
        pipeline=options.pipeline,
    )
    label = files.task.label or original.task_name
    print(
        f"[lpl] replaying execution {original.id} ({label}) of run {run_ledger.run_id}"
        f" as execution {execution_id}",
        file=sys.stderr,
    )
    status = _launch_in_child(
        home=options.home, run_ledger=run_ledger, execution_id=execution_id, task_dir=files.task_dir
    )
    _report(run_ledger.view().executions[execution_id], files)
    return status


def _launch_in_child(*, home: Path, run_ledger: RunLedger, execution_id: int, task_dir: Path) -> int:
    """The attempt in a launcher process of its own that dies with this one, as the fork server's do: a
    replay killed outright (SIGKILL) still has its container stopped and its execution recorded CANCELED
    by that launcher; a launcher killed outright is cleaned after and recorded FAILED here."""
    process_tree.become_subreaper()  # what a killed launcher leaves behind is handed to this process
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = launch(
                home=home, run_id=run_ledger.run_id, execution_id=execution_id, task_dir=task_dir,
                attempt=0, parent_pid=parent,
            )
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    # Ctrl-C reaches the launcher too (one process group) and it records the stop; SIGTERM is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(pid, signal.SIGTERM))
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code < 0:
        _clean_after_killed_launcher(pid, run_ledger=run_ledger, execution_id=execution_id, signum=-code)
    return code if code >= 0 else 1


def _clean_after_killed_launcher(pid: int, *, run_ledger: RunLedger, execution_id: int, signum: int) -> None:
    clean_after_launcher(pid)
    for orphan in process_tree.children_of(os.getpid()):
        process_tree.signal_tree(group=None, root=orphan, signum=signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(orphan, signal.SIGKILL)
    if run_ledger.view().executions[execution_id].state not in TERMINAL_STATES:
        error = f"its launcher was killed by signal {signum} before it recorded an outcome"
        run_ledger.publish_execution(execution_id, state=FAILED, properties=[TaskError(error)])


def _open_run(home: Path, run_id: str) -> RunLedger:
    if not Ledger.exists_in(home):  # opening a Ledger would create an empty store
        raise OptionError(f"there is no ledger in {home}")
    try:
        ledger = Ledger(home)
        resolved = ledger.resolve_run_id(run_id)
        ledger.hold_as_launcher(resolved)  # prune leaves the run alone while it is replayed
        return ledger.open_run(resolved)
    except LedgerError as exc:
        raise OptionError(str(exc)) from exc


def _start_replay(
    run_ledger: RunLedger,
    original: Execution,
    files: TaskFiles,
    *,
    input_artifacts: dict[str, list[Artifact]],
    pipeline: Path | None,
) -> int:
    """Record the replay as a RUNNING execution beside the original, then write its task files."""
    properties: list[PropertyGroup] = [
        RecordedProperties.copied_from(original.properties),
        ReplayOf(
            execution_id=original.id, pipeline=str(pipeline.resolve()) if pipeline is not None else None
        ),
        TaskDirectory(
            task_dir=str(files.task_dir), task_root=str(Path(files.executor_input.outputs.output_file).parent)
        ),
    ]
    execution_id = run_ledger.create_execution(
        type=CONTAINER_EXECUTION, state=RUNNING, properties=properties, input_artifacts=input_artifacts
    )
    # No cache entry: a debugging rerun does not change what later runs reuse; and no driver waits for it.
    files.task = replace(files.task, execution_id=execution_id, cache_fingerprint="", driver_pid=None)
    try:
        files.write()
    except OSError as exc:
        error = f"cannot write the replay's task files in {files.task_dir}: {exc.strerror}"
        run_ledger.publish_execution(execution_id, state=FAILED, properties=[TaskError(error)])
        raise OptionError(error) from exc
    return execution_id


def find_execution(view: RunView, *, task: str, iteration: int | None) -> Execution:
    """The container execution named by execution id, or by a task as every command names one (label,
    `NAME[i]`, task path, task key: `spec.labels.resolve_label`), in loop iteration `iteration` if given."""
    if task.isdigit() and int(task) in view.executions:
        execution = view.executions[int(task)]
        if execution.type != CONTAINER_EXECUTION:
            raise OptionError(f"execution {task} is a {execution.type}, not a container task")
        return _replayable(execution)
    labels = label_executions(view)
    originals = [
        e
        for e in view.executions.values()
        if e.type == CONTAINER_EXECUTION and "replay_of" not in e.properties
        and (iteration is None or e.parent_iteration_index == iteration)
    ]
    where = f"the container tasks that ran in run {view.run_id}" + (
        f" (iteration {iteration})" if iteration is not None else ""
    )
    label = resolve_label(task, [labels[e.id] for e in originals], where=where, error=TaskRefError)
    # A resumed run may hold several executions of one task instance; the newest is the one that counts.
    return _replayable(max((e for e in originals if labels[e.id] == label), key=lambda e: e.id))


def _replayable(execution: Execution) -> Execution:
    if execution.cached_execution_id is not None:
        raise OptionError(
            f"execution {execution.id} was a cache hit of execution "
            f"{execution.properties['cached_execution_id']}: replay that one, in the run that ran it"
        )
    if not execution.task_dir:
        raise OptionError(
            f"execution {execution.id} ({execution.task_name}) never started a launcher"
            f" ({execution.state}: {execution.properties.get('error') or 'skipped'}); nothing to replay"
        )
    return execution


def read_task_files(execution: Execution) -> TaskFiles:
    task_dir = Path(str(execution.task_dir))
    try:
        return TaskFiles.read(task_dir)
    except (OSError, ValueError, ContractError, json_format.ParseError) as exc:
        raise OptionError(
            f"execution {execution.id}: cannot read its task files in {task_dir}: {exc}"
        ) from exc


def relocate(files: TaskFiles, *, uid: str) -> TaskFiles:
    """The same task with its outputs moved to a fresh task root and task directory named by `uid`."""
    key = files.task.task_key
    old_root = str(Path(files.executor_input.outputs.output_file).parent)
    new_root = f"{files.task.run_root}/{key}/{uid}"
    task_dir = files.task_dir.parent / f"{key}-{uid[:12]}"
    executor_input = pipeline_spec_pb2.ExecutorInput()
    executor_input.CopyFrom(files.executor_input)
    outputs = executor_input.outputs
    for name, artifact_list in outputs.artifacts.items():
        for artifact in artifact_list.artifacts:
            artifact.uri = _moved(artifact.uri, old_root=old_root, new_root=new_root, name=name)
    for name, parameter in outputs.parameters.items():
        parameter.output_file = str(task_dir / "outputs" / name)
    outputs.output_file = _moved(
        outputs.output_file, old_root=old_root, new_root=new_root, name="output_metadata.json"
    )
    return TaskFiles(
        task_dir=task_dir,
        task=files.task,
        executor_input=executor_input,
        component=files.component,
        container=files.container,
    )


def _moved(uri: str, *, old_root: str, new_root: str, name: str) -> str:
    if uri.startswith(old_root + "/"):
        return new_root + uri[len(old_root) :]
    return f"{new_root}/{name}"


def _report(execution: Execution, files: TaskFiles) -> None:
    error = execution.error
    print(
        f"[lpl] replay execution {execution.id} {execution.state}" + (f": {error}" if error else ""),
        file=sys.stderr,
    )
    print(f"[lpl] log: {files.log_path}", file=sys.stderr)
