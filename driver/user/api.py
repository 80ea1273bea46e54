"""`run_pipeline`: run a pipeline from Python through `python -m driver` and get its outputs back as objects.

The run goes through the same driver, launcher processes and ledger as the command line: this module
starts `python -m driver` as a child process (nothing is shared with the caller's interpreter, so a
running event loop, threads, or another home in another thread are all fine), then reads the recorded run
back with `python -m driver.user.result`. It imports nothing else of ours, so a module of the caller's named
`spec` or `ledger` cannot clash with this project's packages. See docs/python-api.md.

Exceptions (all `RunPipelineError`):

    RunPipelineError          the driver could not run or the run could not be read back
    ├── PipelineInputError    the pipeline, the arguments or an option was rejected; nothing ran
    └── PipelineFailed        the run ended FAILED or CANCELED and `check=True` was asked for
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver.entry import CALLER_VARIABLE, own_module, python_module

COMPLETE = "COMPLETE"
SUCCESS_STATES = frozenset({"COMPLETE", "CACHED"})
EXECUTOR_LOGS = "executor-logs"
_LOG_TAIL_LINES = 20


class RunPipelineError(Exception):
    """The driver could not run the pipeline, or its run could not be read back."""


class PipelineInputError(RunPipelineError):
    """The pipeline, its arguments or an option was rejected (the driver's exit status 2); nothing ran."""


class PipelineFailed(RunPipelineError):
    """A run ended FAILED or CANCELED and the caller asked for an exception (`check=True`).

    `result` is the `RunResult`; the message holds the failure report: each failed task's error and the
    tail of its log.
    """

    def __init__(self, result: RunResult) -> None:
        self.result = result
        report = result.failure_report or result.error or "no failed task recorded"
        super().__init__(f"run {result.run_id} of pipeline {result.pipeline_name!r} {result.state}\n{report}")


@dataclass(frozen=True)
class RunArtifact:
    """An artifact as recorded: `uri`, the local `path` that holds it (None for a URI that is not local),
    `metadata`, the schema title (`system.Dataset`, ...) and the ledger's artifact id."""

    id: int
    name: str
    uri: str
    schema_title: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path | None:
        return None if "://" in self.uri else Path(self.uri)

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RunArtifact:
        return cls(id=int(record["id"]), name=str(record.get("name", "")), uri=str(record["uri"]),
                   schema_title=str(record["schema_title"]), metadata=dict(record.get("metadata") or {}))


@dataclass(frozen=True)
class TaskResult:
    """One execution of a task: a container, an importer or a nested pipeline (each loop iteration is one).

    `label` tells the copies of a task apart (`for-loop-2[1]/train`); `name` is the task key, `path` the
    task keys from the root (`for-loop-2/train`) and `iterations` the loop iteration indexes, outermost
    first. `outputs` holds output parameters as Python values and output artifacts as `RunArtifact`s.
    """

    execution_id: int
    label: str
    name: str
    path: str
    iterations: tuple[int, ...]
    state: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    # Left out of repr(): a notebook shows a result by its repr, and these are long.
    input_artifacts: Mapping[str, list[RunArtifact]] = field(repr=False)
    output_artifacts: Mapping[str, list[RunArtifact]] = field(repr=False)
    executor_input: Mapping[str, Any] | None = field(repr=False)
    log_path: Path | None = field(repr=False)
    error: str
    cached: bool

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCESS_STATES

    @property
    def log(self) -> str:
        """The task's log ('' when it has none: a task that never started)."""
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> TaskResult:
        produced = _artifact_lists(record.get("output_artifacts") or {})
        produced.pop(EXECUTOR_LOGS, None)
        log = record.get("log")
        return cls(
            execution_id=int(record["execution_id"]), label=str(record["label"]), name=str(record["name"]),
            path=str(record["path"]), iterations=tuple(int(i) for i in record.get("iterations") or ()),
            state=str(record["state"]), inputs=dict(record.get("inputs") or {}), outputs=_outputs(record),
            input_artifacts=_artifact_lists(record.get("input_artifacts") or {}), output_artifacts=produced,
            executor_input=record.get("executor_input"),
            log_path=Path(log) if log else None, error=str(record.get("error") or ""),
            cached=record.get("cached_execution_id") is not None or record["state"] == "CACHED",
        )


@dataclass(frozen=True)
class RunResult:
    """A recorded run: its state, the pipeline's outputs and every task's execution.

    `outputs` holds the pipeline's output parameters as Python values, exactly as a downstream component
    would receive them (a whole-number float arrives as an int, as the protojson the component reads has
    it), and its output artifacts as `RunArtifact`s (a list for a list output such as `dsl.Collected`).
    `tasks` maps each execution's label to its `TaskResult`, in the order the DAG runs them.
    """

    run_id: str
    state: str
    pipeline_name: str
    home: Path
    pipeline_root: Path = field(repr=False)
    outputs: Mapping[str, Any]
    tasks: Mapping[str, TaskResult] = field(repr=False)
    error: str
    failure_report: str = field(repr=False)
    console: str = field(default="", repr=False)

    @property
    def succeeded(self) -> bool:
        return self.state == COMPLETE

    @property
    def output(self) -> Any:
        """The pipeline's only output (a component's `Output`, say); KeyError when it has none or several."""
        if len(self.outputs) != 1:
            raise KeyError(f"run {self.run_id} has {len(self.outputs)} outputs, not one:"
                           f" use .outputs[NAME] with one of {sorted(self.outputs)}")
        return next(iter(self.outputs.values()))

    def task(self, name: str, iteration: int | Sequence[int] | None = None) -> TaskResult:
        """The execution of task `name`, named as every command names a task (its label, `NAME[i]` or
        `NAME[i][j]` with the loop indices outermost first, a task path or a task key), in loop `iteration`
        (an index, or one index per enclosing loop, outermost first); KeyError when none or several match,
        naming the candidates or the closest names."""
        wanted = _iteration_key(iteration)
        labels = [label for label, t in self.tasks.items() if wanted is None or t.iterations == wanted]
        where = f"run {self.run_id}{_iteration_text(wanted)}"
        return self.tasks[own_module("spec.labels").resolve_label(name, labels, where=where, error=KeyError)]

    def iterations(self, name: str) -> list[TaskResult]:
        """Every execution that `name` names (a task key names each copy a loop made), in iteration order."""
        found = [self.tasks[label] for label in own_module("spec.labels").select_labels(name, self.tasks)]
        return sorted(found, key=lambda t: t.iterations)

    def check(self) -> RunResult:
        """This result when the run succeeded; raises `PipelineFailed` otherwise."""
        __tracebackhide__ = True  # pytest shows the caller's line, not this one
        if not self.succeeded:
            raise PipelineFailed(self)
        return self

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, home: Path, console: str = "") -> RunResult:
        tasks = [TaskResult.from_json(record) for record in document.get("tasks") or []]
        return cls(
            run_id=str(document["run_id"]), state=str(document["state"]),
            pipeline_name=str(document.get("pipeline_name", "")), home=home,
            pipeline_root=Path(str(document.get("pipeline_root") or home / "pipeline_root")),
            outputs=_outputs(document), tasks={t.label: t for t in tasks},
            error=str(document.get("error") or ""),
            failure_report=str(document.get("failure_report") or ""), console=console,
        )


