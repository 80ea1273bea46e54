"""`kfp.Client` runs against the local server: each run is a driver of the home, listed by `ledger runs`, and
ends in the API's state names (SUCCEEDED, FAILED with the failed task's error, CANCELED after terminate; a
retried run continues)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.conftest import PIPELINES_DIR
from tests.ui.server import UiServer, start_ui, wait_until

WAIT_SECONDS = 120


def load_pipeline(name: str) -> Any:
    module_spec = importlib.util.spec_from_file_location(f"kfp_api_{name}", PIPELINES_DIR / f"{name}.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.pipeline


def listed_run_ids(home: Path) -> set[str]:
    completed = run_cli("ledger", "runs", "--json", home=home)
    assert completed.returncode == 0, completed.stderr
    return {run["run_id"] for run in json.loads(completed.stdout)["runs"]}


def test_a_run_from_a_pipeline_function_succeeds_and_is_a_run_of_the_home(
    client: Any, kfp_home: Path
) -> None:
    result = client.create_run_from_pipeline_func(
        load_pipeline("hello"),
        arguments={"name": "api"},
        run_name="hello from the api",
        experiment_name="api-tests",
    )
    run = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert run.state == "SUCCEEDED"
    assert run.display_name == "hello from the api"
    assert run.runtime_config.parameters == {"name": "api"}
    assert run.created_at is not None and run.finished_at is not None and run.finished_at >= run.created_at
    assert run.pipeline_spec["pipelineInfo"]["name"] == "hello"
    tasks = {task.display_name: task for task in run.run_details.task_details}
    assert tasks["say-hello"].state == "SUCCEEDED"
    experiment = client.get_experiment(experiment_name="api-tests")
    assert run.experiment_id == experiment.experiment_id
    in_experiment = client.list_runs(experiment_id=experiment.experiment_id).runs
    assert [listed.run_id for listed in in_experiment] == [result.run_id]
    assert result.run_id in listed_run_ids(kfp_home)
    assert (kfp_home / "api-runs" / f"{result.run_id}.log").is_file()
    assert list((kfp_home / "pipelines").glob("hello-*.json"))


def compile_yaml(name: str, directory: Path) -> Path:
    """`tests/pipelines/<name>.py` compiled to YAML (kfp.Client reads YAML or archives, never JSON)."""
    from kfp import compiler

    package = directory / f"{name}.yaml"
    compiler.Compiler().compile(load_pipeline(name), str(package))
    return package


def test_a_run_from_a_package_with_caching_off_runs_with_no_cache(
    client: Any, tmp_path: Path, kfp_home: Path
) -> None:
    package = compile_yaml("hello", tmp_path)
    first = client.create_run_from_pipeline_package(str(package), arguments={"name": "cached"})
    assert client.wait_for_run_completion(first.run_id, timeout=WAIT_SECONDS).state == "SUCCEEDED"
    second = client.create_run_from_pipeline_package(
        str(package), arguments={"name": "cached"}, enable_caching=False
    )
    run = client.wait_for_run_completion(second.run_id, timeout=WAIT_SECONDS)
    assert run.state == "SUCCEEDED"
    assert "--no-cache" in (kfp_home / "api-runs" / f"{second.run_id}.log").read_text()
    default = client.get_experiment(experiment_name="Default")
    assert run.experiment_id == default.experiment_id
    assert {first.run_id, second.run_id} <= listed_run_ids(kfp_home)


def test_a_failing_pipeline_ends_failed_with_the_failed_tasks_error(client: Any) -> None:
    result = client.create_run_from_pipeline_func(load_pipeline("failure"), arguments={"message": "api-boom"})
    run = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert run.state == "FAILED"
    assert "api-boom" in run.error.message and "fail" in run.error.message
    failed = [task for task in run.run_details.task_details if task.display_name == "fail"]
    assert failed[0].state == "FAILED" and "api-boom" in failed[0].error.message


def test_terminate_cancels_a_long_run_and_leaves_no_process(client: Any, tmp_path: Path) -> None:
    release = tmp_path / "release"
    result = client.create_run_from_pipeline_func(
        load_pipeline("signals"), arguments={"release": str(release)}
    )
    wait_until(lambda: Path(f"{release}.started").exists(), timeout=WAIT_SECONDS)
    client.terminate_run(result.run_id)
    assert client.get_run(result.run_id).state in ("CANCELING", "CANCELED")
    # wait_for_run_completion does not take CANCELED for an end (not on a cluster either): poll the run.
    wait_until(lambda: client.get_run(result.run_id).state == "CANCELED", timeout=WAIT_SECONDS, every=0.5)
    wait_until(lambda: not _processes_mentioning(str(release)), timeout=10)


def test_retry_continues_a_failed_run_once_its_cause_is_gone(client: Any, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    result = client.create_run_from_pipeline_func(
        load_pipeline("resume_after_failure"), arguments={"marker": str(marker)}
    )
    failed = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert failed.state == "FAILED" and "is missing" in failed.error.message
    marker.touch()
    client.runs.run_service_retry_run(run_id=result.run_id)  # kfp.Client has no retry_run method
    run = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert run.state == "SUCCEEDED"
    current = [task for task in run.run_details.task_details if task.display_name == "join"]
    assert current and current[-1].state == "SUCCEEDED"


def test_a_run_outlives_its_server_and_the_next_server_stops_it(kfp_home: Path, tmp_path: Path) -> None:
    from kfp.client import Client

    release = tmp_path / "release"
    first = start_ui(kfp_home)
    try:
        result = Client(host=first.url.rstrip("/")).create_run_from_pipeline_func(
            load_pipeline("signals"), arguments={"release": str(release)}, run_name="outlives its server"
        )
        wait_until(lambda: Path(f"{release}.started").exists(), timeout=WAIT_SECONDS)
    finally:
        assert first.stop() == 0
    second = start_ui(kfp_home)
    try:
        client = Client(host=second.url.rstrip("/"))
        run = client.get_run(result.run_id)
        assert (run.state, run.display_name) == ("RUNNING", "outlives its server")
        client.terminate_run(result.run_id)
        wait_until(lambda: client.get_run(result.run_id).state == "CANCELED", timeout=WAIT_SECONDS, every=0.5)
    finally:
        assert second.stop() == 0
    wait_until(lambda: not _processes_mentioning(str(release)), timeout=10)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline and int(entry) != os.getpid():
                found.append(int(entry))
    return found


def test_healthz_answers_single_user(kfp_server: UiServer, client: Any) -> None:
    status, _, body = kfp_server.get("/apis/v2beta1/healthz")
    assert status == 200 and json.loads(body)["multi_user"] is False
    assert client.get_kfp_healthz().multi_user is False


def test_a_run_the_driver_refuses_ends_failed_with_the_drivers_reason(client: Any, kfp_home: Path) -> None:
    result = client.create_run_from_pipeline_func(load_pipeline("hello"), arguments={"no_such_input": 1})
    wait_until(lambda: client.get_run(result.run_id).state == "FAILED", timeout=WAIT_SECONDS, every=0.3)
    run = client.get_run(result.run_id)
    assert "no_such_input" in run.error.message
    assert result.run_id in {listed.run_id for listed in client.list_runs(page_size=100).runs}


def test_a_pipelines_platform_settings_reach_the_driver(client: Any, kfp_home: Path) -> None:
    # mount_pvc is a kfp-kubernetes setting (the spec's second document): the host runner cannot mount, and
    # the task says so; without the setting the task would have run.
    result = client.create_run_from_pipeline_func(load_pipeline("pvc_mount"))
    run = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert run.state == "FAILED" and "--runner docker" in run.error.message
    written = list((kfp_home / "pipelines").glob("pvc-mount-*.yaml"))
    assert len(written) == 1 and "\nplatforms:" in written[0].read_text()


def test_a_deleted_run_is_gone_from_the_api_and_the_ledger(client: Any, kfp_home: Path) -> None:
    from kfp_server_api import ApiException

    result = client.create_run_from_pipeline_func(load_pipeline("hello"), arguments={"name": "deleted"})
    assert client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS).state == "SUCCEEDED"
    client.archive_run(result.run_id)
    assert client.get_run(result.run_id).storage_state == "ARCHIVED"
    client.delete_run(result.run_id)
    with pytest.raises(ApiException) as gone:
        client.get_run(result.run_id)
    assert gone.value.status == 404
    assert result.run_id not in listed_run_ids(kfp_home)
    assert result.run_id not in {run.run_id for run in client.list_runs(page_size=200).runs or []}


def test_runs_created_at_once_are_all_kept(client: Any, kfp_home: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pipeline = load_pipeline("hello")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(
                lambda n: client.create_run_from_pipeline_func(
                    pipeline, arguments={"name": f"at-once-{n}"}, run_name=f"at once {n}"
                ),
                range(3),
            )
        )
    runs = [client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS) for result in results]
    assert [(run.state, run.display_name) for run in runs] == [
        ("SUCCEEDED", f"at once {n}") for n in range(3)
    ]
    assert {result.run_id for result in results} <= listed_run_ids(kfp_home)
