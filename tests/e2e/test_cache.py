"""Caching end to end (tests/pipelines/cache_chain.py): hits across runs of one pipeline name in one home,
misses for what changed and everything downstream of it, `--no-cache`, caching turned off, a custom cache
key, no entries from failed executions, deleted artifact files, and no sharing between pipeline names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger import journal
from ledger.model import CACHED, CANCELED, COMPLETE, FAILED
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

CACHEABLE = ("produce", "consume", "keyed")  # every task the default run executes, but `uncached`


@dataclass
class Runs:
    """cache_chain.py run several times in one home, in this order."""

    first: FinishedRun  # defaults: everything runs
    second: FinishedRun  # the same again: every cacheable task is a hit
    new_suffix: FinishedRun  # -p suffix=?: only `consume` reads it
    new_text: FinishedRun  # -p text=xyz: `produce` and its consumer miss; `keyed` has a custom key
    no_cache: FinishedRun  # --no-cache: nothing is looked up


@pytest.fixture(scope="module")
def runs(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    package = compile_pipeline("cache_chain")
    home = tmp_path_factory.mktemp("cache-home")
    found = Runs(
        first=run_driver(package, home=home, run_id="first"),
        second=run_driver(package, home=home, run_id="second"),
        new_suffix=run_driver(package, "-p", "suffix=?", home=home, run_id="new-suffix"),
        new_text=run_driver(package, "-p", "text=xyz", home=home, run_id="new-text"),
        no_cache=run_driver(package, "--no-cache", home=home, run_id="no-cache"),
    )
    for run in (found.first, found.second, found.new_suffix, found.new_text, found.no_cache):
        assert run.returncode == 0, run.output
        assert run.view.state == COMPLETE
    return found


def _output_ids(run: FinishedRun, execution_id: int) -> dict[str, list[int]]:
    outputs = run.view.artifacts_of(execution_id, "OUTPUT")
    return {name: [a.id for a in items] for name, items in outputs.items()}


def _cache_records(home: Path) -> list[dict[str, object]]:
    paths = (home / "ledger" / "cache").glob("*/*.jsonl")
    return [record for path in paths for record in journal.read_all(path)]


def test_a_second_run_links_the_first_runs_executions_and_artifacts(runs: Runs) -> None:
    first, second = runs.first, runs.second
    for task in CACHEABLE:
        original, hit = first.execution(task), second.execution(task)
        assert original.state == COMPLETE
        assert hit.state == CACHED, hit.to_json()
        assert hit.properties["cached_execution_id"] == original.id
        assert hit.properties["cache_fingerprint"] == original.properties["cache_fingerprint"]
        assert hit.properties["outputs"] == original.properties["outputs"]
        assert _output_ids(second, hit.id) == _output_ids(first, original.id)
    # The consumer of a cached producer reads the very artifact the first run wrote.
    produced = first.view.artifacts_of(first.execution("produce").id, "OUTPUT")["data"][0].id
    consumed = second.view.artifacts_of(second.execution("consume").id, "INPUT")["data"]
    assert [a.id for a in consumed] == [produced]


def test_a_cache_hit_starts_no_launcher_and_says_cached_on_the_console(runs: Runs) -> None:
    second = runs.second
    assert second.tags() == {"uncached"}  # no cached component printed anything: none ran
    for task in CACHEABLE:
        hit = second.execution(task)
        assert hit.attempts == []
        assert "task_dir" not in hit.properties and "log" not in hit.properties
        original = runs.first.execution(task).id
        assert f"{task} CACHED (from execution {original} of run first)" in second.completed.stdout
    task_dirs = sorted(path.name.rsplit("-", 1)[0] for path in (second.home / "runs" / "second").iterdir())
    assert task_dirs == ["uncached"]


def test_the_ledger_cli_shows_the_hits(runs: Runs) -> None:
    shown = run_cli("ledger", "show", "second", "--json", home=runs.second.home)
    assert shown.returncode == 0, shown.stderr
    by_task = {e["task_name"]: e for e in json.loads(shown.stdout)["executions"]}
    assert by_task["produce"]["state"] == CACHED
    assert by_task["produce"]["cached_execution_id"] == runs.first.execution("produce").id


def test_dags_whose_tasks_were_all_cache_hits_are_complete(runs: Runs) -> None:
    second = runs.second
    # condition-2 (marker-group) is false with the default empty marker.
    assert second.dag_states() == {"": [COMPLETE], "condition-1": [COMPLETE], "condition-2": [CANCELED]}
    assert second.root().state == COMPLETE


def test_a_changed_parameter_misses_only_for_the_task_that_reads_it(runs: Runs) -> None:
    run = runs.new_suffix
    assert run.execution("produce").state == CACHED
    assert run.execution("keyed").state == CACHED
    assert run.execution("consume").state == COMPLETE
    assert "cached_execution_id" not in run.execution("consume").properties
    assert run.probe("consume")["suffix"] == "?"
    assert run.tags() == {"consume", "uncached"}


def test_a_changed_upstream_misses_downstream_too_and_a_custom_key_ignores_inputs(runs: Runs) -> None:
    run = runs.new_text
    assert run.execution("produce").state == COMPLETE
    assert run.execution("consume").state == COMPLETE  # its input artifact is a new one
    assert run.probe("consume")["text"] == "xyz"
    # `keyed` caches on its key alone: a hit although its input changed, with the first run's output.
    keyed = run.execution("keyed")
    assert keyed.state == CACHED
    assert keyed.properties["inputs"] == {"text": "xyz"}
    assert keyed.properties["outputs"] == {"Output": "abc"}
    assert keyed.properties["cached_execution_id"] == runs.first.execution("keyed").id
    assert run.tags() == {"produce", "consume", "uncached"}


def test_no_cache_runs_every_task(runs: Runs) -> None:
    run = runs.no_cache
    assert run.tags() == {"produce", "consume", "keyed", "uncached"}
    for task in (*CACHEABLE, "uncached"):
        assert run.execution(task).state == COMPLETE
        assert "cached_execution_id" not in run.execution(task).properties


def test_a_task_with_caching_off_is_never_cached_and_leaves_no_entry(runs: Runs) -> None:
    for run in (runs.first, runs.second, runs.new_suffix, runs.new_text):
        uncached = run.execution("uncached")
        assert uncached.state == COMPLETE
        assert not uncached.properties["cache_fingerprint"]
    uncached_ids = {run.execution("uncached").id for run in (runs.first, runs.second)}
    assert not uncached_ids & {record["execution_id"] for record in _cache_records(runs.first.home)}


def test_a_failed_execution_creates_no_entry(compile_pipeline: CompilePipeline, lpl_home: Path) -> None:
    package = compile_pipeline("cache_chain")
    marker = lpl_home.parent / "marker"
    failed = run_driver(package, "-p", f"marker={marker}", home=lpl_home, run_id="failed")
    assert failed.returncode == 1, failed.output
    failed_id = failed.execution("needs-marker").id
    assert failed.execution("needs-marker").state == FAILED
    assert failed_id not in {record["execution_id"] for record in _cache_records(lpl_home)}

    marker.touch()
    fixed = run_driver(package, "-p", f"marker={marker}", home=lpl_home, run_id="fixed")
    assert fixed.returncode == 0, fixed.output
    rerun = fixed.execution("needs-marker")
    assert rerun.state == COMPLETE
    assert "cached_execution_id" not in rerun.properties
    assert fixed.probe("needs-marker")["present"] is True
    assert fixed.execution("produce").state == CACHED  # the tasks that succeeded before are hits

    again = run_driver(package, "-p", f"marker={marker}", home=lpl_home, run_id="again")
    assert again.execution("needs-marker").state == CACHED
    assert again.execution("needs-marker").properties["cached_execution_id"] == rerun.id


def test_a_hit_whose_artifact_file_was_deleted_is_a_miss(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = compile_pipeline("cache_chain")
    first = run_driver(package, home=lpl_home, run_id="first")
    assert first.returncode == 0, first.output
    data = first.view.artifacts_of(first.execution("produce").id, "OUTPUT")["data"][0]
    Path(data.uri).unlink()

    second = run_driver(package, home=lpl_home, run_id="second")
    assert second.returncode == 0, second.output
    assert second.view.state == COMPLETE
    produce = second.execution("produce")
    assert produce.state == COMPLETE
    assert "cached_execution_id" not in produce.properties
    new_data = second.view.artifacts_of(produce.id, "OUTPUT")["data"][0]
    assert new_data.id != data.id and Path(new_data.uri).read_text() == "abc"
    assert second.execution("consume").state == COMPLETE  # a new input artifact: a new fingerprint
    assert second.execution("keyed").state == CACHED  # untouched entries still hit
    assert second.tags() == {"produce", "consume", "uncached"}


def test_a_different_pipeline_name_shares_no_entries(
    runs: Runs, compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    renamed = tmp_path / "renamed.json"
    spec = json.loads(compile_pipeline("cache_chain").read_text())
    spec["pipelineInfo"]["name"] = "cache-chain-renamed"  # the only difference
    renamed.write_text(json.dumps(spec))
    home = runs.first.home  # holds entries of cache-chain for exactly these inputs

    other = run_driver(renamed, home=home, run_id="renamed")
    assert other.returncode == 0, other.output
    assert [other.execution(task).state for task in CACHEABLE] == [COMPLETE] * 3
    again = run_driver(renamed, home=home, run_id="renamed-again")
    for task in CACHEABLE:
        assert again.execution(task).properties["cached_execution_id"] == other.execution(task).id
