"""`--runner docker` runs each task in its image: a tool only the image has, the task's env vars, cpu and
memory limits as container limits, a Python component importing what only its base image has; the host
runner, on the same pipeline, says that `--runner docker` would run it."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, FAILED
from tests.cli import REPO_ROOT
from tests.e2e.docker_support import run_containers
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def docker_run(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory, docker_client: Any
) -> FinishedRun:
    run = run_driver(
        compile_pipeline("docker_images"),
        "--runner",
        "docker",
        home=tmp_path_factory.mktemp("home"),
        run_id="docker-images",
    )
    assert run.returncode == 0, run.output
    return run


def test_a_tool_that_exists_only_in_the_image_runs_with_the_tasks_env(docker_run: FinishedRun) -> None:
    probe = docker_run.probe("tool")
    assert probe["out"] == "lpl-only-tool says: hello"
    assert probe["greeting"] == "from-the-task"
    assert docker_run.execution("image-tool").properties["outputs"] == {"said": "lpl-only-tool says: hello"}


def test_cpu_and_memory_limits_are_the_containers_limits(docker_run: FinishedRun) -> None:
    probe = docker_run.probe("limits")
    assert int(probe["quota"]) / int(probe["period"]) == 0.5  # set_cpu_limit("500m")
    assert int(probe["memory"]) == 64 * 2**20  # set_memory_limit(memory), the pipeline input "64Mi"


def test_a_python_component_imports_what_only_its_base_image_has(docker_run: FinishedRun) -> None:
    table = "said\nlpl-only-tool says: hello"
    assert docker_run.probe("tabulated")["table"] == table
    assert docker_run.execution("tabulated").properties["outputs"] == {"Output": table}
    assert {e.state for e in docker_run.executions(type="system.ContainerExecution")} == {COMPLETE}


def test_no_container_is_left_after_the_run(docker_run: FinishedRun, docker_client: Any) -> None:
    assert run_containers(docker_client, docker_run.run_id) == []


def test_the_python_components_prepared_image_is_reused(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_run: FinishedRun
) -> None:
    again = run_driver(compile_pipeline("docker_images"), "--runner", "docker", "--no-cache", home=tmp_path)
    assert again.returncode == 0, again.output
    assert "installing the component's packages" not in again.output


def test_the_host_runner_names_the_docker_runner_for_a_program_only_the_image_has(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    run = run_driver(compile_pipeline("docker_images"), home=tmp_path)
    assert run.returncode == 1
    assert run.execution("image-tool").state == FAILED
    error = run.execution("image-tool").properties["error"]
    assert "'lpl-test/shell:1'" in error and "--runner docker" in error, error
    warnings = [line for line in run.output.splitlines() if "ignores their images" in line]
    assert len(warnings) == 1, run.output  # once per run, not once per task


def test_runner_for_sends_only_the_matching_tasks_to_docker(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    run = run_driver(
        compile_pipeline("docker_images"), "--runner-for", "lpl-test/shell:*=docker", home=tmp_path
    )
    # image-tool and limits run in their image; tabulated runs on the host, where tabulate is missing.
    assert run.execution("image-tool").state == COMPLETE, run.output
    assert run.execution("limits").state == COMPLETE, run.output
    assert run.execution("tabulated").state == FAILED
    error = run.execution("tabulated").properties["error"]
    assert "tabulate" in error and "--runner docker" in error, error


def test_the_test_image_can_be_tagged_as_the_image_a_pipeline_names(docker_client: Any) -> None:
    alias = f"lpl-alias-{uuid.uuid4().hex[:8]}/python:3.11"
    script = str(REPO_ROOT / "scripts" / "test-images")
    try:
        tagged = subprocess.run([script, "--as", alias], capture_output=True, text=True, timeout=600,
                                check=False)
        assert tagged.returncode == 0, tagged.stderr
        assert docker_client.images.get(alias).id == docker_client.images.get("lpl-test/python:3.11").id
    finally:
        with contextlib.suppress(Exception):
            docker_client.images.remove(alias)
    refused = subprocess.run([script, "--as", "python:3.12"], capture_output=True, text=True, timeout=60,
                             check=False)
    assert refused.returncode == 2 and "the image's Python is 3.11" in refused.stderr
