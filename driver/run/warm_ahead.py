"""Warm interpreters started ahead (issue 22): as soon as the pipeline is loaded, the driver asks the fork
server to start the warm interpreter of each lightweight component's environment, while it records the run
and walks to the first task, so that the first task of an environment is forked as fast as the next ones
and finds numpy already imported. Best effort (`spec.contracts.WarmAhead`): an environment not built yet,
or a task whose start-up variables differ, starts as without it."""

from __future__ import annotations

from typing import Any

from spec.command import executor_program, plan_python_component
from spec.contracts import WarmAhead
from spec.ir import pipeline_spec_pb2
from spec.runner_choice import DEFAULT_RUNNER, RunnerChoice

# Each costs a Python start and the executor's imports (and numpy's): no more than a run's first tasks use.
MAX_AHEAD = 3


def warm_ahead_requests(
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig,
    *,
    runner: RunnerChoice | None,
    runner_options: dict[str, Any],
    kfp_package: str,
    driver_pid: int,
) -> list[WarmAhead]:
    """One request per distinct environment and variables of the pipeline's lightweight components, by
    executor label (a map has no order of its own); none when no task would start warm on the host runner."""
    if runner_options.get("cold_start") or not _some_task_on_host(runner):
        return []
    requests: list[WarmAhead] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...], bool]] = set()
    for _, executor in sorted(deployment.executors.items()):
        if not executor.HasField("container"):
            continue
        container = executor.container
        command, args = list(container.command), list(container.args)
        plan = plan_python_component(command, args, kfp_package=kfp_package)
        program = executor_program(plan.program) if plan is not None else None
        if plan is None or program is None:
            continue
        variables = {variable.name: variable.value for variable in container.env}
        identity = (plan.key, tuple(sorted(variables.items())), program.runtime_flag)
        if identity in seen:
            continue
        seen.add(identity)
        requests.append(
            WarmAhead(
                command=command,
                args=args,
                variables=variables,
                driver_pid=driver_pid,
                kfp_package=kfp_package,
            )
        )
        if len(requests) == MAX_AHEAD:
            break
    return requests


def _some_task_on_host(runner: RunnerChoice | None) -> bool:
    if runner is None:
        return True
    return runner.default == DEFAULT_RUNNER or any(rule.runner == DEFAULT_RUNNER for rule in runner.rules)
