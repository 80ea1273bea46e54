"""The store: id allocation, schema version, runs and their index, the cache, damage reporting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import CACHED, COMPLETE, CONTAINER_EXECUTION, FAILED, RUNNING, Artifact, ArtifactDraft
from ledger.properties import AttemptEnd, RecordedProperties
from ledger.run_header import RunHeader
from ledger.store import CacheEntry, Ledger, RunLedger, check_run_id
from spec.errors import LedgerCorrupt, LedgerError


def _run(ledger: Ledger, run_id: str = "r1", **header: object) -> RunLedger:
    header = {"run_id": run_id, "pipeline_name": "p", "pipeline_spec": {"big": "x"}, **header}
    return ledger.create_run(RunHeader.from_json(header))


def _execution(run: RunLedger, task: str = "t") -> int:
    return run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING,
        properties=[RecordedProperties({"task_name": task})])


def test_ids_are_unique_and_increasing_across_ledger_instances(tmp_path: Path) -> None:
    ids = []
    for number in range(3):
        run = _run(Ledger(tmp_path), f"r{number}")
        ids += [_execution(run) for _ in range(3)]
        ids += [a.id for a in run.publish_execution(
            ids[-1], state=COMPLETE, properties=[],
            new_artifacts={"out": [ArtifactDraft("system.Dataset", "/x", {}, "out")]})["out"]]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_lost_id_counter_continues_after_the_largest_recorded_id(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    run = _run(ledger)
    largest = max(_execution(run) for _ in range(5))
    (tmp_path / "ledger" / "sequence").unlink()

    assert _execution(run) == largest + 1


def test_a_damaged_id_counter_continues_after_the_largest_recorded_id(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    run = _run(ledger)
    largest = max(_execution(run) for _ in range(5))
    with open(tmp_path / "ledger" / "sequence", "ab") as handle:
        handle.write(b"\x00\x00\x00\n")

    assert _execution(run) == largest + 1


def test_a_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    Ledger(tmp_path)
    (tmp_path / "ledger" / "store.json").write_text(json.dumps({"schema_version": 99}))

    with pytest.raises(LedgerError, match="schema version 99") as caught:
        Ledger(tmp_path)
    assert not isinstance(caught.value, LedgerCorrupt)


def test_an_unreadable_store_header_is_damage(tmp_path: Path) -> None:
    Ledger(tmp_path)
    (tmp_path / "ledger" / "store.json").write_text("")

    with pytest.raises(LedgerCorrupt, match=r"store\.json:1"):
        Ledger(tmp_path)


def test_a_store_that_lost_its_header_is_not_silently_recreated(tmp_path: Path) -> None:
    _run(Ledger(tmp_path))
    (tmp_path / "ledger" / "store.json").unlink()

    with pytest.raises(LedgerCorrupt, match="store header missing"):
        Ledger(tmp_path)


def test_opening_without_create_refuses_an_empty_home_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger(tmp_path, create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_run_cannot_be_created_twice(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _run(ledger)

    with pytest.raises(LedgerError, match="already exists"):
        _run(ledger)


@pytest.mark.parametrize("run_id", ["", "../escape", "a/b", ".hidden", "x" * 200, "trailing\n"])
def test_run_ids_that_are_not_plain_file_names_are_refused(run_id: str) -> None:
    with pytest.raises(LedgerError, match="invalid run id"):
        check_run_id(run_id)


def test_list_runs_reports_each_run_with_its_final_state(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _run(ledger, "r1").finish_run(COMPLETE)
    _run(ledger, "r2").finish_run(FAILED)
    _run(ledger, "r3")

    runs = {run.run_id: run for run in ledger.list_runs()}

    assert {k: r.state for k, r in runs.items()} == {"r1": COMPLETE, "r2": FAILED, "r3": RUNNING}
    assert runs["r1"].end_time is not None and runs["r3"].end_time is None
    assert runs["r1"].pipeline_name == "p"


def test_the_run_index_leaves_the_pipeline_spec_in_the_run_journal(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    run = _run(ledger)

    assert "pipeline_spec" not in (tmp_path / "ledger" / "runs.jsonl").read_text()
    assert run.view().header.pipeline_spec == {"big": "x"}


def test_a_run_missing_from_the_index_is_still_listed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _run(ledger, "r1").finish_run(COMPLETE)
    (tmp_path / "ledger" / "runs.jsonl").unlink()  # as if the driver died between the two writes

    [run] = ledger.list_runs()

    assert (run.run_id, run.pipeline_name, run.state) == ("r1", "p", COMPLETE)


def test_an_unknown_run_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no run 'nope'"):
        Ledger(tmp_path).open_run("nope")


def _entry(fingerprint: str, execution_id: int, output: int) -> CacheEntry:
    artifact = Artifact(id=execution_id + 1000, type="system.Model", uri=f"/m/{output}", state="LIVE",
                        properties={"display_name": "model"}, create_time=0.0)
    return CacheEntry(fingerprint=fingerprint, run_id="r", execution_id=execution_id, outputs={"o": output},
                      artifacts={"model": [artifact]}, required_files=(f"/m/{output}",))


def test_cache_lookup_returns_entries_for_the_fingerprint_newest_first(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    wanted = "0" * 64
    neighbour = next(f"{n:064x}" for n in range(1, 10_000)
                     if ledger._cache_path("p", f"{n:064x}") == ledger._cache_path("p", wanted))
    for number in range(3):
        ledger.add_cache_entry("p", _entry(wanted, number, number))
        ledger.add_cache_entry("p", _entry(neighbour, 10 + number, number))  # in the same file

    found = ledger.lookup_cache("p", wanted)

    assert [entry.execution_id for entry in found] == [2, 1, 0]
    assert found[0].outputs == {"o": 2}
    assert found[0].artifacts["model"][0].uri == "/m/2"
    assert found[0].required_files == ("/m/2",)
    assert found[0].create_time >= found[1].create_time


def test_cache_entries_are_kept_per_pipeline_and_a_miss_is_empty(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.add_cache_entry("p", _entry("f" * 64, 1, 1))

    assert ledger.lookup_cache("other", "f" * 64) == []
    assert ledger.lookup_cache("p", "e" * 64) == []


def test_publish_links_new_and_existing_artifacts_to_the_execution(tmp_path: Path) -> None:
    run = _run(Ledger(tmp_path))
    producer = _execution(run, "producer")
    published = run.publish_execution(
        producer, state=COMPLETE, properties=[RecordedProperties({"outputs": {"n": 1}})],
        new_artifacts={"data": [ArtifactDraft("system.Dataset", "/d", {"rows": 3}, "data")]},
        attempt=AttemptEnd(number=0, start=1.0, end=2.0, exit_code=0, state=COMPLETE, error=""),
    )
    consumer = run.create_execution(type=CONTAINER_EXECUTION, state=CACHED, properties=[],
                                    input_artifacts={"data": published["data"]})

    view = run.view()
    assert view.executions[producer].state == COMPLETE
    assert view.executions[producer].attempts == [
        {"number": 0, "start": 1.0, "end": 2.0, "exit_code": 0, "state": COMPLETE, "error": ""}
    ]
    assert view.artifacts_of(producer, "OUTPUT")["data"][0].properties == {"rows": 3, "display_name": "data"}
    assert view.artifacts_of(consumer, "INPUT")["data"][0].id == published["data"][0].id


def test_a_second_reader_of_a_run_sees_what_the_first_writes(tmp_path: Path) -> None:
    writer = _run(Ledger(tmp_path))
    reader = Ledger(tmp_path).open_run("r1")
    assert reader.view().executions == {}

    execution_id = _execution(writer)
    writer.update_execution(execution_id, state=FAILED, properties=[RecordedProperties({"error": "boom"})])

    assert reader.view().executions[execution_id].state == FAILED
    assert reader.view().executions[execution_id].properties["error"] == "boom"


def test_a_record_that_does_not_fit_the_run_is_damage_at_its_own_line(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    run = _run(ledger)
    _execution(run)
    ledger.append(run.path, [{"kind": "execution_update", "id": 999, "state": COMPLETE}])
    _execution(run)

    fresh = ledger.open_run("r1")
    for _ in range(2):  # reported on every call, not only the first
        with pytest.raises(LedgerCorrupt) as caught:
            fresh.view()
        assert caught.value.line == 3


def test_a_store_that_cannot_be_written_raises_a_ledger_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    (tmp_path / "ledger" / "runs").rmdir()
    (tmp_path / "ledger" / "runs").write_text("not a directory")

    with pytest.raises(LedgerError, match="cannot write the ledger"):
        _run(ledger)


# Issue 15 ----------------------------------------------------------------------------------------------


def test_a_driver_killed_between_the_two_writes_of_finish_run_lists_the_final_state(tmp_path: Path) -> None:
    # Item 8: the journal got its run_update, the index did not.
    ledger = Ledger(tmp_path)
    run = _run(ledger, "r1")
    ledger.append(run.path, [{"kind": "run_update", "run_id": "r1", "state": FAILED}])

    [summary] = ledger.list_runs()

    assert (summary.state, summary.end_time is not None) == (FAILED, True)


def test_a_run_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    # Item 2: a lock, not a pid check. A second holder (another open file, as another process has) is refused.
    import subprocess
    import sys

    ledger = Ledger(tmp_path)
    _run(ledger, "r1")
    ledger.lock_run("r1")
    other = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from ledger.store import Ledger;"
         " Ledger(Path(sys.argv[1])).lock_run('r1')", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )

    assert other.returncode != 0 and "RunBusy" in other.stderr and "still running" in other.stderr


@pytest.mark.parametrize("damage", ["emptied", "headerless"])
def test_a_journal_without_its_header_is_damage_not_an_empty_run(tmp_path: Path, damage: str) -> None:
    # Item 6: it used to fold to an empty RUNNING run.
    ledger = Ledger(tmp_path)
    run = _run(ledger, "r1")
    _execution(run)
    lines = run.path.read_text().splitlines(keepends=True)
    run.path.write_text("" if damage == "emptied" else "".join(lines[1:]))

    with pytest.raises(LedgerCorrupt, match=rf"{run.path}:1: ledger damaged"):
        Ledger(tmp_path).open_run("r1").view()


def test_one_damaged_run_journal_leaves_the_other_runs_listed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _run(ledger, "good").finish_run(COMPLETE)
    bad = _run(ledger, "bad")
    _execution(bad)
    _execution(bad)
    (tmp_path / "ledger" / "runs.jsonl").unlink()  # listed from their journals, as an unfinished run is
    lines = bad.path.read_text().splitlines(keepends=True)
    bad.path.write_text(lines[0] + "{damaged\n" + "".join(lines[2:]))

    runs = {run.run_id: run for run in ledger.list_runs()}

    assert runs["good"].state == COMPLETE and runs["good"].damage == ""
    assert runs["bad"].state == "DAMAGED" and f"{bad.path}:2" in runs["bad"].damage


def test_a_damaged_cache_partition_is_reported_with_file_and_line(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    entry = CacheEntry(fingerprint="f", run_id="r1", execution_id=1, outputs={}, artifacts={})
    ledger.add_cache_entry("p", entry)
    ledger.add_cache_entry("p", entry)
    [partition] = (tmp_path / "ledger" / "cache").glob("*/*.jsonl")
    first, second = partition.read_text().splitlines(keepends=True)
    partition.write_text(first.replace('"execution_id":1', '"execution_id":"one"') + second)

    with pytest.raises(LedgerCorrupt, match=rf"{partition}:1: ledger damaged: cache record does not fit"):
        ledger.lookup_cache("p", "f")


def test_a_store_without_its_header_is_damage_when_opened_for_reading(tmp_path: Path) -> None:
    _run(Ledger(tmp_path))
    (tmp_path / "ledger" / "store.json").unlink()

    with pytest.raises(LedgerCorrupt, match="store header missing"):
        Ledger(tmp_path, create=False)


def test_a_home_that_is_a_file_is_one_ledger_error(tmp_path: Path) -> None:
    home = tmp_path / "file"
    home.write_text("")

    with pytest.raises(LedgerError, match="cannot open the ledger"):
        Ledger(home)


def test_a_runs_directory_that_is_a_file_is_damage_not_an_empty_store(tmp_path: Path) -> None:
    Ledger(tmp_path)
    (tmp_path / "ledger" / "runs").rmdir()
    (tmp_path / "ledger" / "runs").write_text("")

    with pytest.raises(LedgerCorrupt, match="not a directory"):
        Ledger(tmp_path, create=False)
