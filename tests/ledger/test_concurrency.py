"""Many processes writing one store at once lose and duplicate nothing; a writer killed at any instant
leaves every earlier record readable and the store writable."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from multiprocessing.synchronize import Barrier
from pathlib import Path

from ledger import journal
from ledger.model import COMPLETE, CONTAINER_EXECUTION, RUNNING, Artifact, ArtifactDraft
from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from ledger.store import CacheEntry, Ledger
from spec.errors import LedgerError

# fork: the workers are functions of this test module, which spawned interpreters could not import.
FORK = multiprocessing.get_context("fork")
WORKERS, APPENDS = 16, 50


def _run_workers(target: object, *args: object, count: int = WORKERS) -> None:
    barrier = FORK.Barrier(count)
    processes = [FORK.Process(target=target, args=(barrier, number, *args)) for number in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * count


def _create_executions(barrier: Barrier, worker: int, home: Path) -> None:
    run = Ledger(home).open_run("shared")
    barrier.wait()
    for number in range(APPENDS):
        execution_id = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING,
                                            properties=[RecordedProperties({"worker": worker, "n": number})])
        if number % 10 == 0:
            draft = ArtifactDraft("system.Artifact", f"/{worker}/{number}", {}, "out")
            run.publish_execution(execution_id, state=COMPLETE, properties=[], new_artifacts={"out": [draft]})


def test_many_processes_creating_executions_in_one_run_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    Ledger(tmp_path).create_run(RunHeader.from_json({"run_id": "shared", "pipeline_name": "p"}))

    _run_workers(_create_executions, tmp_path)

    view = Ledger(tmp_path).open_run("shared").view()
    written = Counter((e.properties["worker"], e.properties["n"]) for e in view.executions.values())
    assert written == Counter({(w, n): 1 for w in range(WORKERS) for n in range(APPENDS)})
    published = [e for e in view.executions.values() if e.state == COMPLETE]
    assert len(published) == WORKERS * APPENDS // 10
    artifact_ids = [a.id for e in published for a in view.artifacts_of(e.id, "OUTPUT")["out"]]
    assert len(set(artifact_ids) | set(view.executions)) == len(artifact_ids) + len(view.executions)


def _add_cache_entries(barrier: Barrier, worker: int, home: Path) -> None:
    ledger = Ledger(home)
    barrier.wait()
    for number in range(APPENDS):
        fingerprint = f"{worker:032x}{number:032x}"
        artifact = Artifact(id=0, type="system.Model", uri=f"/{worker}/{number}", state="LIVE", properties=[],
                            create_time=0.0)
        ledger.add_cache_entry("p", CacheEntry(fingerprint=fingerprint, run_id="r", execution_id=number,
                                               outputs={"worker": worker}, artifacts={"m": [artifact]}))


def test_many_processes_adding_cache_entries_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    Ledger(tmp_path)

    _run_workers(_add_cache_entries, tmp_path)

    partitions = (tmp_path / "ledger" / "cache").glob("*/*.jsonl")
    records = [record for path in partitions for record in journal.read_all(path)]
    assert Counter(r["fingerprint"] for r in records) == Counter(
        {f"{w:032x}{n:032x}": 1 for w in range(WORKERS) for n in range(APPENDS)}
    )
    ledger = Ledger(tmp_path)
    assert [e.outputs for e in ledger.lookup_cache("p", f"{5:032x}{7:032x}")] == [{"worker": 5}]


def _drive_a_run(barrier: Barrier, worker: int, home: Path) -> None:
    ledger = Ledger(home)
    barrier.wait()
    run = ledger.create_run(RunHeader.from_json({"run_id": f"run-{worker}", "pipeline_name": "p"}))
    root = run.create_execution(type="system.DAGExecution", state=RUNNING, properties=[])
    for number in range(10):
        task = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING,
                                    properties=[RecordedProperties({"parent_dag_id": root, "n": number})])
        run.update_execution(task, state=COMPLETE)
    run.update_execution(root, state=COMPLETE)
    run.finish_run(COMPLETE)


def test_drivers_running_runs_against_one_home_at_once_all_succeed(tmp_path: Path) -> None:
    Ledger(tmp_path)

    _run_workers(_drive_a_run, tmp_path, count=4)

    ledger = Ledger(tmp_path)
    runs = sorted((run.run_id, run.state) for run in ledger.list_runs())
    assert runs == [(f"run-{w}", COMPLETE) for w in range(4)]
    all_ids = [i for w in range(4) for i in ledger.open_run(f"run-{w}").view().executions]
    assert len(all_ids) == len(set(all_ids)) == 44


def _create_same_run(barrier: Barrier, worker: int, home: Path, outcomes: Path) -> None:
    ledger = Ledger(home)
    barrier.wait()
    try:
        ledger.create_run(RunHeader.from_json({"run_id": "same", "pipeline_name": "p", "worker": worker}))
        outcome = "created"
    except LedgerError:
        outcome = "refused"
    with open(outcomes, "a") as handle:
        handle.write(outcome + "\n")


def test_two_drivers_creating_the_same_run_id_at_once_only_one_succeeds(tmp_path: Path) -> None:
    Ledger(tmp_path)
    outcomes = tmp_path / "outcomes"

    _run_workers(_create_same_run, tmp_path, outcomes, count=8)

    assert sorted(outcomes.read_text().split()) == ["created"] + ["refused"] * 7
    assert len(journal.read_all(tmp_path / "ledger" / "runs" / "same.jsonl")) == 1


def _append_forever(home: Path, path: Path, start: int) -> None:
    ledger = Ledger(home)
    padding = "x" * 1_000_000  # records big enough that a kill often lands inside a write (a torn tail)
    number = start
    while True:
        ledger.append(path, [{"kind": "note", "n": number, "padding": padding}])
        number += 1


def test_a_writer_killed_at_random_moments_loses_at_most_its_in_flight_record(tmp_path: Path) -> None:
    Ledger(tmp_path)
    path = tmp_path / "ledger" / "killed.jsonl"  # a journal of its own (a run journal needs its header first)
    chance = random.Random(4)
    expected = 0
    for _ in range(6):
        child = FORK.Process(target=_append_forever, args=(tmp_path, path, expected))
        child.start()
        time.sleep(chance.uniform(0.02, 0.15))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join()
        numbers = [record["n"] for record in journal.read_all(path)]
        assert numbers == list(range(len(numbers)))  # every earlier record, in order, nothing twice
        assert len(numbers) >= expected
        expected = len(numbers)

    Ledger(tmp_path).append(path, [{"kind": "note", "n": expected}])
    assert [record["n"] for record in journal.read_all(path)] == list(range(expected + 1))


def _open_as_a_driver_does(barrier: Barrier, worker: int, home: Path) -> None:
    """What `python -m driver` does on a home: look for a store without creating one, then create it."""
    barrier.wait()
    if (home / "ledger").is_dir():
        Ledger(home, create=False)  # raised "no ledger in HOME" while another process was creating it
    Ledger(home).create_run(RunHeader.from_json({"run_id": f"run-{worker}", "pipeline_name": "p"}))


def test_processes_starting_at_once_on_a_fresh_home_all_find_a_whole_store(tmp_path: Path) -> None:
    for attempt in range(15):
        home = tmp_path / f"home-{attempt}"
        _run_workers(_open_as_a_driver_does, home, count=8)
        assert sorted(run.run_id for run in Ledger(home).list_runs()) == [f"run-{n}" for n in range(8)]
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
