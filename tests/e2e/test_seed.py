"""The seed example runs end to end: the committed pipeline.json, and make_pipeline.py compiled afresh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import COMPLETE, CONTAINER_EXECUTION
from tests.cli import REPO_ROOT, run_cli
from tests.e2e.finished_run import FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of

COMMITTED_SEED = REPO_ROOT / "examples" / "seed" / "pipeline.json"
STAGES = ["stage-0", "stage-1", "stage-2", "stage-3"]


def assert_seed_succeeded(run: FinishedRun) -> None:
    assert run.returncode == 0, run.output
    assert "x_average=" in run.completed.stdout
    assert "x_std=" in run.completed.stdout
    assert "Traceback" not in run.output
    containers = run.executions(type=CONTAINER_EXECUTION)
    assert sorted(e.task_name for e in containers) == STAGES
    assert {e.state for e in containers} == {COMPLETE}
    assert run.view.state == COMPLETE


@pytest.fixture(scope="module")
def committed_seed_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    return run_driver(COMMITTED_SEED, home=tmp_path_factory.mktemp("seed-home"))


def test_the_committed_seed_pipeline_runs_its_four_stages(committed_seed_run: FinishedRun) -> None:
    assert_seed_succeeded(committed_seed_run)


def test_the_seed_records_what_each_stage_received_and_produced(committed_seed_run: FinishedRun) -> None:
    stage = {name: committed_seed_run.execution(name) for name in STAGES}

    seed = stage["stage-0"].properties["outputs"]["Output"]
    assert type(seed) is int
    # run_id is left to its component default: the backend records only what the driver resolved.
    assert stage["stage-0"].properties["inputs"] == {
        "config": {"seed_low": 0, "seed_high": 1000},
        "messages": ["hello", "world"],
    }
    assert stage["stage-1"].properties["inputs"] == {"n": 1000, "seed": seed}
    stats = stage["stage-2"].properties["outputs"]["Output"]
    assert sorted(stats) == ["average", "std"]
    assert stage["stage-3"].properties["inputs"] == {"stats": stats}
    [data] = artifacts_of(committed_seed_run, stage["stage-1"], "OUTPUT")["data"]
    assert data["type"] == "system.Dataset"
    assert Path(data["uri"]).is_file()
    assert artifacts_of(committed_seed_run, stage["stage-2"], "INPUT")["data"] == [data]


def test_the_seed_compiled_afresh_runs(seed_pipeline: Path, lpl_home: Path) -> None:
    assert_seed_succeeded(run_driver(seed_pipeline, home=lpl_home))


def test_ledger_show_json_lists_the_four_complete_container_executions(
    committed_seed_run: FinishedRun,
) -> None:
    completed = run_cli("ledger", "show", committed_seed_run.run_id, "--json", home=committed_seed_run.home)

    assert completed.returncode == 0, completed.stderr
    shown = json.loads(completed.stdout)
    containers = [e for e in shown["executions"] if e["type"] == CONTAINER_EXECUTION]
    assert sorted(e["task_name"] for e in containers) == STAGES
    assert {e["state"] for e in containers} == {COMPLETE}
    by_task = {e["task_name"]: e for e in containers}
    assert by_task["stage-0"]["inputs"]["messages"] == ["hello", "world"]
    assert sorted(by_task["stage-2"]["outputs"]["Output"]) == ["average", "std"]
