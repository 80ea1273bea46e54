"""kfp-kubernetes settings under `--runner docker`: a named PVC shared by two tasks and kept for the next
run, a secret as variables and as key files, an empty dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, FAILED
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.e2e.test_bad_input import assert_nothing_recorded


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
    assert run.probe("modes")["value"] == "600"  # key files written for the mount: this user's only
    assert list((tmp_path / "home" / "runtime" / "secrets").iterdir()) == []  # removed with the attempt


def test_a_secret_without_a_local_source_fails_the_task_naming_the_option(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    run = run_driver(
        compile_pipeline("docker_volumes"), "--runner", "docker", "-p", "run_name=x", home=tmp_path
    )
    assert run.returncode == 1
    assert run.execution("secret-user").state == FAILED
    assert "pass --secret creds=PATH" in run.execution("secret-user").properties["error"]


def test_a_sub_path_a_symlink_leads_out_of_the_volume_fails_the_task_and_mounts_nothing(
    compile_pipeline: CompilePipeline, tmp_path: Path, docker_client: Any
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    home = tmp_path / "home"
    run = run_driver(
        compile_pipeline("volume_escapes"), "--runner", "docker", "-p", f"target={victim}",
        "-p", "marker=written", home=home,
    )
    assert run.returncode == 1, run.output
    assert run.execution("plant-link").state == COMPLETE
    failed = run.execution("write-through")
    assert failed.state == FAILED
    assert "sub-path of PVC 'probe'" in failed.properties["error"] and "escapes" in failed.properties["error"]
    assert list(victim.iterdir()) == []  # nothing was mounted, nothing written through the link
    assert "Traceback" not in run.output


@pytest.mark.parametrize("sub_path", ["../../../victim-dir", "/", "a/../../b"])
def test_a_sub_path_that_climbs_out_or_is_absolute_is_refused_at_load(
    tmp_path: Path, sub_path: str
) -> None:
    from kfp import compiler

    from tests.pipelines.volume_escapes import with_sub_path

    package = tmp_path / "escaping.yaml"
    compiler.Compiler().compile(with_sub_path(sub_path), str(package))
    home = tmp_path / "home"
    run = run_driver(package, "--runner", "docker", "-p", "marker=m", home=home)

    assert run.returncode == 2, run.output
    lines = run.completed.stderr.strip().splitlines()
    assert len(lines) == 1 and ".subPath" in lines[0] and str(package) in lines[0], lines
    assert not (home / "volumes").exists() and not (tmp_path / "victim-dir").exists()
    assert_nothing_recorded(home)
