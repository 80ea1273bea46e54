"""Plain-text rendering of the documents `python -m ledger --json` prints, for people at a terminal."""

from __future__ import annotations

import datetime
import json
from typing import Any

VALUE_WIDTH = 100


def compact(value: Any, *, width: int = VALUE_WIDTH) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def local_time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def table(rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces; the first row is the heading."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def counts(task_counts: dict[str, int]) -> str:
    return " ".join(f"{state}={number}" for state, number in task_counts.items()) or "-"


def render_runs(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "no runs"
    rows = [["RUN", "PIPELINE", "STATE", "CREATED", "DURATION", "TASKS"]]
    for run in runs:
        rows.append([run["run_id"], run["pipeline_name"], run["state"], local_time(run["start_time"]),
                     duration(run["duration"]), counts(run["task_counts"])])
    return table(rows)


OUTPUTS_WIDTH = 60


def render_show_compact(document: dict[str, Any]) -> str:
    """`ledger show`: the run, then one line per task in DAG order (a loop's tasks carry their iteration in
    their label, in index order) with its outputs in short; `--long` gives `render_show`."""
    lines = _show_header(document["run"], width=OUTPUTS_WIDTH)
    rows = [["TASK", "STATE", "DURATION", "OUTPUTS"]]
    tasks = [e for e in document["executions"]
             if e.get("current", True) and e["kind"] not in ("root", "loop", "iteration")]
    for execution in tasks:
        rows.append([execution["label"], execution.get("state_text", execution["state"]),
                     duration(execution["duration"]), _short_outputs(execution)])
    lines += ["", table(rows), "",
              "--long: every execution with its inputs, artifacts and log; `ledger exec RUN TASK`: one task"]
    return "\n".join(lines)


def _short_outputs(execution: dict[str, Any]) -> str:
    """Output parameters as `name=value` and artifacts as `name=<schema title>`, cut to OUTPUTS_WIDTH."""
    parts = [f"{key}={compact(value, width=30)}" for key, value in (execution["outputs"] or {}).items()]
    parts += [_short_artifact(artifact) for artifact in execution.get("output_artifacts") or []
              if artifact["name"] != "executor-logs"]
    return compact(" ".join(parts), width=OUTPUTS_WIDTH) if parts else ""


def _short_artifact(artifact: dict[str, Any]) -> str:
    """`metrics=<Metrics accuracy=0.9 loss=0.25>`: the schema title and the scalar metadata (metrics), as
    `describe_artifacts` gives them (already without the properties that are not metadata)."""
    scalars = [f"{key}={compact(value, width=12)}" for key, value in (artifact.get("metadata") or {}).items()
               if isinstance(value, int | float | str)]
    kind = str(artifact["type"]).removeprefix("system.")
    return f"{artifact['name']}=<{' '.join([kind, *scalars])}>"


def _show_header(run: dict[str, Any], *, width: int | None = None) -> list[str]:
    lines = [
        f"run {run['run_id']}  pipeline {run.get('pipeline_name', '')!r}  {run['state']}",
        f"  created {local_time(run['start_time'])}  took {duration(run['duration'])}"
        f"  tasks {counts(run['task_counts'])}",
    ]
    if run.get("source"):
        lines.append(f"  source {run['source']}")
    if run.get("parameters"):
        parameters = _mapping(run["parameters"])
        lines.append(f"  parameters {compact(parameters, width=width) if width else parameters}")
    return lines


def render_show(document: dict[str, Any]) -> str:
    lines = _show_header(document["run"])
    rows = [["ID", "TASK", "KIND", "STATE", "DURATION", "ATTEMPTS"]]
    details: dict[int, list[str]] = {}
    id_width = max((len(str(e["id"])) for e in document["executions"]), default=2)
    shown = [e for e in document["executions"] if e.get("current", True)]
    for execution in shown:
        indent = "  " * int(execution.get("depth", 0))
        rows.append([str(execution["id"]), indent + execution["label"], execution["kind"],
                     execution.get("state_text", execution["state"]),
                     duration(execution["duration"]), str(len(execution["attempts"]) or "")])
        details[len(rows) - 1] = _details(execution, indent=" " * (id_width + 2) + indent)
    body = table(rows).split("\n")
    lines.append("")
    for number, line in enumerate(body):
        lines.append(line)
        lines.extend(details.get(number, []))
    hidden = len(document["executions"]) - len(shown)
    if hidden:
        lines.append(f"({hidden} execution(s) not shown: superseded by a --resume, or replays; --json lists"
                     " them)")
    return "\n".join(lines)


def _details(execution: dict[str, Any], *, indent: str) -> list[str]:
    pad = indent + "    "
    lines = []
    if execution["inputs"]:
        lines.append(f"{pad}inputs   {_mapping(execution['inputs'])}")
    if execution["outputs"]:
        lines.append(f"{pad}outputs  {_mapping(execution['outputs'])}")
    for direction, key in (("in ", "input_artifacts"), ("out", "output_artifacts")):
        for artifact in execution[key]:
            lines.append(f"{pad}{direction}      {artifact['name']}: {artifact['type']} {artifact['uri']}")
            if artifact.get("metadata"):
                lines.append(f"{pad}           {_mapping(artifact['metadata'])}")
    properties = execution.get("properties") or {}
    for key, what in (("pod_labels", "labels"), ("pod_annotations", "annotations")):
        if properties.get(key):  # kfp-kubernetes pod metadata the task was given
            lines.append(f"{pad}pod      {what} {_mapping(properties[key])}")
    if execution.get("cached_execution_id") is not None:
        lines.append(f"{pad}cached   from execution {execution['cached_execution_id']}")
    if execution["error"]:
        lines.append(f"{pad}error    {compact(execution['error'], width=200)}")
    if execution.get("log"):
        lines.append(f"{pad}log      {execution['log']}")
    return lines


def _mapping(values: dict[str, Any]) -> str:
    return "  ".join(f"{key}={compact(value)}" for key, value in values.items())


def render_execution(document: dict[str, Any]) -> str:
    lines = [
        f"execution {document['id']}  {document['label']}  ({document['type']})"
        f"  {document.get('state_text', document['state'])}",
        f"  run {document['run_id']}  started {local_time(document['start_time'])}"
        f"  took {duration(document['duration'])}",
    ]
    lines += _details(document, indent="")
    for attempt in document["attempts"]:
        lines.append(f"    attempt  {attempt.get('number', '?')}: {attempt.get('state', 'RUNNING')}"
                     f" exit code {attempt.get('exit_code', '-')}"
                     f" in {duration(_attempt_seconds(attempt))}")
    if document.get("cache_fingerprint"):
        lines.append(f"    fingerprint {document['cache_fingerprint']}")
    lines.append("")
    if document["executor_input"] is None:
        lines.append("no ExecutorInput recorded (DAG executions and cache hits run no process)")
    else:
        lines.append("ExecutorInput as handed to the component (the declared defaults added to the driver's"
                     f" message in {document['executor_input_path']}):")
        lines.append(json.dumps(document["executor_input"], indent=2, ensure_ascii=False))
    return "\n".join(lines)


def _attempt_seconds(attempt: dict[str, Any]) -> float | None:
    if "start" in attempt and "end" in attempt:
        return float(attempt["end"]) - float(attempt["start"])
    return None


def render_diff(document: dict[str, Any]) -> str:
    lines = [f"--- {document['run_a']}", f"+++ {document['run_b']}"]
    for entry in document["changed"]:
        lines.append(f"~ {entry['task']}")
        for name, values in entry["fields"].items():
            lines.extend(f"    {line}" for line in _field_lines(name, values["a"], values["b"]))
    lines.extend(f"- {label}" for label in document["only_in_a"])
    lines.extend(f"+ {label}" for label in document["only_in_b"])
    lines.append(f"{len(document['changed'])} changed, {len(document['only_in_a'])} only in A, "
                 f"{len(document['only_in_b'])} only in B, {document['unchanged']} unchanged")
    return "\n".join(lines)


def _field_lines(name: str, a: Any, b: Any) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [*a, *(key for key in b if key not in a)]
        differ = [key for key in keys if (key in a) != (key in b) or a.get(key) != b.get(key)]
        return [f"{name}.{key}: {_maybe(a, key)} -> {_maybe(b, key)}" for key in differ]
    return [f"{name}: {compact(a)} -> {compact(b)}"]


def _maybe(values: dict[str, Any], key: str) -> str:
    return compact(values[key]) if key in values else "(absent)"
