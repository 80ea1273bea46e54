"""A container component runs its command on the host with Concat, IfPresent and the job/task placeholders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import COMPLETE
from tests.e2e.finished_run import FinishedRun, run_driver

RUN_ID = "placeholders-run"


@pytest.fixture(scope="module")
def placeholders_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    run = run_driver(compile_pipeline("container_placeholders"), "-p", "name=planet earth",
                     "--run-name", RUN_ID, home=tmp_path_factory.mktemp("home"), run_id=RUN_ID)
    assert run.returncode == 0, run.output
    return run


def test_every_task_completes(placeholders_run: FinishedRun) -> None:
    assert {e.state for e in placeholders_run.executions()} == {COMPLETE}


def test_if_present_takes_then_with_a_nested_concat_when_the_input_is_given(
    placeholders_run: FinishedRun,
) -> None:
    line = placeholders_run.execution("describe").properties["outputs"]["line"]

    assert line == f"task=describe job={RUN_ID} name=planet earth! suffix=s1 given=yes"
    assert f"[describe] {line}" in placeholders_run.completed.stdout


def test_if_present_takes_else_when_the_optional_input_is_not_given(placeholders_run: FinishedRun) -> None:
    execution = placeholders_run.execution("describe-2")

    assert "suffix" not in execution.properties["inputs"]
    line = execution.properties["outputs"]["line"]
    assert line == f"task=describe-2 job={RUN_ID} name=planet earth! suffix=none"


def test_the_output_path_written_by_the_command_reaches_a_python_component(
    placeholders_run: FinishedRun,
) -> None:
    for check, producer in (("check-line", "describe"), ("check-line-2", "describe-2")):
        inputs = placeholders_run.execution(check).properties["inputs"]
        assert inputs["line"] == placeholders_run.execution(producer).properties["outputs"]["line"]
        # A constant `{{$.pipeline_job_name}}` input is resolved by the driver.
        assert inputs["job"] == RUN_ID
