"""Resources whose values only a run knows (`set_cpu_limit(task.output)`, `set_memory_limit(a_parameter)`,
an accelerator type, a TaskConfig, a node selector from an upstream output), end to end: a run resolves them,
`--explain` shows a stand-in where a value is not known yet and the recorded value with `--from-run`, on the
host runner and under `--runner docker` (whose run gives the container the resolved limits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

CPU = "{{tasks['quota'].outputs.parameters['cpu']}}"
COUNT = "{{tasks['quota'].outputs.parameters['count']}}"
SELECTOR = "{{tasks['selector'].outputs.parameters['Output']}}"


def _explain(run_cli: RunCli, home: Path, *args: str) -> dict[str, dict[str, Any]]:
    completed = run_cli("driver", "--explain", "--json", *args, home=home)
    assert completed.returncode == 0, completed.stderr
    return {entry["label"]: entry for entry in json.loads(completed.stdout)["tasks"]}


def _task_config(entry: dict[str, Any]) -> Any:
    return entry["executorInput"]["inputs"]["parameterValues"]["task_config"]


@pytest.fixture(scope="module")
def host_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(compile_pipeline("upstream_resources"), home=tmp_path_factory.mktemp("host"))
    assert run.returncode == 0, run.output
    return run


def test_a_run_resolves_resources_from_an_upstream_output_and_a_parameter(host_run: FinishedRun) -> None:
    assert {e.state for e in host_run.executions()} == {COMPLETE}
    assert host_run.probe("task-config")["resources"] == {"limits": {"cpu": "250m", "memory": "96Mi"}}
    assert host_run.execution("quota").properties["outputs"] == {"cpu": "250m", "count": "1"}


def test_explain_shows_stand_ins_for_resources_not_known_yet(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    entries = _explain(run_cli, lpl_home, str(compile_pipeline("upstream_resources")))
    limits = entries["limits"]
    assert "error" not in limits
    assert limits["resources"] == {
        "cpuLimit": CPU, "cpuRequest": CPU, "memoryLimit": "96Mi", "memoryRequest": "96Mi"}
    assert limits["kubernetes"]["node_selector"] == {"": SELECTOR}
    assert entries["accelerated"]["resources"] == {
        "acceleratorType": "example.com/tpu", "acceleratorCount": COUNT}
    handed = _task_config(entries["read-task-config"])
    assert handed["resources"] == {"limits": {"cpu": CPU, "memory": "96Mi"}}
    assert entries["quota"]["resources"] is None


def test_explain_from_the_run_shows_the_resolved_resources(host_run: FinishedRun, run_cli: RunCli) -> None:
    entries = _explain(run_cli, host_run.home, "--from-run", host_run.run_id)
    assert entries["limits"]["resources"] == {
        "cpuLimit": "250m", "cpuRequest": "250m", "memoryLimit": "96Mi", "memoryRequest": "96Mi"}
    assert entries["limits"]["kubernetes"]["node_selector"] == {"disk": "ssd"}
    assert entries["accelerated"]["resources"] == {
        "acceleratorType": "example.com/tpu", "acceleratorCount": "1"}
    assert entries["limits"]["unresolved"] == []
    assert _task_config(entries["read-task-config"])["resources"] == {
        "limits": {"cpu": "250m", "memory": "96Mi"}}


def test_explain_text_lists_the_resources(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    package = str(compile_pipeline("upstream_resources"))
    completed = run_cli("driver", package, "--explain", "--task", "limits", home=lpl_home)
    assert completed.returncode == 0, completed.stderr
    assert f"  resources: cpuLimit {CPU}, cpuRequest {CPU}, memoryLimit 96Mi, memoryRequest 96Mi" in (
        completed.stdout)


# --- --runner docker --------------------------------------------------------------------------------------


def test_explain_for_docker_shows_the_container_limits_with_their_stand_ins(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    package = str(compile_pipeline("upstream_resources"))
    entries = _explain(run_cli, lpl_home, package, "--runner", "docker")
    environment = entries["limits"]["environment"]
    assert environment["kind"] == "docker"
    assert environment["limits"] == {"cpu": CPU, "memory": f"{96 * 2**20} bytes"}
    assert entries["accelerated"]["environment"]["limits"] == {"accelerators": f"{COUNT} x example.com/tpu"}


def test_a_docker_run_gives_the_container_the_resolved_limits_and_explain_shows_them(
    compile_pipeline: CompilePipeline, tmp_path: Path, run_cli: RunCli, docker_client: Any
) -> None:
    run = run_driver(compile_pipeline("upstream_resources"), "--runner-for", "limits=docker", home=tmp_path)

    assert run.returncode == 0, run.output
    probe = run.probe("limits")
    assert int(probe["quota"]) / int(probe["period"]) == 0.25  # set_cpu_limit(quota.output): "250m"
    assert int(probe["memory"]) == 96 * 2**20  # set_memory_limit(memory): "96Mi"
    environment = _explain(run_cli, tmp_path, "--from-run", run.run_id)["limits"]["environment"]
    assert environment["limits"] == {"cpu": "0.25", "memory": f"{96 * 2**20} bytes"}
