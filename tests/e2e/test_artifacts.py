"""Artifacts flow between components: datasets, a model with metadata, metrics, paths and a collected list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import COMPLETE
from tests.e2e.finished_run import FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of, tasks_by_path


@pytest.fixture(scope="module")
def artifacts_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    run = run_driver(compile_pipeline("artifacts"), home=tmp_path_factory.mktemp("home"))
    assert run.returncode == 0, run.output
    return run


def test_every_task_completes(artifacts_run: FinishedRun) -> None:
    assert {e.state for e in artifacts_run.executions()} == {COMPLETE}


def test_a_dataset_is_written_at_its_uri_with_its_metadata(artifacts_run: FinishedRun) -> None:
    make = artifacts_run.execution("make-dataset")

    [data] = artifacts_of(artifacts_run, make, "OUTPUT")["data"]

    assert data["type"] == "system.Dataset"
    assert data["state"] == "LIVE"
    assert data["properties"]["rows"] == 1
    assert Path(data["uri"]).read_text() == "abc"
    # The backend's layout: <pipeline root>/<pipeline name>/<run id>/<task key>/<uuid>/<output key>
    parts = Path(data["uri"]).relative_to(artifacts_run.home / "pipeline_root").parts
    assert (parts[:3], parts[4:]) == (("artifacts", "run", "make-dataset"), ("data",))


def test_one_dataset_read_by_several_consumers_is_one_artifact_with_an_input_event_each(
    artifacts_run: FinishedRun,
) -> None:
    [data] = artifacts_of(artifacts_run, artifacts_run.execution("make-dataset"), "OUTPUT")["data"]

    for reader in ("read-dataset", "read-dataset-2", "train"):
        execution = artifacts_run.execution(reader)
        assert artifacts_of(artifacts_run, execution, "INPUT") == {"data": [data]}
    assert artifacts_run.execution("read-dataset").properties["outputs"] == {"Output": "abc"}
    assert artifacts_run.execution("read-dataset-2").properties["outputs"] == {"Output": "abc"}


def test_a_model_keeps_its_metadata_and_metrics_record_logged_values(artifacts_run: FinishedRun) -> None:
    outputs = artifacts_of(artifacts_run, artifacts_run.execution("train"), "OUTPUT")

    [model] = outputs["model"]
    [metrics] = outputs["metrics"]
    assert model["type"] == "system.Model"
    metadata = {k: model["properties"][k] for k in ("framework", "epochs")}
    assert metadata == {"framework": "plain-text", "epochs": 3}
    assert Path(model["uri"]).read_text() == "model of abc"
    assert metrics["type"] == "system.Metrics"
    assert {k: metrics["properties"][k] for k in ("accuracy", "loss")} == {"accuracy": 0.75, "loss": 2}
    # check-model raises unless the model's metadata reached it through the driver.
    assert artifacts_run.execution("check-model").properties["outputs"] == {"Output": "model of abc"}


def test_output_path_and_input_path_pass_a_file_between_components(artifacts_run: FinishedRun) -> None:
    [written] = artifacts_of(artifacts_run, artifacts_run.execution("write-path"), "OUTPUT")["out_path"]
    reader = artifacts_run.execution("read-path")

    assert written["type"] == "system.Dataset"
    assert artifacts_of(artifacts_run, reader, "INPUT") == {"in_path": [written]}
    assert reader.properties["outputs"] == {"Output": "via-path"}


def test_a_collected_list_of_artifacts_arrives_in_iteration_order(artifacts_run: FinishedRun) -> None:
    tasks = tasks_by_path(artifacts_run)
    produced = [artifacts_of(artifacts_run, tasks[f"for-loop-2/make-dataset-2[{i}]"], "OUTPUT")["data"][0]
                for i in (0, 1)]

    join = artifacts_run.execution("join-datasets")

    assert artifacts_of(artifacts_run, join, "INPUT") == {"datasets": produced}
    assert join.properties["outputs"] == {"Output": "x+y"}
