"""Container tasks: resolve, condition, provision, cache, then hand over to a launcher process per attempt."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeAlias

from driver.run import cache, platform, task_config
from driver.run.context import RunContext
from driver.run.executions import create_task_execution, recorded_result
from driver.run.prepare import PreparedTask, TaskFolders, prepare_container
from driver.walk import condition
from driver.walk.provision import parameters_from_python, parameters_to_python
from driver.walk.resolve import ResolvedInputs, TaskContext, resolve_inputs
from driver.walk.state import DagScope, TaskResult
from ledger import model
from ledger.model import (
    CACHED,
    CANCELED,
    COMPLETE,
    CONTAINER_EXECUTION,
    FAILED,
    RUNNING,
    SKIPPED_CONDITION,
    SUCCESS_STATES,
    TERMINAL_STATES,
    Execution,
)
from ledger.properties import (
    AttemptEnd,
    ContainerTask,
    PropertyGroup,
    StateReason,
    TaskDirectory,
    TaskError,
    TaskOutputs,
    TaskPlace,
)
from spec.contracts import LauncherTask, LaunchRequest, TaskFiles
from spec.errors import LedgerCorrupt
from spec.ir import pipeline_spec_pb2

EXECUTION_TYPE = CONTAINER_EXECUTION
TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ContainerSpec: TypeAlias = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec


async def run_container(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: TaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    container: ContainerSpec,
    *,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    folders = TaskFolders.of(run_root=ctx.run.run_root, run_dir=ctx.run_dir, key=key, uuid=uuid.uuid4().hex)
    context = TaskContext(run=ctx.run, task_key=key, workspace_path=ctx.workspace, task_uuid=folders.uuid)
    resolved = resolve_inputs(spec, component, scope, context=context, for_dag=False)
    place = scope.task_place(key, spec)
    facts = ContainerTask(inputs=parameters_to_python(resolved.parameters))
    if not _condition_holds(spec, resolved):
        return _skip(ctx, scope, key, properties=[place, facts])
    if platform.is_pvc_operation(container):
        return _run_pvc_operation(ctx, scope, key, container, resolved=resolved, properties=[place, facts])
    prepared = prepare_container(
        resolved,
        task_spec=spec,
        component=component,
        container=container,
        scope=scope,
        folders=folders,
        context=context,
        kubernetes=ctx.kubernetes,
    )
    runner = _runner(ctx, scope, key, container, passthroughs=prepared.passthroughs)
    definition = prepared.definition_fingerprint()
    kept = _kept_from_earlier_run(ctx, scope, key, definition=definition)
    if kept is not None:
        return kept
    facts = platform.with_pod_metadata(facts, prepared.kubernetes)
    facts = replace(facts, definition_fingerprint=definition, cache_fingerprint="")
    if ctx.cache_enabled and spec.caching_options.enable_cache:
        facts = replace(facts, cache_fingerprint=prepared.cache_fingerprint())
        hit = _cache_hit(ctx, scope, key, place=place, facts=facts, resolved=resolved)
        if hit is not None:
            return hit
    fingerprint = facts.cache_fingerprint or ""
    execution_id = _record_launch(ctx, scope, key, prepared, properties=[place, facts], resolved=resolved)
    task = _launcher_task(
        ctx, scope, key, prepared, execution_id=execution_id, runner=runner, fingerprint=fingerprint
    )
    return await _write_and_launch(ctx, scope, key, prepared, task=task, retry=retry)


def _condition_holds(spec: TaskSpec, resolved: ResolvedInputs) -> bool:
    expression = spec.trigger_policy.condition
    return not expression or condition.evaluate_condition(
        expression, parameters=resolved.parameters, artifacts=resolved.artifacts
    )


def _runner(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    container: ContainerSpec,
    *,
    passthroughs: task_config.Passthroughs,
) -> str:
    """The runner --runner/--runner-for picks for the task, with a warning for what it ignores."""
    task_path = "/".join((*scope.task_path, key))
    runner = ctx.runner.for_task(task_key=key, task_path=task_path, image=container.image)
    _warn_ignored_settings(ctx, container, runner=runner, passthroughs=passthroughs)
    return runner


def _skip(ctx: RunContext, scope: DagScope, key: str, *, properties: list[PropertyGroup]) -> TaskResult:
    """A task whose condition is false: recorded CANCELED, never launched."""
    execution_id = create_task_execution(
        ctx,
        scope,
        key,
        type=EXECUTION_TYPE,
        state=CANCELED,
        properties=[*properties, StateReason(SKIPPED_CONDITION)],
    )
    skipped = f"{scope.task_label(key)} {CANCELED} ({SKIPPED_CONDITION})"
    ctx.console.event("task_skipped", skipped, task=key)
    return TaskResult(task_key=key, state=CANCELED, execution_id=execution_id, skipped=True)


def _run_pvc_operation(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    container: ContainerSpec,
    *,
    resolved: ResolvedInputs,
    properties: list[PropertyGroup],
) -> TaskResult:
    """kfp-kubernetes' CreatePVC and DeletePVC: the driver itself creates or deletes the volume."""
    return platform.run_pvc_operation(
        ctx,
        key=key,
        label=scope.task_label(key),
        image=container.image,
        resolved=resolved,
        execution_id=create_task_execution(
            ctx, scope, key, type=EXECUTION_TYPE, state=RUNNING, properties=properties
        ),
    )