def run_pipeline(
    pipeline: Any,
    arguments: Mapping[str, Any] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    pipeline_root: str | os.PathLike[str] | None = None,
    cache: bool = True,
    parallelism: int | None = None,
    runner: str | None = None,
    mounts: Mapping[str, str | os.PathLike[str]] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    cold_start: bool = False,
    cli_args: Sequence[str] = (),
    check: bool = False,
    echo: bool | Callable[[str], None] = True,
) -> RunResult:
    """Run `pipeline` with `arguments` through `python -m driver`; return the recorded `RunResult`.

    `pipeline` is a `@dsl.pipeline` function, a `@dsl.component` (run as a one-task pipeline), the path of
    a compiled `.json`/`.yaml` file, or a `PipelineSpec` message. The keyword options are the driver's:
    `home` (default `$LPL_HOME` or `./.lpl`), `pipeline_root`, `cache=False` (`--no-cache`),
    `parallelism`, `runner`, `mounts` ({"gs://bucket": "/local/dir"}), `workspace`, `run_id`,
    `cold_start=True` (`--cold-start`: every component a fresh process, no warm interpreter); `cli_args`
    are passed on as they are (e.g. `["--secret", "db=./db.env"]`). `echo` prints the driver's console as
    it comes (True: to `sys.stdout`; or a function called with each line; False: silent).

    A failed run returns a result whose `state` is FAILED unless `check=True`, which raises
    `PipelineFailed`. Raises `PipelineInputError` when the driver rejects the input (nothing ran) and
    `RunPipelineError` when the driver could not run at all.
    """
    arguments_text = _checked_call(arguments, parallelism=parallelism, cli_args=cli_args)
    home_dir = Path(home if home is not None else os.environ.get("LPL_HOME", ".lpl")).resolve()
    chosen_run_id = run_id or str(uuid.uuid4())
    with tempfile.TemporaryDirectory(prefix="lpl-run-") as scratch:
        source = materialize_pipeline(pipeline, directory=home_dir / "pipelines")
        params = Path(scratch) / "arguments.json"
        params.write_text(arguments_text)
        command = [
            *python_module("driver"), str(source), "--home", str(home_dir), "--run-id", chosen_run_id,
            "--params-file", str(params),
            *_options(pipeline_root=pipeline_root, cache=cache, parallelism=parallelism, runner=runner,
                      mounts=mounts, workspace=workspace), *(["--cold-start"] if cold_start else []),
            *cli_args,
        ]
        code, console = _run_driver(command, echo=echo)
    if code == 2:
        raise PipelineInputError(_error_lines(console) or f"the driver rejected {source} (exit status 2)")
    if code not in (0, 1, 130):
        raise RunPipelineError(f"the driver exited with status {code}:\n{_tail(console)}")
    result = read_run(chosen_run_id, home=home_dir, console=console)
    return result.check() if check else result


