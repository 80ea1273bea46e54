"""Container tasks: resolve, condition, provision, cache, then hand over to a launcher process per attempt."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any, TypeAlias

from driver import cache, condition, platform, task_config
from driver.context import RunContext
from driver.provision import build_executor_input, parameters_from_python, parameters_to_python
from driver.resolve import TaskContext, resolve_inputs
from driver.state import DagScope, TaskResult
from ledger import model
from ledger.model import (
    CACHED,
    CANCELED,
    COMPLETE,
    CONTAINER_EXECUTION,
    FAILED,
    RUNNING,
    SKIPPED_CONDITION,
    STATE_REASON,
    SUCCESS_STATES,
    SUPERSEDED_BY,
    TERMINAL_STATES,
    Execution,
)
from spec import labels, protojson
from spec.contracts import LauncherTask, LaunchRequest, TaskFiles
from spec.errors import LedgerCorrupt
from spec.ir import pipeline_spec_pb2

EXECUTION_TYPE = CONTAINER_EXECUTION
TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ContainerSpec: TypeAlias = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec


def task_label(scope: DagScope, key: str) -> str:
    return labels.child_label(scope.place, key)


def _properties(scope: DagScope, key: str, spec: TaskSpec) -> dict[str, Any]:
    return scope.task_place(key, spec).to_json() | {"image": ""}


def restore_result(ctx: RunContext, execution: Execution) -> TaskResult:
    """A task this run already completed (resume): its outputs as recorded."""
    view = ctx.run_ledger.view()
    return TaskResult(
        task_key=execution.task_name,
        state=execution.state,
        execution_id=execution.id,
        parameters=parameters_from_python(execution.outputs),
        artifacts=view.artifacts_of(execution.id, "OUTPUT"),
    )


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
    uid = uuid.uuid4().hex
    context = TaskContext(run=ctx.run, task_key=key, workspace_path=ctx.workspace, task_uuid=uid)
    resolved = resolve_inputs(spec, component, scope, context=context, for_dag=False)
    properties = _properties(scope, key, spec) | {"inputs": parameters_to_python(resolved.parameters)}
    if spec.trigger_policy.condition and not condition.evaluate_condition(
        spec.trigger_policy.condition, parameters=resolved.parameters, artifacts=resolved.artifacts
    ):
        execution_id = create_task_execution(
            ctx,
            scope,
            key,
            type=EXECUTION_TYPE,
            state=CANCELED,
            properties=properties | {STATE_REASON: SKIPPED_CONDITION},
        )
        skipped = f"{task_label(scope, key)} {CANCELED} ({SKIPPED_CONDITION})"
        ctx.console.event("task_skipped", skipped, task=key)
        return TaskResult(task_key=key, state=CANCELED, execution_id=execution_id, skipped=True)
    if platform.is_pvc_operation(container):
        return platform.run_pvc_operation(
            ctx,
            key=key,
            label=task_label(scope, key),
            image=container.image,
            resolved=resolved,
            execution_id=create_task_execution(
                ctx, scope, key, type=EXECUTION_TYPE, state=RUNNING, properties=properties
            ),
        )
    kubernetes = platform.task_kubernetes(
        ctx.kubernetes, scope=scope, task_spec=spec, component=component, context=context
    )
    properties |= platform.execution_properties(kubernetes)
    runner = ctx.runner.for_task(
        task_key=key, task_path="/".join((*scope.task_path, key)), image=container.image
    )
    passthroughs = task_config.Passthroughs.of(component)
    _warn_ignored_settings(ctx, container, runner=runner, passthroughs=passthroughs)
    task_root = f"{ctx.run.run_root}/{key}/{uid}"
    task_dir = ctx.run_dir / f"{key}-{uid[:12]}"
    executor_input = build_executor_input(
        resolved, component, task_root=task_root, parameter_dir=task_dir / "outputs"
    )
    container_json = protojson.message_to_jsonable(container)
    definition = cache.definition_fingerprint(
        task_spec=spec, executor_input=executor_input, component_spec=component, container=container_json
    )
    kept = _kept_from_earlier_run(ctx, scope, key, definition=definition)
    if kept is not None:
        return kept
    properties["definition_fingerprint"] = definition
    fingerprint = ""
    if ctx.cache_enabled and spec.caching_options.enable_cache:
        fingerprint = cache.fingerprint(
            task_spec=spec,
            executor_input=executor_input,
            component_spec=component,
            container=container_json,
            pvc_names=tuple(v.name for v in kubernetes.volumes if v.kind == "pvc") if kubernetes else (),
        )
        hit = _cache_hit(ctx, scope, key, properties=properties, fingerprint=fingerprint, resolved=resolved)
        if hit is not None:
            return hit
    # A dsl.TaskConfig is handed once the cache key is taken; what it alone carries stays off the task.
    executor_input = task_config.with_task_config(
        executor_input,
        component=component,
        container=container_json,
        kubernetes=kubernetes,
        workspace=ctx.workspace,
        run_name=ctx.run.job_resource_name,
    )
    container_json, kubernetes = task_config.on_task(
        passthroughs, container=container_json, kubernetes=kubernetes
    )
    properties |= {
        "cache_fingerprint": fingerprint,
        "task_dir": str(task_dir),
        "task_root": task_root,
        "task_uuid": uid,
    }
    execution_id = create_task_execution(
        ctx,
        scope,
        key,
        type=EXECUTION_TYPE,
        state=RUNNING,
        properties=properties,
        input_artifacts=resolved.artifacts,
    )
    task = LauncherTask(
        run_id=ctx.run.run_id,
        pipeline_name=ctx.run.pipeline_name,
        task_key=key,
        label=task_label(scope, key),
        execution_id=execution_id,
        run_root=ctx.run.run_root,
        pipeline_root=ctx.run.pipeline_root,
        job_name=ctx.run.job_name,
        job_resource_name=ctx.run.job_resource_name,
        create_time=ctx.run.create_time,
        task_uuid=uid,
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
    files = TaskFiles(
        task_dir=task_dir,
        task=task,
        executor_input=executor_input,
        component=component,
        container=container_json,
    )
    try:
        files.write()
    except OSError as exc:  # a full disk, an unwritable home: this task fails, recorded, with the reason
        error = f"cannot write {task_dir}: {exc.strerror}"
        return _fail_unlaunched(ctx, scope, key, execution_id, error=error)
    return await _launch_with_retries(
        ctx, scope, key, execution_id=execution_id, task_dir=task_dir, retry=retry
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
            f"{task_label(scope, key)} was {earlier.state}, but {missing[0]} is gone: running it again",
            task=key,
        )
        return None
    ctx.console.event("task_resumed", f"{task_label(scope, key)} already {earlier.state}", task=key)
    return restore_result(ctx, earlier)


def create_task_execution(ctx: RunContext, scope: DagScope, key: str, **record: Any) -> int:
    """Record a new execution of the task; on resume it supersedes the one recorded before, so the run
    keeps one current execution per task (the earlier one stays in the ledger, marked `superseded_by`)."""
    execution_id = ctx.run_ledger.create_execution(**record)
    earlier = ctx.previous.get((scope.execution_id, key, None))
    if earlier is not None:
        ctx.run_ledger.update_execution(earlier.id, properties={SUPERSEDED_BY: execution_id})
    return execution_id


def missing_output_files(execution: Execution) -> list[str]:
    """Artifact files a completed execution wrote (or a cache hit reused) that are gone now."""
    files = execution.output_files
    return [str(path) for path in files if not os.path.exists(str(path))]


def _fail_unlaunched(
    ctx: RunContext, scope: DagScope, key: str, execution_id: int, *, error: str
) -> TaskResult:
    ctx.run_ledger.publish_execution(execution_id, state=FAILED, properties={"error": error})
    label = task_label(scope, key)
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
    ctx: RunContext, scope: DagScope, key: str, *, properties: dict[str, Any], fingerprint: str, resolved: Any
) -> TaskResult | None:
    try:
        entries = ctx.ledger.lookup_cache(ctx.run.pipeline_name, fingerprint)
    except LedgerCorrupt as exc:  # one damaged partition must not stop the run: reported, then bypassed
        ctx.warn_once(f"cache-damage-{exc.file}", f"cache bypassed for a damaged partition: {exc}")
        return None
    for entry in entries:
        if not cache.usable(entry):
            continue
        execution_id = create_task_execution(
            ctx,
            scope,
            key,
            type=EXECUTION_TYPE,
            state=RUNNING,
            input_artifacts=resolved.artifacts,
            properties=properties
            | {"cache_fingerprint": fingerprint, "cached_execution_id": entry.execution_id},
        )
        published = ctx.run_ledger.publish_execution(
            execution_id,
            state=CACHED,
            properties={"outputs": entry.outputs, "output_files": list(entry.required_files)},
            linked_artifacts=entry.artifacts,
        )
        ctx.console.event(
            "task_cached",
            f"{task_label(scope, key)} CACHED (from execution {entry.execution_id} of run {entry.run_id})",
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
    label = task_label(scope, key)
    max_retries = retry.max_retry_count if retry is not None else 0
    max_window = (retry.backoff_max_duration.seconds if retry is not None else 0) or 3600
    first_failure: float | None = None
    attempt = 0
    while True:
        ctx.console.event(
            "task_started",
            f"{label} started" + (f" (attempt {attempt + 1})" if attempt else ""),
            task=key,
            attempt=attempt,
        )
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
        ctx.console.event(
            "task_retry",
            f"{label} failed (attempt {attempt + 1} of {max_retries + 1}), retrying in {wait:g}s",
            task=key,
            attempt=attempt,
        )
        await asyncio.sleep(wait)
        attempt += 1
    state = execution.state
    error = "" if state == COMPLETE or ctx.stopping else f"task {label!r}: {_failure(execution)}"
    # The recorded time (first attempt's start to last attempt's end), as the summary and `ledger` show it.
    took = model.span(*model.execution_times(execution)) or took
    ctx.console.event(
        "task_failed" if error else "task_finished",
        f"{label} {state} in {took:.2f}s" + (f": {_failure(execution)}" if error else ""),
        task=key,
        state=state,
        duration=took,
    )
    view = ctx.run_ledger.view()
    return TaskResult(
        task_key=key,
        state=state,
        execution_id=execution_id,
        error=error,
        parameters=parameters_from_python(execution.outputs),
        artifacts=view.artifacts_of(execution_id, "OUTPUT"),
    )


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
        record = {"number": attempt, "end": time.time(), "exit_code": returncode, "state": FAILED,
                  "error": reason}
        ctx.run_ledger.publish_execution(
            execution_id, state=FAILED, properties={"error": reason}, attempt=record
        )
        execution = ctx.run_ledger.view().executions[execution_id]
    return execution