def _record_launch(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    prepared: PreparedTask,
    *,
    properties: list[PropertyGroup],
    resolved: ResolvedInputs,
) -> int:
    """The RUNNING execution the launcher will publish, with where the task's files are."""
    folders = prepared.folders
    places = TaskDirectory(
        task_dir=str(folders.task_dir), task_root=folders.task_root, task_uuid=folders.uuid
    )
    return create_task_execution(
        ctx,
        scope,
        key,
        type=EXECUTION_TYPE,
        state=RUNNING,
        properties=[*properties, places],
        input_artifacts=resolved.artifacts,
    )


def _launcher_task(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    prepared: PreparedTask,
    *,
    execution_id: int,
    runner: str,
    fingerprint: str,
) -> LauncherTask:
    """The driver's part of the task directory (`task.json`): what the launcher needs beyond the specs."""
    kubernetes = prepared.on_task_kubernetes
    return LauncherTask(
        run_id=ctx.run.run_id,
        pipeline_name=ctx.run.pipeline_name,
        task_key=key,
        label=scope.task_label(key),
        execution_id=execution_id,
        run_root=ctx.run.run_root,
        pipeline_root=ctx.run.pipeline_root,
        job_name=ctx.run.job_name,
        job_resource_name=ctx.run.job_resource_name,
        create_time=ctx.run.create_time,
        task_uuid=prepared.folders.uuid,
        workspace=ctx.workspace,
        cache_fingerprint=fingerprint,
        driver_pid=os.getpid(),
        console=ctx.console.verbosity,
        kubernetes=kubernetes.to_json() if kubernetes is not None else {},
        local_sources=platform.local_sources(ctx, kubernetes),
        kfp_package=ctx.kfp_package,
        runner=runner,
        runner_options=ctx.runner_options,
    )