def _checked_call(
    arguments: Mapping[str, Any] | None, *, parallelism: int | None, cli_args: Sequence[str]
) -> str:
    """The arguments as the driver's parameters file; a `PipelineInputError` for what it could not take."""
    if arguments is not None and not isinstance(arguments, Mapping):
        raise PipelineInputError(f"arguments must map parameter names to values, not {arguments!r}")
    if parallelism is not None and (type(parallelism) is not int or parallelism < 1):
        raise PipelineInputError(f"parallelism must be a whole number of at least 1, not {parallelism!r}")
    if isinstance(cli_args, str) or not all(isinstance(arg, str) for arg in cli_args):
        raise PipelineInputError(f"cli_args must be a list of strings, not {cli_args!r}")
    given = dict(arguments or {})
    for name, value in given.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PipelineInputError(f"argument {name!r}: {value!r} has no JSON form ({exc})") from None
    return json.dumps(given)


def read_run(run_id: str, *, home: str | os.PathLike[str] | None = None, console: str = "") -> RunResult:
    """The `RunResult` of a run already recorded in `home` (by `run_pipeline` or the command line);
    `run_id` may be a unique prefix or `last`. Raises `RunPipelineError` when it cannot be read."""
    home_dir = Path(home if home is not None else os.environ.get("LPL_HOME", ".lpl")).resolve()
    completed = subprocess.run(
        [*python_module("driver.user.result"), "--home", str(home_dir), run_id],
        capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RunPipelineError(
            f"run {run_id} in {home_dir} could not be read: {completed.stderr.strip()}\n{_tail(console)}"
        )
    return RunResult.from_json(json.loads(completed.stdout), home=home_dir, console=console)


def materialize_pipeline(pipeline: Any, *, directory: Path) -> Path:
    """The compiled file to run: `pipeline` itself when it is a path, else written (compiled first for a
    pipeline function or a component) to `directory`, named by its content so a run can be explained or
    resumed from it later."""
    if isinstance(pipeline, str | os.PathLike):
        path = Path(pipeline)
        if not path.is_file():
            raise PipelineInputError(f"{path}: no such pipeline file")
        return path.resolve()
    dsl_file = own_module("spec.dsl_file")
    try:
        return Path(dsl_file.write_compiled(pipeline, directory=directory))
    except dsl_file.DslFileError as exc:
        raise PipelineInputError(str(exc)) from exc


def _options(
    *,
    pipeline_root: str | os.PathLike[str] | None,
    cache: bool,
    parallelism: int | None,
    runner: str | None,
    mounts: Mapping[str, str | os.PathLike[str]] | None,
    workspace: str | os.PathLike[str] | None,
) -> list[str]:
    options: list[str] = [] if cache else ["--no-cache"]
    if pipeline_root is not None:
        options += ["--pipeline-root", str(Path(pipeline_root).resolve())]
    if parallelism is not None:
        options += ["--parallelism", str(parallelism)]
    if runner is not None:
        options += ["--runner", runner]
    for prefix, directory in (mounts or {}).items():
        options += ["--mount", f"{prefix}={Path(directory).resolve()}"]
    if workspace is not None:
        options += ["--workspace", str(Path(workspace).resolve())]
    return options


def _run_driver(command: list[str], *, echo: bool | Callable[[str], None]) -> tuple[int, str]:
    """Run the driver, passing each console line on as it comes; returns its exit status and console."""
    show: Callable[[str], None] | None = _print_line if echo is True else echo or None
    lines: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace",
                               env={**os.environ, "PYTHONUNBUFFERED": "1", CALLER_VARIABLE: str(os.getpid())})
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if show is not None:
                show(line.rstrip("\n"))
        return process.wait(), "".join(lines)
    except BaseException:
        _stop(process)
        raise


