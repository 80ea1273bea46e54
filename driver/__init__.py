"""driver package: `python -m driver` runs a compiled pipeline; `run_pipeline` does it from Python.

`from driver import run_pipeline` (and the names below) load `driver.user.api` on first use, so
`import driver` stays as cheap as the driver's own start-up needs it to be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driver.user.api import (
        PipelineFailed,
        PipelineInputError,
        RunArtifact,
        RunPipelineError,
        RunResult,
        TaskResult,
        read_run,
        run_pipeline,
    )

__all__ = [
    "PipelineFailed",
    "PipelineInputError",
    "RunArtifact",
    "RunPipelineError",
    "RunResult",
    "TaskResult",
    "read_run",
    "run_pipeline",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from driver.user import api

        return getattr(api, name)
    raise AttributeError(f"module 'driver' has no attribute {name!r}")
