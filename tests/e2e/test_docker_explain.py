"""`--explain --runner docker` shows, per task, the container the Docker runner would start: image (and the
committed pip preamble of a Python component), network, limits, variable names and mounts. No daemon needed:
explain starts nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline


def _environments(package: Path, home: Path, *args: str) -> dict[str, dict[str, object]]:
    completed = run_cli("driver", str(package), "--explain", "--json", *args, home=home)
    assert completed.returncode == 0, completed.stderr
    return {task["task"]: task["environment"] for task in json.loads(completed.stdout)["tasks"]}


def test_explain_shows_the_container_with_its_limits_mounts_and_prepared_image(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    environments = _environments(compile_pipeline("docker_images"), tmp_path, "--runner", "docker")
    limits = environments["limits"]
    assert limits["kind"] == "docker" and limits["image"] == "lpl-test/shell:1"
    assert limits["limits"] == {"cpu": "0.5", "memory": f"{64 * 2**20} bytes"}
    assert limits["network"] == "none"
    root = str((tmp_path / "pipeline_root").resolve())
    assert f"{root} -> {root}" in limits["mounts"]  # the run's directories at their own paths
    assert environments["image-tool"]["variables"] == ["GREETING"]
    assert environments["tabulated"]["installs"]  # the preamble, run once in the image


def test_explain_shows_kubernetes_volumes_as_the_containers_mounts(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    environments = _environments(
        compile_pipeline("docker_volumes"), tmp_path, "--runner", "docker", "-p", "run_name=x"
    )
    volume = str((tmp_path / "volumes" / "shared-data").resolve())
    assert f"{volume} -> /data" in environments["writer"]["mounts"]
    assert "tmpfs -> /scratch" in environments["secret-user"]["mounts"]
    assert environments["secret-user"]["variables"] == ["CRED_USER"]


def test_runner_for_decides_per_task_in_explain_too(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    environments = _environments(compile_pipeline("docker_images"), tmp_path, "--runner-for", "limits=docker")
    assert environments["limits"]["kind"] == "docker"
    assert environments["image-tool"]["kind"] == "host"
