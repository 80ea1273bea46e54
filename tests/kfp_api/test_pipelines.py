"""Pipelines through `kfp.Client`: upload a compiled file, upload a version of it, run a version by id, list,
get and delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.kfp_api.test_runs import WAIT_SECONDS, compile_yaml


def test_an_uploaded_pipeline_runs_by_version_id(client: Any, tmp_path: Path) -> None:
    package = compile_yaml("hello", tmp_path)
    pipeline = client.upload_pipeline(str(package), pipeline_name="hello-uploaded", description="from a test")
    assert client.get_pipeline_id("hello-uploaded") == pipeline.pipeline_id
    versions = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    assert len(versions) == 1
    second = client.upload_pipeline_version(str(package), "v2", pipeline_id=pipeline.pipeline_id)
    assert client.get_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id).display_name == "v2"
    experiment = client.create_experiment("uploads")
    run = client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name="by version",
        pipeline_id=pipeline.pipeline_id,
        version_id=second.pipeline_version_id,
        params={"name": "version"},
    )
    finished = client.wait_for_run_completion(run.run_id, timeout=WAIT_SECONDS)
    assert finished.state == "SUCCEEDED"
    assert finished.pipeline_version_reference.pipeline_version_id == second.pipeline_version_id
    assert finished.runtime_config.parameters == {"name": "version"}


def test_a_pipeline_with_versions_is_deleted_only_with_them(client: Any, tmp_path: Path) -> None:
    from kfp_server_api import ApiException

    pipeline = client.upload_pipeline(str(compile_yaml("hello", tmp_path)), pipeline_name="hello-to-delete")
    with pytest.raises(ApiException) as refused:
        client.delete_pipeline(pipeline.pipeline_id)
    assert refused.value.status == 400
    for version in client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions:
        client.delete_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    client.delete_pipeline(pipeline.pipeline_id)
    with pytest.raises(ApiException) as gone:
        client.get_pipeline(pipeline.pipeline_id)
    assert gone.value.status == 404


def test_a_second_pipeline_of_the_same_name_is_refused(client: Any, tmp_path: Path) -> None:
    from kfp_server_api import ApiException

    package = str(compile_yaml("hello", tmp_path))
    client.upload_pipeline(package, pipeline_name="hello-twice")
    with pytest.raises(ApiException) as refused:
        client.upload_pipeline(package, pipeline_name="hello-twice")
    assert refused.value.status == 409
