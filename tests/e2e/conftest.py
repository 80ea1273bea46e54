"""Fixtures of the end-to-end tests: `run_pipeline` compiles a test pipeline, runs it and reads the ledger.

`run_pipeline(name_or_path, *driver_args, home=..., run_id="run", env=None)` runs
`python -m driver <pipeline> --run-id <run_id> <driver_args...>` through `run_cli` and returns a
`tests.e2e.finished_run.FinishedRun`. A `str` is the name of a `tests/pipelines/<name>.py` (compiled once per
session); a `Path` is a compiled file, for tests that edit the JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest

from tests.cli import RunCli
from tests.e2e.finished_run import FinishedRun


class RunPipeline(Protocol):
    def __call__(self, pipeline: str | Path, *args: str, home: Path, run_id: str = "run",
                 env: dict[str, str] | None = None) -> FinishedRun: ...


@pytest.fixture
def run_pipeline(compile_pipeline: Callable[[str], Path], run_cli: RunCli) -> RunPipeline:
    def run(pipeline: str | Path, *args: str, home: Path, run_id: str = "run",
            env: dict[str, str] | None = None) -> FinishedRun:
        path = pipeline if isinstance(pipeline, Path) else compile_pipeline(pipeline)
        completed = run_cli("driver", str(path), "--run-id", run_id, *args, home=home, env=env)
        return FinishedRun.read(run_id=run_id, home=home, completed=completed)

    return run
