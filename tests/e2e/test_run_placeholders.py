"""Run and task placeholders given as input values are replaced by the driver with facts about the run, as
the backend renders them: the job name is the run's display name (`--run-name`, or the SDK client's default
`<pipeline name> <date time>`), the resource name is the workflow's (`<pipeline name>-<5 characters>`)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def ids_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(
        compile_pipeline("run_placeholders"),
        "--run-name",
        "nightly check",
        home=tmp_path_factory.mktemp("ids-home"),
        run_id="ids-run",
    )
    assert run.returncode == 0, run.output
    return run


def test_job_and_task_placeholders_name_the_run_and_the_task(ids_run: FinishedRun) -> None:
    received = ids_run.probe("ids")
    assert received["job_id"] == "ids-run"
    assert received["job_name"] == "nightly check"  # the display name given by --run-name
    assert re.fullmatch(r"run-placeholders-[bcdfghjklmnpqrstvwxz2456789]{5}", received["job_resource_name"])
    assert ids_run.view.header.resource_name == received["job_resource_name"]
    assert ids_run.view.header.run_name == "nightly check"
    assert received["task_name"] == "show-ids"  # the task key, not its display name
    created = datetime.datetime.strptime(received["create_time"], "%Y-%m-%dT%H:%M:%S%z")  # RFC 3339, UTC
    assert created.utcoffset() == datetime.timedelta(0)
    assert received["schedule_time"] == received["create_time"]  # a one-off run: schedule time = create time


def test_the_task_id_placeholder_is_the_tasks_own_uuid(ids_run: FinishedRun) -> None:
    task_id = ids_run.probe("ids")["task_id"]
    execution = ids_run.execution("show-ids")
    # The backend gives the parent DAG's execution id (a quirk: siblings would share it); we give the task
    # its own uuid, the same one the launcher substitutes in arguments, and record it on the execution.
    assert task_id == execution.properties["task_uuid"]
    assert len(task_id) == 32 and int(task_id, 16) >= 0


def test_an_unnamed_run_gets_the_sdk_clients_default_display_name(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("run_placeholders"), home=lpl_home, run_id="unnamed")
    assert run.returncode == 0, run.output
    received = run.probe("ids")
    name = re.fullmatch(r"run-placeholders (\d{4}-\d\d-\d\d \d\d-\d\d-\d\d)", received["job_name"])
    assert name is not None, received["job_name"]
    assert received["job_resource_name"] != run.view.header.run_id
