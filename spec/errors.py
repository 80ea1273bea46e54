"""The one exception hierarchy of local-pipelines.

    LplError                      anything this project raises on purpose
    ├── UsageError                bad input from the user: exit 2, nothing run
    │   ├── SpecError             one problem in a pipeline file, with the JSON path of its node
    │   │   └── SpecErrors        several problems found at once (validation collects them all)
    │   ├── ParameterError        a root parameter unknown, missing or of the wrong kind
    │   ├── OptionError           a command-line option that cannot be honoured
    │   └── TaskRefError          a task reference that names no task, or several
    ├── LedgerError               the metadata store cannot be used
    │   ├── LedgerCorrupt         a damaged record before the end of a journal (file and line)
    │   └── RunBusy               the run is held by another driver (its lock is taken)
    ├── ResolutionError           a task's inputs cannot be resolved; fails that task, not the driver
    ├── ValueConversionError      a value does not fit a declared parameter type
    ├── EnvironmentBuildError     a component's environment could not be built; fails that task
    ├── RunnerError               a runner cannot start an attempt (no daemon, missing image); fails that task
    ├── PathEscapeError           a path that would leave the directory it must stay in
    └── ContractError             a record between processes (task file, fork request) its reader cannot use

A user component's failure is never one of these: it is a `FAILED` task state in the ledger.
"""

from __future__ import annotations

from pathlib import Path


class LplError(Exception):
    """Base of every error this project raises on purpose."""


class UsageError(LplError):
    """The user's input (file, parameters, options) is invalid; the driver exits 2."""


class SpecError(UsageError):
    """One problem in a pipeline file, located by the JSON path of the offending node."""

    def __init__(self, message: str, *, json_path: str = "", file: Path | str | None = None) -> None:
        self.message = message
        self.json_path = json_path
        self.file = str(file) if file is not None else None
        super().__init__(self.render())

    def render(self) -> str:
        where = ": ".join(part for part in (self.file, self.json_path) if part)
        return f"{where}: {self.message}" if where else self.message

    def with_file(self, file: Path | str) -> SpecError:
        return SpecError(self.message, json_path=self.json_path, file=file)


class SpecErrors(SpecError):
    """Several problems in one pipeline file; `problems` holds each one."""

    def __init__(self, problems: list[SpecError]) -> None:
        if not problems:
            raise ValueError("SpecErrors needs at least one problem")
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first.message + more, json_path=first.json_path, file=first.file)

    def render_all(self) -> str:
        return "\n".join(problem.render() for problem in self.problems)


class ParameterError(UsageError):
    """A root input parameter that the pipeline refuses (unknown, missing, wrong kind)."""

    def __init__(self, message: str, *, name: str) -> None:
        self.name = name
        super().__init__(message)


class OptionError(UsageError):
    """A command-line option that cannot be honoured."""


class TaskRefError(UsageError):
    """A task named (`--task`, `ledger exec RUN TASK`) that is not one task of the run or pipeline."""


class LedgerError(LplError):
    """The metadata store cannot be opened, read or written."""


class LedgerCorrupt(LedgerError):
    """A journal record that cannot be read, and is not a torn last record."""

    def __init__(self, message: str, *, file: Path | str, line: int) -> None:
        self.file = str(file)
        self.line = line
        super().__init__(f"{file}:{line}: ledger damaged: {message}")


class RunBusy(LedgerError):
    """Another live process holds the run (a driver running or resuming it)."""


class ResolutionError(LplError):
    """A task's inputs, condition or items cannot be resolved; the task fails with this message."""

    def __init__(
        self, message: str, *, run_id: str = "", task: str = "", iteration: int | None = None
    ) -> None:
        self.message = message
        self.run_id = run_id
        self.task = task
        self.iteration = iteration
        where = f"task {task!r}" if task else ""
        if iteration is not None:
            where += f" iteration {iteration}"
        super().__init__(f"{where}: {message}" if where else message)


class ValueConversionError(LplError):
    """A value that does not fit the declared parameter type."""


class EnvironmentBuildError(LplError):
    """A component's virtual environment could not be built; the task fails with this message."""


class RunnerError(LplError):
    """A runner cannot start an attempt (its engine is unreachable, its image missing); fails that task."""


class PathEscapeError(LplError):
    """A path that would leave the directory it has to stay inside."""

    def __init__(self, path: str, *, root: Path | str, what: str = "path") -> None:
        self.path = path
        self.root = str(root)
        super().__init__(f"{what} {path!r} escapes {self.root}")


class ContractError(LplError):
    """A record crossing a process boundary (spec/contracts.py) that does not hold what its reader needs."""
