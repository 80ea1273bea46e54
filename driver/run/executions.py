"""A task's execution in the run's ledger: recording a new one, reading a recorded one back as a result."""

from __future__ import annotations

from driver.run.context import RunContext
from driver.walk.provision import parameters_from_python
from driver.walk.state import DagScope, TaskResult
from ledger.model import FAILED, Artifact, Execution, RunView
from ledger.properties import PropertyGroup, Superseded


def create_task_execution(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    *,
    type: str,
    state: str,
    properties: list[PropertyGroup],
    input_artifacts: dict[str, list[Artifact]] | None = None,
) -> int:
    """Record a new execution of the task; on resume it supersedes the one recorded before, so the run
    keeps one current execution per task (the earlier one stays in the ledger, marked `superseded_by`)."""
    execution_id = ctx.run_ledger.create_execution(
        type=type, state=state, properties=properties, input_artifacts=input_artifacts
    )
    earlier = ctx.previous.get((scope.execution_id, key, None))
    if earlier is not None:
        ctx.run_ledger.update_execution(earlier.id, properties=[Superseded(by=execution_id)])
    return execution_id


def recorded_result(view: RunView, execution: Execution, *, label: str) -> TaskResult:
    """The task's result as its execution recorded it: the outputs it published (none for a task that did
    not succeed, so that a downstream task ignoring the failure gets its default), and for a failure the
    driver's wording, which a PipelineTaskFinalStatus downstream carries."""
    return TaskResult(
        task_key=execution.task_name,
        state=execution.state,
        execution_id=execution.id,
        parameters=parameters_from_python(execution.outputs),
        artifacts=view.artifacts_of(execution.id, "OUTPUT"),
        error=f"task {label!r}: {execution.error}" if execution.state == FAILED else "",
    )
