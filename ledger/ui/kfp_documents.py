"""KFP v2beta1 resources as JSON (snake_case, as the API server's gateway writes them) from the ledger's run
documents and the API store; the API's filters, sorting and page tokens over lists of them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

# The ledger's states (MLMD's) as the API's RuntimeState names.
_RUNTIME_STATES = {
    "RUNNING": "RUNNING",
    "COMPLETE": "SUCCEEDED",
    "CACHED": "SUCCEEDED",
    "FAILED": "FAILED",
    "CANCELED": "CANCELED",
    "NEW": "PENDING",
}
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
# google.rpc.Code numbers used in the error shape.
CODE_UNKNOWN, CODE_INVALID_ARGUMENT, CODE_NOT_FOUND, CODE_ALREADY_EXISTS = 2, 3, 5, 6
CODE_FAILED_PRECONDITION, CODE_UNIMPLEMENTED = 9, 12
DRIVER_LOST = "the driver stopped before it recorded the run's outcome (retry resumes the run)"
# Filter operations by name, and by the numbers kfp.Client sends.
_OPERATIONS = {
    1: "EQUALS",
    2: "NOT_EQUALS",
    3: "GREATER_THAN",
    5: "GREATER_THAN_EQUALS",
    6: "LESS_THAN",
    7: "LESS_THAN_EQUALS",
    8: "IN",
    9: "IS_SUBSTRING",
}
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


class ApiError(Exception):
    """A request the API server refuses: the HTTP status and the google.rpc code of its error shape."""

    def __init__(self, message: str, *, http_status: int, code: int) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code

    def to_json(self) -> dict[str, Any]:
        """The body grpc-gateway writes: `error` and `message` both hold the message."""
        return {"error": str(self), "code": self.code, "message": str(self), "details": []}


class ApiInputError(ApiError):
    """INVALID_ARGUMENT (HTTP 400): the request itself is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message, http_status=400, code=CODE_INVALID_ARGUMENT)


def not_found(kind: str, key: str) -> ApiError:
    return ApiError(
        f"{kind} {key!r} not found: NotFoundError: ResourceNotFoundError: {kind} {key} not found",
        http_status=404,
        code=CODE_NOT_FOUND,
    )


def failed_precondition(message: str) -> ApiError:
    return ApiError(message, http_status=400, code=CODE_FAILED_PRECONDITION)


