"""kfp-kubernetes settings on the host runner, end to end: secrets and config maps from the local sources
named by --secret/--config-map (a directory of key files or an env file), pod labels and annotations read
back through field paths, CreatePVC/DeletePVC as directories under <home>/volumes, and what the host cannot
do (a missing secret, a mount) failing the task with one line naming the option or runner that gives it."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    (root / "user-secret").mkdir()
    (root / "user-secret" / "username").write_text("user1")
    (root / "api.env").write_text("# an env file\npassword='psw1'\n")
    (root / "db.env").write_text("token=t0k3n\n")
    (root / "settings.env").write_text("color=blue\n")
    return {
        "user-secret": root / "user-secret",
        "api-secret": root / "api.env",
        "db-secret": root / "db.env",
        "settings": root / "settings.env",
    }


def _options(sources: dict[str, Path], *, without: str = "") -> list[str]:
    options = [
        f"--secret={name}={sources[name]}"
        for name in ("user-secret", "api-secret", "db-secret")
        if name != without
    ]
    return [*options, f"--config-map=settings={sources['settings']}"]


@pytest.fixture(scope="module")
def settings_run(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory, sources: dict[str, Path]
) -> FinishedRun:
    return run_driver(
        compile_pipeline("kubernetes_settings"),
        *_options(sources),
        home=tmp_path_factory.mktemp("home"),
        run_id="k8s",
    )


def test_secrets_config_maps_and_field_paths_become_environment_variables(settings_run: FinishedRun) -> None:
    assert settings_run.returncode == 0, settings_run.output
    env = settings_run.probe("env")
    # USER_NAME: the secret named by a pipeline parameter; TOKEN: by an upstream task's output.
    assert {k: env[k] for k in ("USER_NAME", "PASSWORD", "TOKEN", "COLOR")} == {
        "USER_NAME": "user1",
        "PASSWORD": "psw1",
        "TOKEN": "t0k3n",
        "COLOR": "blue",
    }
    # Pod metadata through the downward API; a label the pod lacks is "" as on a cluster.
    assert (env["ANNOTATION"], env["LABEL"], env["ABSENT"]) == ("alice", "gold", "")
    assert env["POD_NAME"].startswith(settings_run.view.header.resource_name + "-show-env")


def test_pod_metadata_is_recorded_on_the_execution_and_placement_settings_are_reported_ignored(
    settings_run: FinishedRun,
) -> None:
    execution = settings_run.execution("show-env")
    assert execution.properties["pod_labels"] == {"tier": "gold"}
    assert execution.properties["pod_annotations"] == {"team/owner": "alice"}
    shown = run_cli("ledger", "show", settings_run.run_id, "--long", home=settings_run.home).stdout
    assert "pod      labels tier=gold" in shown and "pod      annotations team/owner=alice" in shown
    assert (
        "kubernetes settings with no local effect, ignored: node selector, tolerations" in settings_run.output
    )
    assert "psw1" not in str(execution.properties) and "psw1" not in str(settings_run.view.header)
    # The node selector has no meaning on the host; it reaches the task file for runners that place tasks.
    task_file = json.loads((Path(execution.properties["task_dir"]) / "task.json").read_text())
    assert task_file["kubernetes"]["node_selector"] == {"pool": "cpu"}  # the JSON labels win, as there


def test_a_secret_without_a_local_source_fails_the_task_naming_the_option(
    compile_pipeline: CompilePipeline, lpl_home: Path, sources: dict[str, Path]
) -> None:
    run = run_driver(
        compile_pipeline("kubernetes_settings"),
        *_options(sources, without="db-secret"),
        home=lpl_home,
        run_id="no-db",
    )
    assert run.returncode == 1, run.output
    execution = run.execution("show-env")
    assert execution.state == FAILED
    assert execution.properties["error"] == (
        "secret 'db-secret' has no local source: pass --secret db-secret=PATH "
        "(a directory with one file per key, or an env file of KEY=VALUE lines)"
    )
    assert execution.properties["error"] in run.output


def test_a_secret_option_naming_no_file_is_refused_before_anything_runs(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    run = run_driver(
        compile_pipeline("kubernetes_settings"),
        f"--secret=db-secret={tmp_path / 'nope'}",
        home=lpl_home,
        run_id="bad-option",
    )
    assert run.returncode == 2
    assert (
        run.completed.stderr.strip()
        == f"error: --secret 'db-secret={tmp_path / 'nope'}': {tmp_path / 'nope'} does not exist"
    )


def test_create_pvc_makes_a_volume_directory_and_delete_pvc_removes_it(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("pvc"), home=lpl_home, run_id="scratch")
    assert run.returncode == 0, run.output
    name = run.probe("pvc")["name"]
    assert run.execution("createpvc").properties["outputs"] == {"name": name}
    assert name.endswith("-scratch") and uuid.UUID(name.removesuffix("-scratch"))
    assert run.execution("deletepvc").state == COMPLETE
    assert (lpl_home / "volumes").is_dir() and not (lpl_home / "volumes" / name).exists()


def test_a_named_pvc_outlives_its_run(compile_pipeline: CompilePipeline, lpl_home: Path) -> None:
    first = run_driver(compile_pipeline("pvc"), "-p", "pvc_name=shared", home=lpl_home, run_id="first")
    assert first.returncode == 0, first.output
    marker = lpl_home / "volumes" / "shared" / "kept"
    marker.write_text("from the first run")
    second = run_driver(compile_pipeline("pvc"), "-p", "pvc_name=shared", home=lpl_home, run_id="second")
    assert second.returncode == 0, second.output
    assert marker.read_text() == "from the first run"  # the same volume, not a fresh one


def test_a_mount_on_the_host_fails_the_task_naming_the_docker_runner(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("pvc_mount"), home=lpl_home, run_id="mount")
    assert run.returncode == 1, run.output
    execution = run.execution("list-data")
    assert execution.state == FAILED
    assert re.fullmatch(
        r"the task mounts pvc '[0-9a-f-]{36}-data' at /data: a process on the host cannot have its own mount "
        r"there; run it with --runner docker",
        execution.properties["error"],
    )
    assert "launcher exited" not in run.output


def test_a_resume_keeps_the_recorded_sources_and_takes_a_new_one(
    compile_pipeline: CompilePipeline, lpl_home: Path, sources: dict[str, Path]
) -> None:
    package = compile_pipeline("kubernetes_settings")
    failed = run_driver(package, *_options(sources, without="db-secret"), home=lpl_home, run_id="fix-me")
    assert failed.returncode == 1, failed.output
    completed = run_cli(
        "driver", "--resume", "fix-me", f"--secret=db-secret={sources['db-secret']}", home=lpl_home
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert '"TOKEN": "t0k3n"' in completed.stdout and '"USER_NAME": "user1"' in completed.stdout


def test_a_task_past_its_timeout_is_stopped_and_fails_saying_so(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("task_timeout"), home=lpl_home, run_id="timeout")
    assert run.returncode == 1, run.output
    slow, quick = run.execution("nap"), run.execution("nap-2")
    assert (slow.state, quick.state) == (FAILED, COMPLETE)
    assert slow.properties["error"] == (
        "timed out: ran longer than its 2 s timeout (kfp.kubernetes.set_timeout) and was stopped"
    )
    attempt = slow.attempts[-1]
    assert attempt["end"] - attempt["start"] < 30  # stopped, not slept out