def _print_line(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def _stop(process: subprocess.Popen[str]) -> None:
    """Interrupted (Ctrl-C in a notebook reaches only the caller): stop the driver as Ctrl-C would, so it
    stops its tasks and records the run as such, and wait for it."""
    try:
        process.wait(timeout=1)  # a terminal's Ctrl-C reached the driver too
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait()


def _artifact_lists(named: Mapping[str, Any]) -> dict[str, list[RunArtifact]]:
    return {name: [RunArtifact.from_json(a) for a in artifacts] for name, artifacts in named.items()}


def _outputs(record: Mapping[str, Any]) -> dict[str, Any]:
    """Output parameters and output artifacts (one `RunArtifact`, or a list for a list output) by name."""
    outputs = dict(record.get("outputs") or {})
    for name, shaped in (record.get("artifact_outputs") or {}).items():
        if isinstance(shaped, list):
            outputs[name] = [RunArtifact.from_json(artifact) for artifact in shaped]
        else:
            outputs[name] = RunArtifact.from_json(shaped)
    return outputs


def _iteration_key(iteration: int | Sequence[int] | None) -> tuple[int, ...] | None:
    if iteration is None:
        return None
    return (iteration,) if isinstance(iteration, int) else tuple(iteration)


def _iteration_text(iterations: tuple[int, ...] | None) -> str:
    return "" if iterations is None else f" in iteration {list(iterations)}"


def _error_lines(console: str) -> str:
    # Ours start with `error:`; argparse's with `python -m driver: error:` after its usage lines.
    lines = console.splitlines()
    return "\n".join(line for line in lines if line.startswith("error:") or ": error: " in line)


def _tail(console: str) -> str:
    return "\n".join(console.splitlines()[-_LOG_TAIL_LINES:])