async def _write_and_launch(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    prepared: PreparedTask,
    *,
    task: LauncherTask,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    """Write the task directory, then launch it; a directory that cannot be written fails the task."""
    task_dir = prepared.folders.task_dir
    files = TaskFiles(
        task_dir=task_dir,
        task=task,
        executor_input=prepared.handed,
        component=prepared.component,
        container=prepared.on_task_container,
    )
    try:
        files.write()
    except OSError as exc:  # a full disk, an unwritable home: this task fails, recorded, with the reason
        error = f"cannot write {task_dir}: {exc.strerror}"
        return _fail_unlaunched(ctx, scope, key, task.execution_id, error=error)
    return await _launch_with_retries(
        ctx, scope, key, execution_id=task.execution_id, task_dir=task_dir, retry=retry
    )


def _kept_from_earlier_run(
    ctx: RunContext, scope: DagScope, key: str, *, definition: str
) -> TaskResult | None:
    """On resume: the task's recorded result when it succeeded with the same definition and inputs."""
    earlier = ctx.previous.get((scope.execution_id, key, None))
    if earlier is None or earlier.state not in SUCCESS_STATES:
        return None
    # Runs recorded before the definition was noted keep what succeeded, as resume always did.
    if (earlier.definition_fingerprint or definition) != definition:
        return None
    missing = missing_output_files(earlier)
    if missing:  # a resume trusts a completed task only while the files it wrote are there
        ctx.console.event(
            "task_rerun",
            f"{scope.task_label(key)} was {earlier.state}, but {missing[0]} is gone: running it again",
            task=key,
        )
        return None
    ctx.console.event("task_resumed", f"{scope.task_label(key)} already {earlier.state}", task=key)
    return recorded_result(ctx.run_ledger.view(), earlier, label=scope.task_label(key))


def missing_output_files(execution: Execution) -> list[str]:
    """Artifact files a completed execution wrote (or a cache hit reused) that are gone now."""
    files = execution.output_files
    return [str(path) for path in files if not os.path.exists(str(path))]


def _fail_unlaunched(
    ctx: RunContext, scope: DagScope, key: str, execution_id: int, *, error: str
) -> TaskResult:
    ctx.run_ledger.publish_execution(execution_id, state=FAILED, properties=[TaskError(error)])
    label = scope.task_label(key)
    ctx.console.event("task_failed", f"{label} FAILED: {error}", task=key, state=FAILED)
    return TaskResult(task_key=key, state=FAILED, execution_id=execution_id, error=f"task {label!r}: {error}")


def _warn_ignored_settings(
    ctx: RunContext, container: ContainerSpec, *, runner: str, passthroughs: task_config.Passthroughs
) -> None:
    if runner != "host":
        return
    if container.HasField("resources") and task_config.RESOURCES not in passthroughs.off_task:
        ctx.warn_once(
            "resources",
            "CPU, memory and accelerator settings have no local effect on the host runner and are ignored"
            " (`--runner docker` applies cpu and memory limits)",
        )
    if container.image and container.image.startswith("{{"):
        ctx.warn_once(
            "image-placeholder", "an image given by a placeholder is not used: commands run on the host"
        )
    elif container.image and not _is_lightweight_python(container):
        ctx.warn_once(
            "host-images",
            f"the host runner runs container commands on this machine and ignores their images"
            f" ({container.image!r}, ...); `--runner docker` runs each task in its image",
        )


def _is_lightweight_python(container: ContainerSpec) -> bool:
    """The SDK's Python components: the host runner gives them an environment instead of their image."""
    return any("executor_main" in part for part in (*container.command, *container.args))


def _cache_hit(
    ctx: RunContext, scope: DagScope, key: str, *, place: TaskPlace, facts: ContainerTask, resolved: Any
) -> TaskResult | None:
    fingerprint = facts.cache_fingerprint or ""
    try:
        entries = ctx.ledger.lookup_cache(ctx.run.pipeline_name, fingerprint)
    except LedgerCorrupt as exc:  # one damaged partition must not stop the run: reported, then bypassed
        ctx.warn_once(f"cache-damage-{exc.file}", f"cache bypassed for a damaged partition: {exc}")
        return None
    for entry in entries:
        # The source run is held (shared) for the rest of this run, so prune keeps the files this hit hands
        # on; when prune is removing it at this moment, its files are no hit.
        if entry.run_id != ctx.run.run_id and not ctx.ledger.hold_for_reading(entry.run_id):
            continue
        if not cache.usable(entry):
            continue
        execution_id = create_task_execution(
            ctx,
            scope,
            key,
            type=EXECUTION_TYPE,
            state=RUNNING,
            input_artifacts=resolved.artifacts,
            properties=[place, replace(facts, cached_execution_id=entry.execution_id)],
        )
        published = ctx.run_ledger.publish_execution(
            execution_id,
            state=CACHED,
            properties=[TaskOutputs(outputs=entry.outputs, output_files=list(entry.required_files))],
            linked_artifacts=entry.artifacts,
        )
        ctx.console.event(
            "task_cached",
            f"{scope.task_label(key)} CACHED (from execution {entry.execution_id} of run {entry.run_id})",
            task=key,
            cached_execution_id=entry.execution_id,
        )
        return TaskResult(
            task_key=key,
            state=CACHED,
            execution_id=execution_id,
            parameters=parameters_from_python(entry.outputs),
            artifacts=published,
        )
    return None


def _backoff(retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy, attempt: int) -> float:
    duration = retry.backoff_duration.seconds + retry.backoff_duration.nanos / 1e9
    factor = retry.backoff_factor or 2.0
    return float(duration * factor**attempt)


async def _launch_with_retries(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    *,
    execution_id: int,
    task_dir: Path,
    retry: pipeline_spec_pb2.PipelineTaskSpec.RetryPolicy | None,
) -> TaskResult:
    label = scope.task_label(key)
    max_retries = retry.max_retry_count if retry is not None else 0
    max_window = (retry.backoff_max_duration.seconds if retry is not None else 0) or 3600
    first_failure: float | None = None
    attempt = 0
    while True:
        started_text = f"{label} started" + (f" (attempt {attempt + 1})" if attempt else "")
        ctx.console.event("task_started", started_text, task=key, attempt=attempt)
        started = time.monotonic()
        returncode = await _launch(ctx, execution_id=execution_id, task_dir=task_dir, attempt=attempt)
        execution = _settle(ctx, execution_id, returncode=returncode, attempt=attempt)
        took = time.monotonic() - started
        if execution.state == COMPLETE or ctx.stopping:
            break
        first_failure = first_failure or time.monotonic()
        wait = _backoff(retry, attempt) if retry is not None else 0.0
        if attempt >= max_retries or time.monotonic() + wait - first_failure > max_window:
            break
        retrying = f"{label} failed (attempt {attempt + 1} of {max_retries + 1}), retrying in {wait:g}s"
        ctx.console.event("task_retry", retrying, task=key, attempt=attempt)
        await asyncio.sleep(wait)
        attempt += 1
    return _finished(ctx, key, label=label, execution=execution, took=took)


def _finished(ctx: RunContext, key: str, *, label: str, execution: Execution, took: float) -> TaskResult:
    """The task's outcome, told on the console with the recorded time (first attempt's start to last
    attempt's end, as the summary and `ledger` show it; else the last attempt's)."""
    state = execution.state
    failed = state != COMPLETE and not ctx.stopping  # FAILED, or CANCELED from outside the run
    took = model.span(*model.execution_times(execution)) or took
    ctx.console.event(
        "task_failed" if failed else "task_finished",
        f"{label} {state} in {took:.2f}s" + (f": {_failure(execution)}" if failed else ""),
        task=key,
        state=state,
        duration=took,
    )
    result = recorded_result(ctx.run_ledger.view(), execution, label=label)
    if failed:
        result.error = f"task {label!r}: {_failure(execution)}"
    return result


async def _launch(ctx: RunContext, *, execution_id: int, task_dir: Path, attempt: int) -> int:
    async with ctx.slots:
        if ctx.stopping:
            return 130
        request = LaunchRequest(
            run_id=ctx.run.run_id, execution_id=execution_id, task_dir=str(task_dir), attempt=attempt
        )
        try:
            process = await ctx.launchers.launch(request)
        except OSError as exc:
            ctx.console.event("warning", f"warning: no launcher for {task_dir.name}: {exc}")
            return -1  # the task is recorded FAILED: its launcher never ran
        ctx.processes.add(process)
        try:
            return await process.wait()
        finally:
            ctx.processes.discard(process)


def _failure(execution: Execution) -> str:
    """Why an attempt that the driver did not stop ended other than COMPLETE."""
    if execution.state == CANCELED:  # its launcher or the fork server was stopped from outside the run
        return f"{CANCELED} from outside the run: {execution.error or 'its launcher was stopped'}"
    return execution.error


def _settle(ctx: RunContext, execution_id: int, *, returncode: int, attempt: int) -> Execution:
    """The execution after its launcher exited; a launcher that died without publishing fails the task,
    and its attempt record is closed as the launcher would have closed it (end, exit code, state, error)."""
    execution = ctx.run_ledger.view().executions[execution_id]
    if execution.state not in TERMINAL_STATES:
        reason = (
            "interrupted" if ctx.stopping else f"launcher exited with code {returncode} without publishing"
        )
        record = AttemptEnd(number=attempt, end=time.time(), exit_code=returncode, state=FAILED, error=reason)
        ctx.run_ledger.publish_execution(
            execution_id, state=FAILED, properties=[TaskError(reason)], attempt=record
        )
        execution = ctx.run_ledger.view().executions[execution_id]
    return execution