def rfc3339(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(message: str, *, code: int = CODE_UNKNOWN) -> dict[str, Any]:
    """A `google.rpc.Status`: a run's or a task's `error`."""
    return {"code": code, "message": message, "details": []}


def run_state(ledger_state: str | None, *, running: bool, terminating: bool) -> str:
    """The run's RuntimeState: PENDING until the driver records the run, CANCELING while a terminate is under
    way, RUNNING while a driver takes a finished run up again (retry), FAILED when its driver died unseen."""
    if running:
        return "CANCELING" if terminating else ("PENDING" if ledger_state is None else "RUNNING")
    state = _RUNTIME_STATES.get(ledger_state or "", "FAILED")
    if state == "RUNNING" or ledger_state is None:  # no driver holds it: it stopped without an outcome
        return "CANCELED" if terminating else "FAILED"
    return state


def run_resource(
    run_id: str, *, ledger_run: dict[str, Any] | None, record: dict[str, Any], state: str, error: str
) -> dict[str, Any]:
    """A V2beta1Run without `run_details`; `ledger_run` is the run as `runs --json` or `show --json` gives it
    (None before the driver recorded it), `record` what the API store keeps of it."""
    ledger_run = ledger_run or {}
    created = ledger_run.get("start_time") or record.get("created_at")
    parameters = ledger_run.get("parameters")
    resource: dict[str, Any] = {
        "run_id": run_id,
        "experiment_id": record.get("experiment_id", ""),
        "display_name": record.get("display_name") or ledger_run.get("run_name") or run_id,
        "description": record.get("description", ""),
        "storage_state": record.get("storage_state", "AVAILABLE"),
        "service_account": record.get("service_account", ""),
        "runtime_config": {
            "parameters": parameters if parameters is not None else record.get("parameters", {}),
            "pipeline_root": ledger_run.get("pipeline_root") or record.get("pipeline_root", ""),
        },
        "created_at": rfc3339(created),
        "scheduled_at": rfc3339(created),
        "finished_at": rfc3339(ledger_run.get("end_time")) if state in TERMINAL else None,
        "state": state,
    }
    if record.get("pipeline_version_reference"):
        resource["pipeline_version_reference"] = record["pipeline_version_reference"]
    if error and state == "FAILED":
        resource["error"] = status(error)
    return {key: value for key, value in resource.items() if value is not None}


def failed_task_error(executions: list[dict[str, Any]]) -> str:
    """The error of the first failed task (a container or importer), else of the first failed DAG."""
    failed = [e for e in executions if e.get("state") == "FAILED" and e.get("error")]
    tasks = [e for e in failed if e.get("kind") not in ("root", "dag", "loop", "iteration")]
    chosen = (tasks or failed or [{}])[0]
    label = chosen.get("label") or chosen.get("task_name") or ""
    error = str(chosen.get("error") or "")
    return f"task {label!r}: {error}" if error and tasks else error


def task_details(run_id: str, executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`run_details.task_details`: one per execution of `show --json` (the root DAG included, as MLMD holds
    it); `inputs`/`outputs` hold artifact ids as the API does, parameters go in `input_parameters` and
    `output_parameters` (extra fields the client's models ignore)."""
    children: dict[int, list[dict[str, str]]] = {}
    for execution in executions:
        if execution.get("parent_dag_id") is not None:
            children.setdefault(int(execution["parent_dag_id"]), []).append({"task_id": str(execution["id"])})
    return [
        _task_detail(run_id, execution, children.get(int(execution["id"]), [])) for execution in executions
    ]


def _task_detail(run_id: str, execution: dict[str, Any], children: list[dict[str, str]]) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "run_id": run_id,
        "task_id": str(execution["id"]),
        "execution_id": str(execution["id"]),
        "display_name": execution.get("label") or execution.get("task_name") or "",
        "create_time": rfc3339(execution.get("start_time")),
        "start_time": rfc3339(execution.get("start_time")),
        "end_time": rfc3339(execution.get("end_time")),
        "state": _RUNTIME_STATES.get(str(execution.get("state")), "RUNTIME_STATE_UNSPECIFIED"),
        "inputs": _artifact_lists(execution.get("input_artifacts") or []),
        "outputs": _artifact_lists(execution.get("output_artifacts") or []),
        "input_parameters": execution.get("inputs") or {},
        "output_parameters": execution.get("outputs") or {},
        "child_tasks": children,
    }
    if execution.get("parent_dag_id") is not None:
        detail["parent_task_id"] = str(execution["parent_dag_id"])
    if execution.get("error") and execution.get("state") == "FAILED":
        detail["error"] = status(str(execution["error"]))
    return {key: value for key, value in detail.items() if value is not None}


def _artifact_lists(artifacts: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    lists: dict[str, dict[str, list[str]]] = {}
    for artifact in artifacts:
        lists.setdefault(str(artifact["name"]), {"artifact_ids": []})["artifact_ids"].append(
            str(artifact["id"])
        )
    return lists


# Lists: filter, sort, page --------------------------------------------------------------------------------


def listed(
    resources: list[dict[str, Any]],
    query: Mapping[str, str],
    *,
    plural: str,
    keys: dict[str, str],
    default_sort: str = "created_at",
) -> dict[str, Any]:
    """Filtered by `filter`, sorted by `sort_by`, one page of `page_size` from `page_token`; a list response
    (`total_size`, the items under `plural`, `next_page_token` when more follow)."""
    predicates = parse_filter(query.get("filter"))
    chosen = [resource for resource in resources if matches(resource, predicates, keys=keys)]
    chosen = sort_resources(chosen, query.get("sort_by"), keys=keys, default=default_sort)
    items, next_token = page(chosen, page_size=query.get("page_size"), page_token=query.get("page_token"))
    document: dict[str, Any] = {"total_size": len(chosen)}
    if items:
        document[plural] = items
    if next_token:
        document["next_page_token"] = next_token
    return document


def parse_filter(text: str | None) -> list[dict[str, Any]]:
    """The predicates of a JSON `Filter` (camelCase or snake_case fields, operations by name or number)."""
    if not text:
        return []
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ApiInputError(f"Invalid input error: failed to parse the filter {text!r}: {exc}") from exc
    if not isinstance(document, dict):
        raise ApiInputError(f"Invalid input error: the filter {text!r} is not a JSON object")
    predicates = document.get("predicates") or []
    return [_predicate(predicate) for predicate in predicates]


def _predicate(predicate: Any) -> dict[str, Any]:
    if not isinstance(predicate, dict) or not predicate.get("key"):
        raise ApiInputError(f"Invalid input error: a filter predicate needs a key: {predicate!r}")
    operation = predicate.get("operation", "EQUALS")
    operation = _OPERATIONS.get(operation, "") if isinstance(operation, int) else str(operation)
    if operation not in _OPERATIONS.values():
        raise ApiInputError(
            f"Invalid input error: unsupported filter operation {predicate.get('operation')!r}"
        )
    return {"key": str(predicate["key"]), "operation": operation, "value": _predicate_value(predicate)}


def _predicate_value(predicate: dict[str, Any]) -> Any:
    for name in (
        "string_value",
        "int_value",
        "long_value",
        "timestamp_value",
        "bool_value",
        "string_values",
        "int_values",
        "long_values",
    ):
        camel = name.split("_")[0] + name.split("_")[1].capitalize()
        for key in (name, camel):
            if key in predicate:
                value = predicate[key]
                return value.get("values", []) if isinstance(value, dict) else value
    raise ApiInputError(f"Invalid input error: the filter predicate on {predicate['key']!r} has no value")


def matches(resource: dict[str, Any], predicates: list[dict[str, Any]], *, keys: dict[str, str]) -> bool:
    return all(_holds(resource, predicate, keys=keys) for predicate in predicates)


def _holds(resource: dict[str, Any], predicate: dict[str, Any], *, keys: dict[str, str]) -> bool:
    field = keys.get(predicate["key"])
    if field is None:
        known = ", ".join(sorted(keys))
        raise ApiInputError(f"Invalid input error: cannot filter on {predicate['key']!r} (known: {known})")
    actual, wanted, operation = resource.get(field), predicate["value"], predicate["operation"]
    if operation == "IN":
        return actual in wanted or str(actual) in [str(value) for value in wanted]
    if operation == "IS_SUBSTRING":
        return str(wanted) in str(actual or "")
    left, right = _comparable(actual, wanted)
    comparisons = {
        "EQUALS": left == right,
        "NOT_EQUALS": left != right,
        "GREATER_THAN": left > right,
        "GREATER_THAN_EQUALS": left >= right,
        "LESS_THAN": left < right,
        "LESS_THAN_EQUALS": left <= right,
    }
    return bool(comparisons[operation])


def _comparable(actual: Any, wanted: Any) -> tuple[Any, Any]:
    """Both sides as numbers when the filter gives a number or an RFC 3339 time (a `timestamp_value`): times
    compare as epoch seconds."""
    if isinstance(wanted, (int, float)) or (isinstance(wanted, str) and wanted.lstrip("-").isdigit()):
        return _seconds(actual) or 0.0, float(wanted)
    if isinstance(wanted, str) and _seconds(wanted) is not None:
        return _seconds(actual) or 0.0, _seconds(wanted)
    return str(actual if actual is not None else ""), str(wanted)


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def sort_resources(
    resources: list[dict[str, Any]], sort_by: str | None, *, keys: dict[str, str], default: str
) -> list[dict[str, Any]]:
    """`sort_by` is `field` or `field desc`; ties keep their order."""
    words = (sort_by or default).split()
    if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise ApiInputError(f"Invalid input error: cannot sort by {sort_by!r}: use 'field' or 'field desc'")
    field = keys.get(words[0])
    if field is None:
        raise ApiInputError(
            f"Invalid input error: cannot sort by {words[0]!r} (known: {', '.join(sorted(keys))})"
        )
    descending = len(words) == 2 and words[1].lower() == "desc"
    return sorted(resources, key=lambda resource: str(resource.get(field) or ""), reverse=descending)


def page(
    resources: list[dict[str, Any]], *, page_size: str | None, page_token: str | None
) -> tuple[list[dict[str, Any]], str]:
    """One page and the token of the next ("" on the last page): a token is the next offset, encoded."""
    size = _page_size(page_size)
    start = _token_offset(page_token) if page_token else 0
    end = start + size
    return resources[start:end], _token(end) if end < len(resources) else ""


def _page_size(text: str | None) -> int:
    try:
        size = int(text) if text else DEFAULT_PAGE_SIZE
    except ValueError as exc:
        raise ApiInputError(f"Invalid input error: page_size {text!r} is not a number") from exc
    if size < 0:
        raise ApiInputError(f"Invalid input error: page_size {size} is negative")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _token_offset(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiInputError(f"Invalid input error: bad page_token {token!r}") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ApiInputError(f"Invalid input error: bad page_token {token!r}")
    return offset
