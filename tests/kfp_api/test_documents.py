"""`ledger.ui.kfp_documents`: the ledger's states in the API's names, filters as kfp.Client sends them,
sorting and page tokens."""

from __future__ import annotations

import json

import pytest

from ledger.ui import kfp_documents as docs

KEYS = {"display_name": "display_name", "created_at": "created_at", "state": "state"}
RESOURCES = [
    {"display_name": "b", "created_at": "2026-12-07T10:00:00Z", "state": "RUNNING"},
    {"display_name": "a", "created_at": "2026-12-07T11:00:00Z", "state": "SUCCEEDED"},
    {"display_name": "c", "created_at": "2026-12-07T12:00:00Z", "state": "FAILED"},
]


@pytest.mark.parametrize(
    ("ledger_state", "running", "terminating", "expected"),
    [
        (None, True, False, "PENDING"),
        (None, False, False, "FAILED"),
        ("RUNNING", True, False, "RUNNING"),
        ("RUNNING", True, True, "CANCELING"),
        ("RUNNING", False, False, "FAILED"),
        ("RUNNING", False, True, "CANCELED"),
        ("COMPLETE", False, False, "SUCCEEDED"),
        ("FAILED", False, False, "FAILED"),
        ("FAILED", True, False, "RUNNING"),
        ("CANCELED", False, True, "CANCELED"),
    ],
)
def test_run_state_names_the_ledger_state_as_the_api_does(
    ledger_state: str | None, running: bool, terminating: bool, expected: str
) -> None:
    assert docs.run_state(ledger_state, running=running, terminating=terminating) == expected


def test_the_clients_name_filter_selects_by_display_name() -> None:
    query = {
        "filter": json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": "a"}]})
    }
    assert docs.listed(RESOURCES, query, plural="runs", keys=KEYS)["runs"] == [RESOURCES[1]]


def test_filters_compare_times_and_match_substrings_and_sets() -> None:
    for value in ("2026-12-07T10:40:00Z", "1796640000"):  # a Timestamp as JSON writes it; epoch seconds
        later = docs._predicate({"operation": "GREATER_THAN", "key": "created_at", "timestamp_value": value})
        assert [r["display_name"] for r in RESOURCES if docs.matches(r, [later], keys=KEYS)] == ["a", "c"]
    among = docs.parse_filter(
        json.dumps(
            {
                "predicates": [
                    {"operation": "IN", "key": "state", "string_values": {"values": ["FAILED", "RUNNING"]}}
                ]
            }
        )
    )
    assert [r["display_name"] for r in RESOURCES if docs.matches(r, among, keys=KEYS)] == ["b", "c"]


def test_an_unknown_filter_key_or_sort_field_is_invalid_argument() -> None:
    with pytest.raises(docs.ApiInputError, match="cannot filter on 'colour'"):
        docs.listed(
            RESOURCES,
            {"filter": '{"predicates": [{"key": "colour", "string_value": "x"}]}'},
            plural="runs",
            keys=KEYS,
        )
    with pytest.raises(docs.ApiInputError, match="cannot sort by 'colour'"):
        docs.listed(RESOURCES, {"sort_by": "colour desc"}, plural="runs", keys=KEYS)


def test_pages_follow_their_tokens_to_the_end() -> None:
    first = docs.listed(
        RESOURCES, {"page_size": "2", "sort_by": "display_name desc"}, plural="runs", keys=KEYS
    )
    assert [r["display_name"] for r in first["runs"]] == ["c", "b"] and first["total_size"] == 3
    rest = docs.listed(
        RESOURCES,
        {"page_size": "2", "sort_by": "display_name desc", "page_token": first["next_page_token"]},
        plural="runs",
        keys=KEYS,
    )
    assert [r["display_name"] for r in rest["runs"]] == ["a"] and "next_page_token" not in rest
    with pytest.raises(docs.ApiInputError, match="page_token"):
        docs.listed(RESOURCES, {"page_token": "not-a-token"}, plural="runs", keys=KEYS)


def test_the_failed_tasks_error_is_the_runs_error() -> None:
    executions = [
        {"id": 1, "kind": "root", "state": "FAILED", "error": "task 'fail': boom"},
        {"id": 2, "kind": "container", "label": "fail", "state": "FAILED", "error": "exit code 1: boom"},
    ]
    assert docs.failed_task_error(executions) == "task 'fail': exit code 1: boom"
