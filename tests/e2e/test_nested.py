"""A pipeline used as a component: its inputs, its default, and its outputs used downstream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import COMPLETE, DAG_EXECUTION
from tests.e2e.finished_run import FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of, tasks_by_path


@pytest.fixture(scope="module")
def nested_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    run = run_driver(compile_pipeline("nested"), home=tmp_path_factory.mktemp("home"))
    assert run.returncode == 0, run.output
    return run


def test_every_task_and_dag_completes(nested_run: FinishedRun) -> None:
    assert {e.state for e in nested_run.executions()} == {COMPLETE}
    assert sorted(tasks_by_path(nested_run)) == [
        "check-result", "check-result-2", "inner-2/add", "inner-2/label-dataset", "inner/add",
        "inner/label-dataset",
    ]


def test_the_nested_dag_records_its_inputs_with_the_default_filled_in(nested_run: FinishedRun) -> None:
    defaulted = nested_run.execution("inner", type=DAG_EXECUTION)
    given = nested_run.execution("inner-2", type=DAG_EXECUTION)

    assert defaulted.properties["inputs"] == {"x": 5, "offset": 10, "label": "inner-default"}
    assert given.properties["inputs"] == {"x": 5, "offset": 1, "label": "given"}
    assert [c.task_name for c in nested_run.children(defaulted)] == ["add", "label-dataset"]


def test_tasks_inside_the_nested_pipeline_receive_its_inputs(nested_run: FinishedRun) -> None:
    tasks = tasks_by_path(nested_run)

    assert tasks["inner/add"].properties["inputs"] == {"a": 5, "b": 10}
    assert tasks["inner-2/add"].properties["inputs"] == {"a": 5, "b": 1}
    assert tasks["inner/label-dataset"].properties["inputs"] == {"label": "inner-default", "total": 15}


def test_the_nested_pipeline_outputs_reach_the_tasks_downstream(nested_run: FinishedRun) -> None:
    tasks = tasks_by_path(nested_run)

    [data] = artifacts_of(nested_run, tasks["inner/label-dataset"], "OUTPUT")["data"]
    check = tasks["check-result"]
    assert check.properties["inputs"]["total"] == 15
    assert artifacts_of(nested_run, check, "INPUT") == {"data": [data]}
    assert tasks["check-result-2"].properties["inputs"]["total"] == 6
