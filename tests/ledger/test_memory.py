"""The in-memory ledger behaves as the JSON store does, without touching the disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.memory import MemoryLedger
from ledger.model import COMPLETE, CONTAINER_EXECUTION, FAILED, RUNNING, ArtifactDraft
from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from ledger.store import CacheEntry
from spec.errors import LedgerError


def test_a_run_recorded_in_memory_folds_like_one_on_disk(tmp_path: Path) -> None:
    ledger = MemoryLedger(tmp_path / "never-created")
    run = ledger.create_run(
        RunHeader.from_json({"run_id": "r", "pipeline_name": "p", "parameters": {"t": (1, 2)}}))
    execution_id = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING,
        properties=[RecordedProperties({"a": 1})])
    published = run.publish_execution(execution_id, state=COMPLETE,
        properties=[RecordedProperties({"outputs": {"n": 1}})],
        new_artifacts={"data": [ArtifactDraft("system.Dataset", "/d", {}, "data")]})
    run.finish_run(COMPLETE)

    view = ledger.open_run("r").view()
    assert view.header.parameters == {"t": [1, 2]}  # through JSON, as on disk
    assert view.executions[execution_id].state == COMPLETE
    assert view.artifacts_of(execution_id, "OUTPUT")["data"][0].id == published["data"][0].id
    assert [(r.run_id, r.state) for r in ledger.list_runs()] == [("r", COMPLETE)]
    assert not (tmp_path / "never-created").exists()


def test_the_memory_ledger_refuses_what_the_store_refuses() -> None:
    ledger = MemoryLedger()
    ledger.create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p"})).finish_run(FAILED)

    with pytest.raises(LedgerError, match="already exists"):
        ledger.create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p"}))
    with pytest.raises(LedgerError, match="no run"):
        ledger.open_run("other")


def test_memory_cache_lookup_is_newest_first() -> None:
    ledger = MemoryLedger()
    for execution_id in (1, 2, 3):
        ledger.add_cache_entry("p", CacheEntry(fingerprint="ab" * 32, run_id="r", execution_id=execution_id,
                                               outputs={}, artifacts={}))

    assert [e.execution_id for e in ledger.lookup_cache("p", "ab" * 32)] == [3, 2, 1]
    assert ledger.lookup_cache("p", "cd" * 32) == []
