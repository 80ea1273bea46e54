"""A pipeline compiled by kfp 2.4.0, whose executor knows no local paths, runs unmodified."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.model import COMPLETE, CONTAINER_EXECUTION
from tests.e2e.finished_run import run_driver
from tests.e2e.recorded import artifacts_of

# kfp 2.4.0 and its dependencies come from PyPI (once, then from uv's cache); offline, use -m "not network".
pytestmark = pytest.mark.network


def test_the_seed_compiled_by_kfp_2_4_runs_unmodified(seed_pipeline_kfp_2_4: Path, lpl_home: Path) -> None:
    assert "kfp==2.4.0" in seed_pipeline_kfp_2_4.read_text()

    run = run_driver(seed_pipeline_kfp_2_4, home=lpl_home)

    assert run.returncode == 0, run.output
    assert "x_average=" in run.completed.stdout
    assert "x_std=" in run.completed.stdout
    containers = run.executions(type=CONTAINER_EXECUTION)
    assert sorted(e.task_name for e in containers) == ["stage-0", "stage-1", "stage-2", "stage-3"]
    assert {e.state for e in containers} == {COMPLETE}
    # The dataset went where its URI says, under the home, though kfp 2.4.0 maps no local URI to a path.
    [data] = artifacts_of(run, run.execution("stage-1"), "OUTPUT")["data"]
    assert Path(data["uri"]).is_file()
    assert Path(data["uri"]).is_relative_to(lpl_home)
