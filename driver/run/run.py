"""The run lifecycle: validate, record the root DAG, walk it, record the outcome (and resume a run)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import signal
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from driver.run import dag, run_names
from driver.run.console import Console, count_tasks, failure_report, summary_rows
from driver.run.context import RunContext
from driver.run.launchers import LAUNCHER_STOP_SECONDS, ForkServer, start_ray_gateway
from driver.run.server_process import ServerProcess
from driver.run.slots import DEFAULT_PARALLELISM, Slots
from driver.run.warm_ahead import warm_ahead_requests
from driver.walk import walk
from driver.walk.params import build_root_parameters, read_params_file
from driver.walk.provision import parameters_from_python, parameters_to_python
from driver.walk.recorded import RecordedPipeline, recorded_pipeline
from driver.walk.state import DagScope, RunInfo, TaskResult
from ledger.model import (
    CANCELED,
    COMPLETE,
    DAG_EXECUTION,
    FAILED,
    PIPELINE_CONTEXT,
    PIPELINE_RUN_CONTEXT,
    RUNNING,
    TERMINAL_STATES,
    RunView,
)
from ledger.properties import KIND_ROOT, DagRecord, RootPlace, TaskError
from ledger.run_header import DriverStarted, PipelineChange, RunHeader
from ledger.store import Ledger, RunLedger, check_run_id
from spec.backend_differences import BackendDifference, backend_differences, rejection_warning
from spec.errors import LedgerError, LplError, OptionError
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import KUBERNETES, ExecutorSettings, load_kubernetes_settings
from spec.load import LoadedPipeline, load_deployment_config, load_pipeline
from spec.outline import outline
from spec.runner_choice import RunnerChoice

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class RunOptions:
    pipeline: Path | None
    home: Path
    params: list[str] = field(default_factory=list)
    params_file: Path | None = None
    pipeline_root: Path | None = None
    run_id: str | None = None
    run_name: str | None = None  # the display name; default as the SDK client names a run
    secrets: dict[str, str] = field(default_factory=dict)  # secret name -> local source path
    config_maps: dict[str, str] = field(default_factory=dict)  # config map name -> local source path
    kfp_package: str = ""  # replaces a lightweight component's kfp pin
    cache: bool = True
    parallelism: int | None = None  # None: the default cap, widened by loops' own limits
    resume: str | None = None
    mounts: dict[str, str] = field(default_factory=dict)
    workspace: Path | None = None
    log_format: str = "text"
    verbosity: str = "normal"  # quiet | normal | verbose (driver/run/console.py VERBOSITIES)
    # --runner/--runner-for (None: not given: the host runner, or on --resume the run's recorded choice)
    runner: RunnerChoice | None = None
    # Runner settings given on the command line (ignore_accelerators, docker_network); a resume adds
    # them to the recorded ones.
    runner_options: dict[str, Any] = field(default_factory=dict)
    # The process waiting on this driver (`run_pipeline`'s caller): the run stops as on Ctrl-C when it dies.
    caller_pid: int | None = None


@dataclass(frozen=True)
class PreparedRun:
    """Everything checked before anything is recorded."""

    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    platform_spec: pipeline_spec_pb2.PlatformSpec | None
    parameters: dict[str, struct_pb2.Value]
    run_id: str
    pipeline_root: Path
    source: str
    kubernetes: dict[str, ExecutorSettings] = field(default_factory=dict)  # by executor label
    finished: bool = False  # a resumed run that already completed: nothing to do


CALLER_POLL_SECONDS = 0.5


def _existing_ledger(home: Path) -> Ledger | None:
    """The home's store if one exists; checking input must not create one (nothing recorded on refusal).

    A `ledger` directory without its `store.json` is opened too, so that its damage is reported."""
    return Ledger(home, create=False) if (home / "ledger").is_dir() else None


def _check_directory(path: Path, *, option: str) -> None:
    """A directory the run writes into must be one or be creatable: refused before anything is recorded."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == path else f"cannot be created: {existing} is a file"
        raise OptionError(f"{option} {path} {what}, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OptionError(f"{option} {path}: {existing} is not writable")


def _check_directories(options: RunOptions, *, pipeline_root: Path) -> None:
    _check_directory(options.home, option="--home")
    _check_directory(pipeline_root, option="--pipeline-root")
    if options.workspace is not None:
        _check_directory(options.workspace, option="--workspace")


def prepare_run(options: RunOptions) -> PreparedRun:
    if options.resume:
        ledger = _existing_ledger(options.home)
        if ledger is None:
            raise OptionError(
                f"no run {options.resume!r} in {options.home}: nothing has run with this --home"
            )
        prepared = _prepare_resume(options, ledger)
        _check_directories(options, pipeline_root=prepared.pipeline_root)
        return prepared
    if options.pipeline is None:
        raise OptionError("a pipeline file is required (or --resume RUN_ID)")
    loaded = load_pipeline(options.pipeline)
    from_file = read_params_file(options.params_file) if options.params_file else {}
    parameters = build_root_parameters(loaded.pipeline_spec.root, cli=options.params, from_file=from_file)
    run_id = check_run_id(options.run_id) if options.run_id else str(uuid.uuid4())
    ledger = _existing_ledger(options.home)
    if ledger is not None and ledger.run_path(run_id).exists():
        raise OptionError(f"run {run_id!r} already exists; use --resume {run_id} to continue it")
    root = (options.pipeline_root or options.home / "pipeline_root").resolve()
    _check_directories(options, pipeline_root=root)
    return PreparedRun(
        pipeline_spec=loaded.pipeline_spec,
        platform_spec=loaded.platform_spec,
        kubernetes=load_kubernetes_settings(loaded.platform_spec, file=options.pipeline),
        parameters=parameters,
        run_id=run_id,
        pipeline_root=root,
        source=str(options.pipeline),
    )


def _prepare_resume(options: RunOptions, ledger: Ledger) -> PreparedRun:
    try:
        view = ledger.open_run(ledger.resolve_run_id(options.resume or "")).view()
    except LedgerError as exc:
        raise OptionError(str(exc)) from exc
    header = view.header
    if options.params or options.params_file:
        raise OptionError("--resume takes the parameters recorded with the run; do not pass -p/--params-file")
    recorded = recorded_pipeline(view)
    if options.pipeline is not None:
        recorded = _continuing_pipeline(options.pipeline, recorded=recorded, view=view)
    parameters = parameters_from_python(header.parameters)
    return PreparedRun(
        pipeline_spec=recorded.pipeline_spec,
        platform_spec=recorded.platform_spec,
        kubernetes=load_kubernetes_settings(recorded.platform_spec),
        parameters=parameters,
        run_id=header.run_id,
        pipeline_root=Path(header.pipeline_root),
        source=recorded.source,
        finished=view.state == COMPLETE,
    )


def _continuing_pipeline(path: Path, *, recorded: RecordedPipeline, view: RunView) -> RecordedPipeline:
    """The file given to `--resume RUN FILE`, if it can continue that run: the same pipeline (by name),
    whose inputs take the parameters the run was started with. Its tasks may differ: changed ones run
    again."""
    given: LoadedPipeline = load_pipeline(path)
    name, ran = given.pipeline_spec.pipeline_info.name, recorded.pipeline_spec.pipeline_info.name
    cannot = f"{path} cannot continue run {view.run_id!r}"
    if name != ran:
        raise OptionError(
            f"{cannot}: it is pipeline {name!r}, the run is of pipeline {ran!r}; start a new run with it"
        )
    try:
        build_root_parameters(given.pipeline_spec.root, cli=[], from_file=dict(view.header.parameters))
    except LplError as exc:
        raise OptionError(f"{cannot}: the run's parameters do not fit its inputs: {exc}") from exc
    return RecordedPipeline(
        pipeline_spec=given.pipeline_spec, platform_spec=given.platform_spec, source=str(path)
    )


def execute(options: RunOptions, *, early: ServerProcess | None = None) -> int:
    """Run (or resume) a pipeline; return the process exit status."""
    prepared = prepare_run(options)
    console = Console(log_format=options.log_format, verbosity=options.verbosity)
    if prepared.finished:
        console.event("run_finished", f"run {prepared.run_id} is already COMPLETE: nothing to resume",
                      run_id=prepared.run_id, state=COMPLETE)
        return EXIT_OK
    deployment = load_deployment_config(prepared.pipeline_spec)
    if early is not None:
        _warm_ahead(early, deployment, options)
    ledger = Ledger(options.home)
    # Held until this process exits, however it exits: a second driver (a second --resume) is refused.
    ledger.lock_run(prepared.run_id)
    if options.resume:  # launchers of a killed driver record their attempts before the resume reads them
        ledger.wait_for_launchers(prepared.run_id, timeout=LAUNCHER_STOP_SECONDS)
    total, exact = count_tasks(outline(prepared.pipeline_spec, deployment))
    console.set_total(total, exact=exact)
    name = prepared.pipeline_spec.pipeline_info.name
    run_root = f"{prepared.pipeline_root}/{name}/{prepared.run_id}"
    if options.resume:
        run_ledger = ledger.open_run(prepared.run_id)
        _close_unfinished(run_ledger)
        run_ledger.finish_run(RUNNING)  # the run's state record: it is running again
        _note_pipeline_change(run_ledger, prepared)
        header = run_ledger.view().header
        create_time = header.create_time
        display_name = header.job_name
        resource = header.resource
        options = _with_recorded_sources(options, header)
    else:
        display_name = options.run_name or run_names.default_display_name(name)
        resource = run_names.resource_name(name)
        create_time = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        run_ledger = ledger.create_run(
            _header(
                prepared,
                run_root=run_root,
                create_time=create_time,
                options=options,
                run_name=display_name,
                resource=resource,
            )
        )
    run = RunInfo(
        run_id=prepared.run_id,
        pipeline_name=name,
        pipeline_root=str(prepared.pipeline_root),
        run_root=run_root,
        job_name=display_name,
        create_time=create_time,
        resource_name=resource,
    )
    try:
        return _run_recorded(
            options, prepared, run_ledger, run=run, console=console, early=early, deployment=deployment
        )
    except (LplError, OSError) as exc:
        # The run is recorded: whatever stopped it (a full disk, an unwritable directory), it ends FAILED.
        return _record_crash(run_ledger, exc)


def _warm_ahead(
    early: ServerProcess, deployment: pipeline_spec_pb2.PipelineDeploymentConfig, options: RunOptions
) -> None:
    """Ask the fork server for the pipeline's warm interpreters now, while this driver records the run (a
    fork server already gone is said when the first task is sent to it)."""
    for request in warm_ahead_requests(
        deployment,
        runner=options.runner,
        runner_options=options.runner_options,
        kfp_package=options.kfp_package,
        driver_pid=os.getpid(),
    ):
        try:
            early.send(request.to_line())
        except OSError:
            return


def _run_recorded(
    options: RunOptions,
    prepared: PreparedRun,
    run_ledger: RunLedger,
    *,
    run: RunInfo,
    console: Console,
    early: ServerProcess | None,
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig,
) -> int:
    run_ledger.add_note(DriverStarted(driver_pid=os.getpid()))  # who ran it, for people reading the journal
    run_root, name = run.run_root, run.pipeline_name
    run_dir = options.home.resolve() / "runs" / prepared.run_id
    if options.runner is not None and "ray" in options.runner.names:
        start_ray_gateway(
            address=str(options.runner_options.get("ray_address") or ""),
            pipeline_root=run.pipeline_root,
            log_path=run_dir / "ray-gateway.log",
        )
    ctx = RunContext(
        pipeline_spec=prepared.pipeline_spec,
        deployment=deployment,
        run=run,
        ledger=run_ledger.ledger,
        run_ledger=run_ledger,
        home=options.home.resolve(),
        run_dir=run_dir,
        cache_enabled=options.cache,
        slots=Slots(
            options.parallelism or DEFAULT_PARALLELISM, fixed=options.parallelism is not None
        ),
        console=console,
        launchers=ForkServer(early or ServerProcess.start(options.home.resolve())),
        mounts=dict(options.mounts),
        workspace=_workspace(options, run_root),
        platform_spec=prepared.platform_spec,
        kubernetes=prepared.kubernetes,
        local_sources={"secret": dict(options.secrets), "config map": dict(options.config_maps)},
        kfp_package=options.kfp_package,
        previous=run_ledger.view().by_place() if options.resume else {},
        runner=options.runner or RunnerChoice(),
        runner_options=dict(options.runner_options),
    )
    verb = "resuming" if options.resume else "started"
    console.event(
        "run_started",
        f"run {prepared.run_id} {verb}: pipeline {name!r} from {prepared.source}",
        run_id=prepared.run_id,
        pipeline=name,
    )
    _warn_platform_settings(ctx)
    differences = backend_differences(ctx.pipeline_spec, ctx.deployment)
    if rejection_warning(differences):
        ctx.warn_once("backend-rejects", rejection_warning(differences))
    state = asyncio.run(_walk_root(ctx, prepared, caller_pid=options.caller_pid))
    run_ledger.finish_run(state)
    _print_summary(ctx, state, differences=differences)
    if state == COMPLETE:
        return EXIT_OK
    return EXIT_INTERRUPTED if ctx.stopping else EXIT_FAILED


def _record_crash(run_ledger: RunLedger, error: LplError | OSError) -> int:
    """One line for a run stopped by something other than a task, recorded FAILED if the ledger lets us."""
    reason = str(error) or type(error).__name__
    run_id = run_ledger.run_id
    try:
        _close_unfinished(run_ledger, state=FAILED, error=f"the run stopped: {reason}", dags=True)
        run_ledger.finish_run(FAILED)
        outcome = f"recorded FAILED; `python -m driver --resume {run_id}` continues it"
    except (LplError, OSError) as again:
        outcome = f"and could not be recorded ({again}); `--resume {run_id}` continues it once that is fixed"
    print(f"error: run {run_id} stopped: {reason}; {outcome}", file=sys.stderr)
    return EXIT_FAILED


def _note_pipeline_change(run_ledger: RunLedger, prepared: PreparedRun) -> None:
    """`--resume RUN FILE` with a changed pipeline: the run goes on with it; later resumes start from it."""
    if prepared.pipeline_spec == recorded_pipeline(run_ledger.view()).pipeline_spec:
        return
    platform = prepared.platform_spec
    run_ledger.add_note(PipelineChange(
        source=prepared.source,
        pipeline_spec=json_format.MessageToDict(prepared.pipeline_spec),
        platform_spec=json_format.MessageToDict(platform) if platform is not None else None,
    ))


def _warn_platform_settings(ctx: RunContext) -> None:
    """Settings that only place a pod on a cluster (node selectors, tolerations, ...) have no local meaning;
    other platforms than kubernetes have none at all."""
    ignored = sorted({name for settings in ctx.kubernetes.values() for name in settings.ignored})
    if ignored:
        ctx.warn_once(
            "kubernetes-ignored", f"kubernetes settings with no local effect, ignored: {', '.join(ignored)}"
        )
    if ctx.platform_spec is None:
        return
    for platform in ctx.platform_spec.platforms:
        if platform != KUBERNETES:
            ctx.warn_once(f"platform-{platform}", f"{platform} settings have no local effect and are ignored")


def _with_recorded_sources(options: RunOptions, header: RunHeader) -> RunOptions:
    """A resume takes the run's recorded secret/config map sources (those given again, or new ones, win) and
    its kfp package, runner choice and workspace unless others are given, and its mounts (those given
    again win)."""
    return dataclasses.replace(
        options,
        secrets={**(header.secrets or {}), **options.secrets},
        config_maps={**(header.config_maps or {}), **options.config_maps},
        kfp_package=options.kfp_package or header.kfp_package or "",
        runner=options.runner or RunnerChoice.from_json(header.runner),
        runner_options={**(header.runner_options or {}), **options.runner_options},
        workspace=options.workspace or (Path(header.workspace) if header.workspace else None),
        mounts={**(header.mounts or {}), **options.mounts},
    )


def _header(
    prepared: PreparedRun,
    *,
    run_root: str,
    create_time: str,
    options: RunOptions,
    run_name: str,
    resource: str,
) -> RunHeader:
    platform = prepared.platform_spec
    name = prepared.pipeline_spec.pipeline_info.name
    return RunHeader(
        run_id=prepared.run_id,
        pipeline_name=name,
        source=prepared.source,
        pipeline_spec=json_format.MessageToDict(prepared.pipeline_spec),
        platform_spec=json_format.MessageToDict(platform) if platform is not None else None,
        parameters=parameters_to_python(prepared.parameters),
        pipeline_root=str(prepared.pipeline_root),
        run_root=run_root,
        create_time=create_time,
        cache_enabled=options.cache,
        # Paths of local sources only: a resume uses them again; secret values are never recorded.
        secrets=options.secrets,
        config_maps=options.config_maps,
        kfp_package=options.kfp_package,
        runner=(options.runner or RunnerChoice()).to_json(),
        runner_options=options.runner_options,
        contexts={PIPELINE_CONTEXT: name, PIPELINE_RUN_CONTEXT: prepared.run_id},
        run_name=run_name,
        resource_name=resource,
        workspace=str(options.workspace.resolve()) if options.workspace is not None else None,
        mounts=dict(options.mounts) or None,
    )


def _workspace(options: RunOptions, run_root: str) -> str:
    if options.workspace is not None:
        options.workspace.mkdir(parents=True, exist_ok=True)
        return str(options.workspace.resolve())
    return f"{run_root}/workspace"


def _close_unfinished(
    run_ledger: RunLedger,
    *,
    state: str = CANCELED,
    error: str = "interrupted: the run stopped before this task ended",
    dags: bool = False,
) -> None:
    """Tasks a killed driver left RUNNING are over: record them CANCELED, as an interrupt would have.

    The resume runs them again as new executions; DAG executions are taken up again, so they stay as they
    are unless `dags` (a run that stopped on an error of its own closes them FAILED; a resume reopens them).
    """
    for execution in run_ledger.view().executions.values():
        if execution.state not in TERMINAL_STATES and (dags or execution.type != DAG_EXECUTION):
            run_ledger.update_execution(execution.id, state=state, properties=[TaskError(error)])


def _root_execution(ctx: RunContext, parameters: dict[str, struct_pb2.Value]) -> int:
    name = f"run/{ctx.run.run_id}"
    for execution in ctx.run_ledger.view().executions.values():
        if execution.name == name:
            ctx.run_ledger.update_execution(execution.id, state=RUNNING)
            return execution.id
    return ctx.run_ledger.create_execution(
        type=DAG_EXECUTION,
        name=name,
        state=RUNNING,
        properties=[
            RootPlace(),
            DagRecord(
                dag_kind=KIND_ROOT,
                inputs=parameters_to_python(parameters),
                total_dag_tasks=len(ctx.pipeline_spec.root.dag.tasks),
            ),
        ],
    )


async def _walk_root(ctx: RunContext, prepared: PreparedRun, *, caller_pid: int | None) -> str:
    try:
        return await _walk_root_dag(ctx, prepared, caller_pid=caller_pid)
    except BaseException:
        _stop_processes(ctx)  # the walk broke off: no task outlives it unrecorded
        raise
    finally:
        await ctx.launchers.close()


async def _walk_root_dag(ctx: RunContext, prepared: PreparedRun, *, caller_pid: int | None) -> str:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stop, ctx)
    if caller_pid is not None:
        _watch_caller(ctx, caller_pid)
    root_id = _root_execution(ctx, prepared.parameters)
    scope = DagScope(
        execution_id=root_id,
        component=ctx.pipeline_spec.root,
        component_name="root",
        task_path=(),
        parameters=prepared.parameters,
    )
    state = await walk.walk_dag(dag.RunHandlers(ctx), scope)
    if ctx.stopping:
        state = CANCELED
    result = TaskResult(
        task_key="", state=state, execution_id=root_id, scope=scope, error=dag.first_error(scope)
    )
    dag.close_dag(ctx, result, ctx.pipeline_spec.root)
    return state


