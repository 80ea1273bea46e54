"""kfp-kubernetes settings under `--runner docker`: a named PVC shared by two tasks and kept for the next
run, a secret as variables and as key files, an empty dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, FAILED
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def volume_runs(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory, docker_client: Any
) -> tuple[Path, list[FinishedRun]]:
    home = tmp_path_factory.mktemp("home")
    secret = tmp_path_factory.mktemp("secrets") / "creds"
    secret.mkdir()
    (secret / "user").write_text("alice")  # a directory of key files, as Kubernetes mounts a secret
    package = compile_pipeline("docker_volumes")
    runs = [
        run_driver(
            package,
            "--runner",
            "docker",
            f"--secret=creds={secret}",
            "-p",
            f"run_name={name}",
            home=home,
            run_id=name,
        )
        for name in ("first", "second")
    ]
    for run in runs:
        assert run.returncode == 0, run.output
    return home, runs


def test_two_tasks_share_a_pvc_and_a_second_run_sees_the_first_runs_file(
    volume_runs: tuple[Path, list[FinishedRun]],
) -> None:
    home, (first, second) = volume_runs
    assert first.probe("before")["value"].split() == []
    assert first.probe("read")["value"] == "written by first"
    assert second.probe("before")["value"].split() == ["first.txt"]
    assert second.probe("read")["value"] == "written by second"
    assert sorted(p.name for p in (home / "volumes" / "shared-data").iterdir()) == ["first.txt", "second.txt"]


def test_a_secret_is_seen_as_a_variable_and_as_a_file_and_an_empty_dir_is_writable(
    volume_runs: tuple[Path, list[FinishedRun]],
) -> None:
    _, (first, _) = volume_runs
    assert first.probe("secret")["value"] == "alice/alice/scratch"
    assert first.execution("secret-user").state == COMPLETE


def test_a_secret_from_an_env_file_is_mounted_as_key_files(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    env_file = tmp_path / "creds.env"
    env_file.write_text("user=bob\n")
    run = run_driver(
        compile_pipeline("docker_volumes"),
        "--runner",
        "docker",
        f"--secret=creds={env_file}",
        "-p",
        "run_name=env",
        home=tmp_path / "home",
    )
    assert run.returncode == 0, run.output
    assert run.probe("secret")["value"] == "bob/bob/scratch"


def test_a_secret_without_a_local_source_fails_the_task_naming_the_option(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    run = run_driver(
        compile_pipeline("docker_volumes"), "--runner", "docker", "-p", "run_name=x", home=tmp_path
    )
    assert run.returncode == 1
    assert run.execution("secret-user").state == FAILED
    assert "pass --secret creds=PATH" in run.execution("secret-user").properties["error"]
