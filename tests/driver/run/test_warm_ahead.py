"""driver/run/warm_ahead.py: which warm interpreters the driver asks the fork server to start ahead."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from driver.run.warm_ahead import MAX_AHEAD, warm_ahead_requests
from spec.ir import pipeline_spec_pb2
from spec.runner_choice import RunnerChoice, RunnerRule
from tests.spec.test_command import ARGS, SCRIPT

PREAMBLE = (
    "\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location "
    "'kfp==2.17.3' '--no-deps' {packages} && \"$0\" \"$@\"\n"
)


def _executor(packages: str, *, env: dict[str, str] | None = None, script: str = SCRIPT) -> dict[str, Any]:
    return {
        "container": {
            "image": "python:3.11",
            "command": [
                "sh", "-c", PREAMBLE.format(packages=packages), "sh", "-ec", script, "def f(): pass\n"
            ],
            "args": list(ARGS),
            "env": [{"name": name, "value": value} for name, value in (env or {}).items()],
        }
    }


def _deployment(executors: dict[str, Any]) -> pipeline_spec_pb2.PipelineDeploymentConfig:
    return json_format.ParseDict({"executors": executors}, pipeline_spec_pb2.PipelineDeploymentConfig())


def _requests(executors: dict[str, Any], **options: Any) -> list[Any]:
    settings: dict[str, Any] = {"runner": None, "runner_options": {}, "kfp_package": "", "driver_pid": 42}
    return warm_ahead_requests(_deployment(executors), **(settings | options))


def test_one_request_per_environment_and_variables_by_executor_label() -> None:
    requests = _requests(
        {
            "exec-a": _executor("'numpy'"),
            "exec-b": _executor("'numpy'"),  # the same environment and variables: one interpreter serves both
            "exec-c": _executor("'numpy'", env={"OPENBLAS_NUM_THREADS": "1"}),
            "exec-echo": {"container": {"image": "alpine", "command": ["echo", "hi"]}},  # not lightweight
        }
    )

    assert [(r.variables, r.driver_pid) for r in requests] == [({}, 42), ({"OPENBLAS_NUM_THREADS": "1"}, 42)]
    assert "'numpy'" in requests[0].command[2] and list(requests[0].args) == list(ARGS)


def test_no_more_than_the_first_few_environments() -> None:
    executors = {f"exec-{n}": _executor(f"'package{n}'") for n in range(MAX_AHEAD + 2)}

    requests = _requests(executors)

    assert [r.command[2] for r in requests] == [executors[f"exec-{n}"]["container"]["command"][2]
                                                for n in range(MAX_AHEAD)]


def test_none_when_no_task_would_start_warm_on_the_host() -> None:
    executors = {"exec-a": _executor("'numpy'")}
    other_program = {"exec-a": _executor("'numpy'", script="python3 -m my_module\n")}

    assert _requests(executors, runner_options={"cold_start": True}) == []
    assert _requests(executors, runner=RunnerChoice(default="docker")) == []
    assert _requests(other_program) == []
    some_on_host = RunnerChoice(default="docker", rules=(RunnerRule("t*", "host"),))
    assert len(_requests(executors, runner=some_on_host)) == 1


def test_the_kfp_package_given_goes_with_the_request() -> None:
    [request] = _requests({"exec-a": _executor("'numpy'")}, kfp_package="/src/kfp")

    assert request.kfp_package == "/src/kfp"
    assert request.to_line().endswith(b"\n") and b'"warm_ahead": true' in request.to_line()