def _watch_caller(ctx: RunContext, caller_pid: int) -> None:
    """Stop as on Ctrl-C once the process that waits on this driver is gone (killed, or ended without
    stopping it): its console, a pipe no one reads, goes to /dev/null from then on."""
    if os.getppid() == caller_pid:
        asyncio.get_running_loop().call_later(CALLER_POLL_SECONDS, _watch_caller, ctx, caller_pid)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (1, 2):
        os.dup2(devnull, stream)
    os.close(devnull)
    _stop(ctx)


def _stop(ctx: RunContext) -> None:
    """First interrupt: start no new task and stop the running ones (their launchers record them)."""
    if not ctx.stopping:
        ctx.console.event("run_interrupted", "interrupted: stopping running tasks")
    _stop_processes(ctx)


def _stop_processes(ctx: RunContext) -> None:
    ctx.stopping = True
    for process in list(ctx.processes):
        process.stop()


def _default_home() -> Path:
    return Path(os.environ.get("LPL_HOME", ".lpl"))


def _print_summary(ctx: RunContext, state: str, *, differences: list[BackendDifference]) -> None:
    view = ctx.run_ledger.view()
    ctx.console.summary(summary_rows(view))
    if differences:
        lines = ["on the KFP backend of today this pipeline would differ:"]
        ctx.console.event(
            "backend_differences",
            "\n".join([*lines, *(f"  {difference.line()}" for difference in differences)]),
            differences=[difference.to_json() for difference in differences],
        )
    event = "run_finished" if state == COMPLETE else "run_failed"
    lines = [f"run {ctx.run.run_id} {state}"]
    if state == FAILED:
        home = None if ctx.home == _default_home().resolve() else ctx.home
        lines += failure_report(view, recorded_pipeline(view).source, home=home)
    ctx.console.event(event, "\n".join(lines), run_id=ctx.run.run_id, state=state)
