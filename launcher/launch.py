"""One attempt of one container task: environment, placeholders, the process, its outputs, the ledger."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from launcher import process_tree
from launcher.echo import OutputStream
from launcher.lifetime import die_with_parent
from launcher.needs import diagnose
from launcher.outputs import OutputError, collect_outputs
from launcher.runners import Attempt, Mount, Runner, Started, runner_named
from ledger.model import CANCELED, COMPLETE, FAILED, RUNNING, ArtifactDraft
from ledger.properties import AttemptEnd, AttemptOutcome, AttemptStart
from ledger.store import CacheEntry, Ledger, RunLedger
from spec.contracts import EXECUTOR_LOGS, TaskFiles
from spec.errors import LplError
from spec.kubernetes import TaskKubernetes
from spec.task_plan import TaskPlan, plan_task

__all__ = ["EXIT_INTERRUPTED", "die_with_parent", "launch"]
EXIT_INTERRUPTED = 130
# After the component ended (and what it left behind was stopped), how long its output may take to drain.
OUTPUT_DRAIN_SECONDS = 2.0


@dataclass
class Outcome:
    state: str
    error: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactDraft]] = field(default_factory=dict)
    present_files: list[str] = field(default_factory=list)
    exit_code: int | None = None
    ran: bool = False
    command: list[str] | None = None  # the command line run, once planned


class _Interrupt:
    """SIGTERM/SIGINT while the component runs: stop it (its runner knows how), record CANCELED."""

    def __init__(self) -> None:
        self.requested = False
        self.started: Started | None = None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if self.started is not None:
            self.started.stop()

    def adopt(self, started: Started) -> None:
        """Track the component; a signal that came before it could be tracked stops it now."""
        self.started = started
        if self.requested:
            started.stop()


def launch(
    *, home: Path, run_id: str, execution_id: int, task_dir: Path, attempt: int, parent_pid: int | None = None
) -> int:
    """Run one attempt; `parent_pid` is the process this one must die with (default: the driver)."""
    die_with_parent()
    process_tree.become_subreaper()  # what the component leaves behind stays ours to stop
    files = TaskFiles.read(task_dir)
    expected_parent = parent_pid or files.task.driver_pid
    if expected_parent and os.getppid() != expected_parent:
        return EXIT_INTERRUPTED  # the parent died before we could ask to die with it
    interrupt = _Interrupt()
    ledger = Ledger(home)
    ledger.hold_as_launcher(run_id)  # a resume waits for this attempt's outcome before it reads the run
    run_ledger = ledger.open_run(run_id)
    started = time.time()
    run_ledger.update_execution(
        execution_id, state=RUNNING, attempt=AttemptStart(number=attempt, start=started, pid=os.getpid())
    )
    try:
        files.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(files.log_path, "ab")  # noqa: SIM115 - closed by the `with` below
    except OSError as exc:  # a full disk, a pipeline root that cannot be written: the task fails, recorded
        outcome = Outcome(state=FAILED, error=f"cannot write the task log {files.log_path}: {exc.strerror}")
        _publish(
            ledger, run_ledger, files, outcome, execution_id=execution_id, attempt=attempt, started=started
        )
        return 1
    with log_file as log:
        if attempt:
            log.write(f"---- attempt {attempt + 1} ----\n".encode())
        try:
            outcome = _execute(files, home=home, log=log, interrupt=interrupt)
        except (LplError, OutputError, OSError, ValueError) as exc:
            outcome = Outcome(state=FAILED, error=str(exc), ran=False)
            log.write(f"[launcher] {exc}\n".encode())
    if interrupt.requested:
        outcome = Outcome(
            state=CANCELED,
            error="interrupted",
            ran=outcome.ran,
            exit_code=outcome.exit_code,
            command=outcome.command,
        )
    _publish(ledger, run_ledger, files, outcome, execution_id=execution_id, attempt=attempt, started=started)
    if outcome.state == COMPLETE:
        return 0
    return EXIT_INTERRUPTED if outcome.state == CANCELED else 1


def _execute(files: TaskFiles, *, home: Path, log: BinaryIO, interrupt: _Interrupt) -> Outcome:
    _prepare_output_folders(files)
    plan = plan_task(
        files.executor_input,
        component_spec=files.component,
        container=files.container,
        job=files.task.job_facts(),
        kfp_package=files.task.kfp_package,
    )
    stream = OutputStream(
        log=log,
        console=sys.stdout.buffer,
        label=files.task.label,
        mode=files.task.console,
    )
    attempt = _attempt(files, plan, home=home)
    deadline = Deadline(_timeout_seconds(files))
    exit_code = run_attempt(
        runner_named(files.task.runner), attempt, stream=stream, interrupt=interrupt, deadline=deadline
    )
    argv = list(attempt.program)
    if deadline.expired:
        return Outcome(state=FAILED, error=deadline.error, exit_code=exit_code, ran=True, command=argv)
    if exit_code != 0:
        return Outcome(
            state=FAILED,
            error=_failure_message(files.log_path, exit_code) + _image_hint(files, attempt, exit_code),
            exit_code=exit_code,
            ran=True,
            command=argv,
        )
    collected = collect_outputs(files.executor_input, files.component, run_root=files.task.run_root)
    for warning in collected.warnings:
        log.write(f"[launcher] warning: {warning}\n".encode())
    return Outcome(
        state=COMPLETE,
        parameters=collected.parameters,
        artifacts=collected.artifacts,
        present_files=collected.present_files,
        exit_code=0,
        ran=True,
        command=argv,
    )


def _timeout_seconds(files: TaskFiles) -> int:
    if not files.task.kubernetes:
        return 0
    return TaskKubernetes.from_json(files.task.kubernetes).active_deadline_seconds


def _prepare_output_folders(files: TaskFiles) -> None:
    outputs = files.executor_input.outputs
    for artifact_list in outputs.artifacts.values():
        for artifact in artifact_list.artifacts:
            Path(artifact.uri).parent.mkdir(parents=True, exist_ok=True)
    for parameter in outputs.parameters.values():
        Path(parameter.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(outputs.output_file).parent.mkdir(parents=True, exist_ok=True)
    if files.task.workspace:
        Path(files.task.workspace).mkdir(parents=True, exist_ok=True)


def _attempt(files: TaskFiles, plan: TaskPlan, *, home: Path) -> Attempt:
    """What the runner needs: the run's directories are mounted at their own paths, so URIs and paths are
    the same under every runner."""
    task = files.task
    directories = [task.pipeline_root, str(files.task_dir)]
    if task.workspace:
        directories.append(task.workspace)
    return Attempt(
        command=tuple(plan.command),
        args=tuple(plan.args),
        env=plan.variables,
        cwd=files.task_dir,
        python=plan.python,
        image=plan.image,
        mounts=tuple(Mount(source=path, target=path) for path in directories),
        resources=plan.resources,
        label=task.label,
        labels={"run_id": task.run_id, "execution_id": str(task.execution_id), "task": task.label},
        options=task.runner_options,
        task=task,
        home=home.resolve(),
    )


class Deadline:
    """kfp-kubernetes `set_timeout` (the pod's activeDeadlineSeconds): the component is stopped once it has
    run this long, whatever runs it; counted from its start (a cached environment's preparation excluded)."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.expired = False

    def watch(self, started: Started) -> threading.Timer | None:
        if self.seconds <= 0:
            return None
        timer = threading.Timer(self.seconds, self._expire, args=(started,))
        timer.daemon = True
        timer.start()
        return timer

    def _expire(self, started: Started) -> None:
        self.expired = True
        started.stop()

    @property
    def error(self) -> str:
        return (
            f"timed out: ran longer than its {self.seconds} s timeout (kfp.kubernetes.set_timeout) "
            "and was stopped"
        )


def run_attempt(
    runner: Runner,
    attempt: Attempt,
    *,
    stream: OutputStream,
    interrupt: _Interrupt,
    deadline: Deadline | None = None,
) -> int:
    """Prepare and start the attempt, streaming its combined output through `stream` (log and console)."""
    prepared = runner.prepare(attempt, log=stream.log)
    if interrupt.requested:  # stopped while the environment was prepared: start nothing
        return EXIT_INTERRUPTED
    started = runner.start(prepared)
    interrupt.adopt(started)
    timer = deadline.watch(started) if deadline is not None else None
    # Output is read on its own thread: what the component left behind may hold its output open after
    # it ended; the runner stops that when the component ends, and the output gets a moment to drain.
    reader = threading.Thread(target=_stream_output, args=(started.output(), stream), daemon=True)
    reader.start()
    code = started.wait()
    if timer is not None:
        timer.cancel()
    reader.join(timeout=OUTPUT_DRAIN_SECONDS)
    stream.close()
    return code


def _stream_output(lines: Iterator[bytes], stream: OutputStream) -> None:
    with contextlib.suppress(ValueError, OSError):  # the pipe or the log closed under a stuck reader
        for line in lines:
            stream.write_line(line)


def _image_hint(files: TaskFiles, attempt: Attempt, exit_code: int) -> str:
    """On the host runner, a failure that looks like something only the task's image has: say so."""
    if files.task.runner != "host" or not attempt.image or attempt.image.startswith("python:"):
        return ""
    missing_program = exit_code in (126, 127)  # a shell's "not found" / "cannot execute"
    missing_module = attempt.python is not None and "ModuleNotFoundError" in _log_text(files.log_path)
    if not (missing_program or missing_module):
        return ""
    return (
        f" (the host runner does not use the task's image {attempt.image!r}; if what is missing exists"
        " only there, `--runner docker` runs the task in its image)"
    )


def _log_text(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")
    except OSError:
        return ""


def _failure_message(log_path: Path, exit_code: int) -> str:
    """`exit code N: <last line of the log>`, led by what the component needed and this machine lacks."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        text = ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = next((line for line in reversed(lines) if not line.startswith("[launcher]")), "")
    need = diagnose(text)
    return f"exit code {exit_code}" + (f": {need}" if need else "") + (f": {last[:300]}" if last else "")


def _publish(
    ledger: Ledger,
    run_ledger: RunLedger,
    files: TaskFiles,
    outcome: Outcome,
    *,
    execution_id: int,
    attempt: int,
    started: float,
) -> None:
    log_draft = ArtifactDraft(
        type="system.Artifact", uri=str(files.log_path), metadata={}, display_name=EXECUTOR_LOGS
    )
    new_artifacts = dict(outcome.artifacts) if outcome.state == COMPLETE else {}
    new_artifacts[EXECUTOR_LOGS] = [log_draft]
    completed = outcome.state == COMPLETE
    properties = [AttemptOutcome(
        log=str(files.log_path),
        error=outcome.error,
        command=outcome.command,
        outputs=outcome.parameters if completed else None,
        output_files=list(outcome.present_files) if completed else None,
    )]
    record = AttemptEnd(
        number=attempt,
        start=started,
        end=time.time(),
        exit_code=outcome.exit_code,
        state=outcome.state,
        error=outcome.error,
    )
    published = run_ledger.publish_execution(
        execution_id, state=outcome.state, properties=properties, new_artifacts=new_artifacts, attempt=record
    )
    fingerprint = files.task.cache_fingerprint
    if outcome.state == COMPLETE and fingerprint:
        ledger.add_cache_entry(
            files.task.pipeline_name,
            CacheEntry(
                fingerprint=fingerprint,
                run_id=files.task.run_id,
                execution_id=execution_id,
                outputs=outcome.parameters,
                artifacts=published,
                required_files=tuple(outcome.present_files),
            ),
        )
