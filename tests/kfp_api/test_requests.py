"""Requests validated as the API server does (the error shape, 400 and 404), what is not served (recurring
runs), and the guards against a browser page: a write must be JSON, an upload must not come from elsewhere."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from tests.kfp_api.test_runs import compile_yaml
from tests.ui.server import UiServer


def send(server: UiServer, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(server.address, server.port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Host": f"{server.address}:{server.port}", **headers}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_unknown_ids_are_404_in_the_error_shape(kfp_server: UiServer) -> None:
    for path in (
        "/apis/v2beta1/runs/no-such-run",
        "/apis/v2beta1/experiments/no-such-experiment",
        "/apis/v2beta1/pipelines/no-such-pipeline",
    ):
        status, _, body = kfp_server.get(path)
        error = json.loads(body)
        assert status == 404, path
        assert error["code"] == 5 and error["message"] == error["error"] and error["details"] == []


def test_the_client_raises_on_unknown_ids_and_missing_names(client: Any) -> None:
    from kfp_server_api import ApiException, V2beta1Run

    with pytest.raises(ApiException) as unknown:
        client.get_run("no-such-run")
    assert unknown.value.status == 404
    with pytest.raises(ApiException) as nameless:
        client._run_api.run_service_create_run(run=V2beta1Run(pipeline_spec={"root": {}, "pipelineInfo": {}}))
    assert nameless.value.status == 400 and "display name" in json.loads(nameless.value.body)["message"]
    with pytest.raises(ValueError, match="No experiment is found"):
        client.get_experiment(experiment_name="never-created")


def test_experiments_list_filter_and_page_as_the_client_asks(client: Any) -> None:
    for name in ("paged-a", "paged-b", "paged-c"):
        client.create_experiment(name)
    assert client.get_experiment(experiment_name="paged-b").display_name == "paged-b"
    paged = json.dumps({"predicates": [{"operation": 9, "key": "display_name", "stringValue": "paged-"}]})
    first = client.list_experiments(page_size=2, sort_by="display_name desc", filter=paged)
    assert [e.display_name for e in first.experiments] == ["paged-c", "paged-b"] and first.total_size == 3
    rest = client.list_experiments(
        page_size=2, sort_by="display_name desc", filter=paged, page_token=first.next_page_token
    )
    assert [e.display_name for e in rest.experiments] == ["paged-a"] and not rest.next_page_token
    client.archive_experiment(client.get_experiment(experiment_name="paged-c").experiment_id)
    assert client.get_experiment(experiment_name="paged-c").storage_state == "ARCHIVED"


def test_recurring_runs_are_listed_empty_and_refused(client: Any, tmp_path: Path) -> None:
    from kfp_server_api import ApiException

    assert not client.list_recurring_runs().recurring_runs
    experiment = client.create_experiment("recurring")
    with pytest.raises(ApiException) as refused:
        client.create_recurring_run(
            experiment.experiment_id,
            "nightly",
            cron_expression="0 0 0 * * *",
            pipeline_package_path=str(compile_yaml("hello", tmp_path)),
        )
    assert refused.value.status == 501 and json.loads(refused.value.body)["code"] == 12


def test_a_write_that_is_not_json_is_refused(kfp_server: UiServer) -> None:
    form = b"display_name=from-a-form"
    status, error = send(
        kfp_server,
        "POST",
        "/apis/v2beta1/experiments",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415 and "application/json" in error["message"]
    status, _ = send(kfp_server, "DELETE", "/apis/v2beta1/experiments/x", b"", {"Content-Type": "text/plain"})
    assert status == 415


def test_an_upload_from_another_origin_is_refused(kfp_server: UiServer, tmp_path: Path) -> None:
    package = compile_yaml("hello", tmp_path).read_bytes()
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="uploadfile"; filename="p.yaml"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + package
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, error = send(
        kfp_server,
        "POST",
        "/apis/v2beta1/pipelines/upload?name=cross",
        body,
        {**headers, "Origin": "http://evil.example"},
    )
    assert status == 403 and error["code"] == 7
    status, pipeline = send(
        kfp_server,
        "POST",
        "/apis/v2beta1/pipelines/upload?name=same-origin",
        body,
        {**headers, "Origin": f"http://{kfp_server.address}:{kfp_server.port}"},
    )
    assert status == 200 and pipeline["display_name"] == "same-origin"
