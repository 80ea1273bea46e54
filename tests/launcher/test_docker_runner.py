"""The container the Docker runner asks the daemon for, built without a daemon: limits, accelerators, mounts,
labels, network."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.runners import Attempt, Mount
from launcher.runners.docker import DockerRunner
from spec.errors import RunnerError
from spec.resources import ResourceSpec


def _attempt(tmp_path: Path, **changes: object) -> Attempt:
    attempt = Attempt(
        command=("sh", "-c"),
        args=("echo hi",),
        env={"A": "1"},
        cwd=tmp_path,
        python=None,
        image="lpl-test/shell:1",
        mounts=(Mount(source=str(tmp_path), target=str(tmp_path)),),
        label="t",
        labels={"run_id": "r", "execution_id": "7", "task": "t"},
    )
    return attempt.but(**changes)


def test_limits_command_env_mounts_labels_and_no_network_by_default(tmp_path: Path) -> None:
    resources = ResourceSpec(cpu_limit=0.5, memory_limit=64 * 2**20)
    config = DockerRunner().container_config(_attempt(tmp_path, resources=resources))
    assert config["nano_cpus"] == 500_000_000 and config["mem_limit"] == 64 * 2**20
    assert config["entrypoint"] == ["sh", "-c"] and config["command"] == ["echo hi"]
    assert config["environment"]["A"] == "1"
    assert config["volumes"] == {str(tmp_path): {"bind": str(tmp_path), "mode": "rw"}}
    assert config["network_mode"] == "none" and config["init"] is True
    assert config["labels"]["io.local-pipelines.run_id"] == "r"
    assert config["labels"]["io.local-pipelines.execution_id"] == "7"


def test_no_command_leaves_the_images_entrypoint(tmp_path: Path) -> None:
    config = DockerRunner().container_config(_attempt(tmp_path, command=()))
    assert config["entrypoint"] is None


def test_the_host_network_when_asked(tmp_path: Path) -> None:
    config = DockerRunner().container_config(_attempt(tmp_path, options={"docker_network": "host"}))
    assert config["network_mode"] == "host"


def test_an_accelerator_request_without_a_gpu_fails_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(()))  # this machine: no /dev/nvidia*
    gpu = ResourceSpec(accelerator_type="nvidia.com/gpu", accelerator_count=1)
    with pytest.raises(RunnerError, match="no GPU Docker can use; run with --ignore-accelerators"):
        DockerRunner().container_config(_attempt(tmp_path, resources=gpu))
    ignored = DockerRunner().container_config(
        _attempt(tmp_path, resources=gpu, options={"ignore_accelerators": True})
    )
    assert "device_requests" not in ignored
