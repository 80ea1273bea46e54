"""set_retry end to end: attempts in one execution, backoff between them, limits, inheritance from a DAG."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from ledger.model import COMPLETE, DAG_EXECUTION, FAILED, Execution
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def retries_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    markers = tmp_path_factory.mktemp("retry-markers")
    return run_driver(compile_pipeline("retries"), "-p", f"marker_dir={markers}",
                      home=tmp_path_factory.mktemp("retries-home"))


def _flaky(run: FinishedRun, name: str) -> Execution:
    """The root-level `flaky` task that was given this name (the task key `flaky` is reused in `inner`)."""
    (execution,) = [e for e in run.executions("flaky") if e.properties["inputs"]["name"] == name]
    return execution


def _attempt_states(execution: Execution) -> list[str]:
    return [a["state"] for a in sorted(execution.attempts, key=lambda a: a["number"])]


def _gaps(execution: Execution) -> list[float]:
    """Seconds between the end of each attempt and the start of the next, as the launchers recorded them."""
    attempts = sorted(execution.attempts, key=lambda a: a["number"])
    return [later["start"] - earlier["end"] for earlier, later in itertools.pairwise(attempts)]


def test_one_execution_records_every_attempt_of_a_task_that_fails_then_succeeds(
    retries_run: FinishedRun,
) -> None:
    execution = _flaky(retries_run, "backoff")
    assert execution.state == COMPLETE
    assert _attempt_states(execution) == [FAILED, FAILED, COMPLETE]
    assert [a["number"] for a in execution.attempts] == [0, 1, 2]
    assert execution.properties["outputs"] == {"Output": 3}
    probes = retries_run.probes("backoff")
    assert [p["attempt"] for p in probes] == [1, 2, 3]
    assert len({p["out_uri"] for p in probes}) == 1  # every attempt writes to the same output URI
    (out,) = retries_run.view.artifacts_of(execution.id, "OUTPUT")["out"]
    assert out.uri == probes[0]["out_uri"]
    # <pipeline root>/<pipeline name>/<run id>/<task key>/<uuid>/<output key>
    root = retries_run.home.resolve() / "pipeline_root" / "retries" / retries_run.run_id / "flaky"
    assert Path(out.uri).parent.parent == root
    assert Path(out.uri).name == "out"
    assert re.fullmatch(r"[0-9a-f]{32}", Path(out.uri).parent.name)


def test_the_waits_between_attempts_follow_the_backoff_duration_and_factor(retries_run: FinishedRun) -> None:
    execution = _flaky(retries_run, "backoff")
    first_wait, second_wait = _gaps(execution)
    assert first_wait >= 1.0  # backoff_duration 1s
    assert second_wait >= 1.5  # times backoff_factor 1.5


def test_retries_stop_after_max_retry_count(retries_run: FinishedRun) -> None:
    execution = retries_run.execution("flaky-2")
    assert execution.state == FAILED
    assert _attempt_states(execution) == [FAILED, FAILED]  # one try and num_retries=1
    assert "failing attempt 2 on purpose" in execution.properties["error"]
    assert retries_run.returncode == 1


def test_no_retry_starts_once_its_wait_would_pass_backoff_max_duration(retries_run: FinishedRun) -> None:
    execution = retries_run.execution("flaky-3")
    # Waits would be 1s then 2s; the second would end past the 2s window, so 2 of the 6 allowed attempts run.
    assert _attempt_states(execution) == [FAILED, FAILED]
    assert [p["attempt"] for p in retries_run.probes("window")] == [1, 2]


def test_a_nested_pipeline_retry_policy_applies_to_its_tasks(retries_run: FinishedRun) -> None:
    inner = retries_run.execution("inner", type=DAG_EXECUTION)
    (task,) = retries_run.children(inner)
    assert (task.task_name, task.state) == ("flaky", COMPLETE)
    assert _attempt_states(task) == [FAILED, COMPLETE]
    assert inner.state == COMPLETE
    assert [p["attempt"] for p in retries_run.probes("inherited")] == [1, 2]
