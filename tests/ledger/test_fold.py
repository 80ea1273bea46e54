"""Folding any sequence of create/update/publish gives the state last written, merged properties and
attempts, and events that link existing executions and artifacts, however often the view is refreshed."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.memory import MemoryLedger
from ledger.model import CONTAINER_EXECUTION, DAG_EXECUTION, Artifact, ArtifactDraft, RunView
from ledger.properties import AttemptEnd, AttemptStart, RecordedProperties
from ledger.run_header import RunHeader
from ledger.store import Ledger, RunLedger

STATES = st.sampled_from(["RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED"])
VALUES = st.integers() | st.text(max_size=4)
PROPERTIES = st.dictionaries(st.sampled_from(["a", "b", "outputs"]), VALUES, max_size=2)
PICK = st.integers(0, 1000)  # an index into what exists, modulo its size
PICKS = st.lists(PICK, max_size=2)
TYPES = st.sampled_from([CONTAINER_EXECUTION, DAG_EXECUTION])
# An attempt's start, or its end (with or without a process, a start, an exit code), as writers record them.
ATTEMPTS = st.one_of(
    st.builds(AttemptStart, number=st.integers(0, 2), start=st.floats(0, 10), pid=st.integers(1, 99)),
    st.builds(AttemptEnd, number=st.integers(0, 2), end=st.floats(0, 10), state=STATES,
        error=st.text(max_size=3),
              start=st.none() | st.floats(0, 10), exit_code=st.none() | st.integers(), process=st.booleans()),
)

CREATE = st.tuples(st.just("create"), TYPES, STATES, PROPERTIES, PICKS)
UPDATE = st.tuples(st.just("update"), PICK, st.none() | STATES, PROPERTIES, st.none() | ATTEMPTS)
PUBLISH = st.tuples(st.just("publish"), PICK, STATES, PROPERTIES, st.integers(0, 2), PICKS)
OPERATIONS = st.lists(st.one_of(CREATE, UPDATE, PUBLISH, st.tuples(st.just("view"))), max_size=25)


@dataclass
class Expected:
    """What the fold must show, kept by replaying the operations on plain dictionaries."""

    states: dict[int, str] = field(default_factory=dict)
    properties: dict[int, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    outputs: dict[int, dict[str, list[int]]] = field(default_factory=dict)


def _apply(run: RunLedger, expected: Expected, operation: tuple[Any, ...]) -> None:
    kind, executions = operation[0], sorted(expected.states)
    if kind == "view":
        run.view()
    elif kind == "create":
        _, type_, state, properties, picks = operation
        linked = _pick(expected.artifacts, picks)
        new_id = run.create_execution(type=type_, state=state, properties=[RecordedProperties(properties)],
                                      input_artifacts={"in": linked} if linked else None)
        expected.states[new_id] = state
        expected.properties[new_id] = properties
        expected.attempts[new_id] = {}
    elif executions and kind == "update":
        _, pick, state, properties, attempt = operation
        _update(run, expected, executions[pick % len(executions)], state, properties, attempt)
    elif executions and kind == "publish":
        _, pick, state, properties, new_count, picks = operation
        _publish(run, expected, executions[pick % len(executions)], state, properties, new_count, picks)


def _pick(artifacts: list[Artifact], picks: list[int]) -> list[Artifact]:
    return [artifacts[i % len(artifacts)] for i in picks] if artifacts else []


def _update(run: RunLedger, expected: Expected, execution_id: int, state: str | None,
            properties: dict[str, Any], attempt: AttemptStart | AttemptEnd | None) -> None:
    run.update_execution(execution_id, state=state,
        properties=[RecordedProperties(properties)], attempt=attempt)
    record = None if attempt is None else attempt.to_json()
    if state is not None:
        expected.states[execution_id] = state
    expected.properties[execution_id] = {**expected.properties[execution_id], **properties}
    if record is not None:
        expected.attempts[execution_id].setdefault(record["number"], {}).update(record)


def _publish(run: RunLedger, expected: Expected, execution_id: int, state: str, properties: dict[str, Any],
             new_count: int, picks: list[int]) -> None:
    drafts = [ArtifactDraft("system.Dataset", f"/d/{execution_id}/{n}", {"n": n}, "new")
        for n in range(new_count)]
    linked = _pick(expected.artifacts, picks)
    published = run.publish_execution(execution_id, state=state, properties=[RecordedProperties(properties)],
                                      new_artifacts={"new": drafts} if drafts else None,
                                      linked_artifacts={"old": linked} if linked else None)
    expected.artifacts.extend(published.get("new", []))
    for name, artifacts in published.items():
        expected.outputs.setdefault(execution_id, {}).setdefault(name, []).extend(a.id for a in artifacts)
    expected.states[execution_id] = state
    expected.properties[execution_id] = {**expected.properties[execution_id], **properties}


def _check(view: RunView, expected: Expected) -> None:
    assert set(view.executions) == set(expected.states)
    for execution_id, execution in view.executions.items():
        assert execution.state == expected.states[execution_id]
        assert execution.properties == expected.properties[execution_id]
        assert {a["number"]: a for a in execution.attempts} == expected.attempts[execution_id]
        outputs = view.artifacts_of(execution_id, "OUTPUT")
        assert {name: [a.id for a in items] for name, items in outputs.items()} == expected.outputs.get(
            execution_id, {})
    for event in view.events:
        assert event.execution_id in view.executions and event.artifact_id in view.artifacts
    ids = [*view.executions, *{a.id for a in expected.artifacts}]
    assert len(ids) == len(set(ids))


def _same_fold(a: RunView, b: RunView) -> None:
    assert a.executions.keys() == b.executions.keys()
    assert [(e.state, e.properties, e.attempts) for e in a.executions.values()] == [
        (e.state, e.properties, e.attempts) for e in b.executions.values()]
    assert a.artifacts == b.artifacts
    assert a.events == b.events


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_the_fold_shows_what_was_last_written_however_often_it_is_refreshed(operations: list[Any]) -> None:
    ledger = MemoryLedger()
    run = ledger.create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p"}))
    expected = Expected()
    for operation in operations:
        _apply(run, expected, operation)

    _check(run.view(), expected)
    _same_fold(run.view(), ledger.open_run("r").view())  # incremental == from scratch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_the_store_on_disk_folds_as_the_memory_double_does(operations: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as home:
        on_disk = Ledger(Path(home)).create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p"}))
        in_memory = MemoryLedger().create_run(RunHeader.from_json({"run_id": "r", "pipeline_name": "p"}))
        expected_disk, expected_memory = Expected(), Expected()
        for operation in operations:
            _apply(on_disk, expected_disk, operation)
            _apply(in_memory, expected_memory, operation)

        _check(on_disk.view(), expected_disk)
        _same_fold(Ledger(Path(home)).open_run("r").view(), in_memory.view())
