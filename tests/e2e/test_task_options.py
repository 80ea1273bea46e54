"""Task options end to end: env variables, display names, caching off, ignored resources, the workspace."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ledger.model import CACHED, COMPLETE
from tests.cli import REPO_ROOT
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

RESOURCES_WARNING = "CPU, memory and accelerator settings have no local effect"


@pytest.fixture(scope="module")
def options_runs(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FinishedRun, FinishedRun]:
    """tests/pipelines/task_options.py run twice in one home."""
    home = tmp_path_factory.mktemp("task-options-home")
    first = run_driver(compile_pipeline("task_options"), home=home, run_id="first")
    second = run_driver(compile_pipeline("task_options"), home=home, run_id="second")
    assert first.returncode == 0, first.output
    assert second.returncode == 0, second.output
    return first, second


def test_set_env_variable_reaches_the_component(options_runs: tuple[FinishedRun, FinishedRun]) -> None:
    first, _ = options_runs
    assert first.probe("env")["GREETING"] == "hello"
    assert first.probe("env")["SPACED"] == "a b  c"
    assert first.probe("no-cache")["GREETING"] is None  # set on one task only


def test_set_display_name_is_recorded_beside_the_task_key(
    options_runs: tuple[FinishedRun, FinishedRun],
) -> None:
    first, _ = options_runs
    execution = first.execution("show-env")
    assert execution.properties["display_name"] == "Show the environment"
    assert first.execution("show-env-2").properties["display_name"] == "show-env-2"


def test_caching_off_runs_the_task_again_where_a_cached_one_does_not(
    options_runs: tuple[FinishedRun, FinishedRun],
) -> None:
    _, second = options_runs
    assert second.execution("show-env").state == CACHED
    no_cache = second.execution("show-env-2")
    assert no_cache.state == COMPLETE
    assert "cached_execution_id" not in no_cache.properties
    assert [p["tag"] for p in second.probes_seen] == ["no-cache"]


def test_resource_settings_are_ignored_with_one_warning_per_run(
    options_runs: tuple[FinishedRun, FinishedRun],
) -> None:
    first, _ = options_runs
    assert first.probe("resources-1")["tag"] == "resources-1"
    assert first.probe("resources-2")["tag"] == "resources-2"
    assert first.execution("show-env-3").state == COMPLETE
    assert first.output.count(RESOURCES_WARNING) == 1


@pytest.fixture(scope="module")
def workspace_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/pipelines/workspace.py compiled to YAML: kfp writes a workspace only to YAML (`platforms`)."""
    from kfp import compiler

    source = REPO_ROOT / "tests" / "pipelines" / "workspace.py"
    module_spec = importlib.util.spec_from_file_location("tests_pipelines_workspace", source)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    package = tmp_path_factory.mktemp("workspace") / "workspace.yaml"
    compiler.Compiler().compile(module.pipeline, str(package))
    return package


def test_tasks_share_a_per_run_workspace_directory(workspace_package: Path, lpl_home: Path) -> None:
    run = run_driver(workspace_package, home=lpl_home, run_id="ws-run")

    assert run.returncode == 0, run.output
    written, read = run.probe("write"), run.probe("read")
    assert written["workspace_path"] == read["workspace_path"]
    assert read["text"] == "shared through the workspace"
    workspace = Path(written["workspace_path"])
    assert workspace.is_relative_to(lpl_home.resolve())
    assert "ws-run" in workspace.parts
    assert (workspace / "note.txt").read_text() == "shared through the workspace"


def test_a_workspace_the_user_names_is_used_and_kept_with_its_files(
    workspace_package: Path, lpl_home: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "my-workspace"
    mine.mkdir()
    (mine / "existing.txt").write_text("keep me")

    run = run_driver(workspace_package, "--workspace", str(mine), home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.probe("write")["workspace_path"] == str(mine.resolve())
    assert run.probe("write")["existing"] == ["existing.txt", "note.txt"]
    assert run.probe("read")["text"] == "shared through the workspace"
    assert (mine / "existing.txt").read_text() == "keep me"
    assert (mine / "note.txt").read_text() == "shared through the workspace"
    assert run.view.header is not None and run.view.header.workspace == str(mine.resolve())  # for a resume


def test_a_component_taking_a_task_config_is_handed_the_tasks_settings_and_keeps_them_off_itself(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    run = run_driver(compile_pipeline("task_config"), home=tmp_path / "home")

    assert run.returncode == 0, run.output
    seen = json.loads(run.execution("read-task-config").outputs["Output"])
    assert seen["handed"] == {
        "affinity": None,
        "env": [{"name": "GREETING", "value": "hello"}],
        "node_selector": None,
        "resources": {"limits": {"cpu": "500m", "memory": "1536Mi"}},
        "tolerations": None,
        "volume_mounts": None,
        "volumes": None,
    }
    assert seen["own_greeting"] is None  # ENV is passed through without apply_to_task
    assert RESOURCES_WARNING not in run.output  # so are the resources: nothing of the task's is ignored
