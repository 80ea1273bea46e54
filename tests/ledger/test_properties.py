"""ledger/properties.py: what a replay takes over from the execution it reruns."""

from __future__ import annotations

from ledger.properties import RecordedProperties


def test_a_replay_takes_over_the_task_but_none_of_the_originals_outcome() -> None:
    original = {
        "task_name": "train",
        "task_path": "root/train",
        "image": "python:3.11",
        "definition_fingerprint": "d1",
        "task_uuid": "u1",
        "outputs": {"parameters": {"Output": 1}},
        "output_files": ["model.pkl"],
        "error": "boom",
        "state_reason": "an upstream task failed",
        "superseded_by": 12,
        "log": "/runs/r/train.log",
        "cached_execution_id": 3,
        "replay_of": 2,
    }

    copied = RecordedProperties.copied_from(original).to_json()

    assert copied == {
        "task_name": "train",
        "task_path": "root/train",
        "image": "python:3.11",
        "definition_fingerprint": "d1",
        "task_uuid": "u1",
    }
