"""The pieces of a run's page that the static report and the UI share: header, graph, tables, task panels."""

from __future__ import annotations

import contextlib
import html
import json
import shlex
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import model
from ledger.model import DAG_EXECUTION, FAILED, Artifact, Execution, RunView
from ledger.views import commands, describe, graph, preview
from ledger.views.preview import FileUrl
from spec.contracts import EXECUTOR_LOGS
from spec.errors import UsageError

LOG_TAIL_BYTES = 64_000
EXECUTOR_INPUT_BYTES = 256_000
# Every log shares this budget, so a run of thousands of tasks still makes a page a browser can open.
TOTAL_LOG_BYTES = 24_000_000
MIN_LOG_TAIL_BYTES = 4_000


# The page's data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageData:
    """What every task section reads: the run, labels, durations and each execution's linked artifacts."""

    view: RunView
    labels: dict[int, str]
    durations: dict[int, float | None]
    linked: dict[tuple[int, str], dict[str, list[Artifact]]]
    log_bytes: int
    home: Path | None = None  # named in the commands to copy when the page knows its home (the UI)
    file_url: FileUrl | None = field(default=None, compare=False)  # where the UI serves a file
    # Where the UI shows an artifact's lineage (who wrote it, who read it); the report has no such page.
    artifact_url: Callable[[Artifact], str] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, view: RunView, *, home: Path | None = None, file_url: FileUrl | None = None,
           artifact_url: Callable[[Artifact], str] | None = None) -> PageData:
        linked: dict[tuple[int, str], dict[str, list[Artifact]]] = {}
        for event in sorted(view.events, key=lambda e: e.index):
            named = linked.setdefault((event.execution_id, event.type), {})
            named.setdefault(event.path, []).append(view.artifacts[event.artifact_id])
        tasks = sum(1 for e in view.executions.values() if e.type != DAG_EXECUTION)
        return cls(view=view, labels=model.label_executions(view),
                   durations={e.id: duration_of(e) for e in view.executions.values()}, linked=linked,
                   log_bytes=max(MIN_LOG_TAIL_BYTES, min(LOG_TAIL_BYTES, TOTAL_LOG_BYTES // max(1, tasks))),
                   home=home, file_url=file_url, artifact_url=artifact_url)

    def artifacts(self, execution: Execution, event_type: str) -> dict[str, list[Artifact]]:
        return self.linked.get((execution.id, event_type), {})


def root_of(view: RunView) -> Execution | None:
    roots = [e for e in view.executions.values() if e.parent_dag_id is None and e.type == DAG_EXECUTION]
    return min(roots, key=lambda e: e.id) if roots else None


def graph_svg(page: PageData, *, root: Execution | None) -> str:
    """The run's DAG as the spec draws it, each task coloured by the execution that ran it."""
    tree = graph.build_tree(page.view.header.pipeline_spec,
                            graph.RunIndex.of(page.view, page.durations), root_id=root.id if root else None)
    return graph.render_svg(tree)


def run_header(view: RunView, *, root: Execution | None) -> str:
    header = view.header
    run = describe.describe_run(view)
    # Current executions only: a task a resume ran again, or a replay, is never counted twice.
    counts = Counter(e.state for e in view.executions.values()
                     if describe.kind_of(e) in ("container", "importer") and model.is_current(e))
    facts = [
        ("run", view.run_id),
        ("pipeline", header.pipeline_name),
        ("source", header.source),
        ("created", header.create_time),
        ("duration", seconds(run.get("duration"))),
        ("pipeline root", header.run_root),
        ("tasks", ", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items())) or "none"),
    ]
    error = root.error if root else ""
    return (
        f'<header><h1>{esc(header.pipeline_name or "pipeline")}'
        f' <span class="badge s-{esc(view.state)}">{esc(view.state)}</span></h1>'
        f'<table class="kv">{_rows(facts)}</table>'
        + (f'<p class="error">{esc(error)}</p>' if error else "")
        + f"<h3>Parameters</h3>{values_table(header.parameters)}</header>"
    )


def legend() -> str:
    states = ["COMPLETE", "CACHED", "FAILED", "CANCELED", "RUNNING"]
    items = "".join(f'<span class="chip s-{s}">{s.lower()}</span>' for s in states)
    items += '<span class="chip s-none">not run</span>'
    toggle = '<button type="button" id="fit" hidden>show at full size</button>'
    return f'<p class="legend">{items} · click a task for its details {toggle}</p>'


def failures(view: RunView, labels: dict[int, str]) -> str:
    failed = [e for e in view.executions.values() if e.state == FAILED and e.type != DAG_EXECUTION]
    if not failed:
        return ""
    items = "".join(
        f'<li><a href="#x{e.id}">{esc(labels[e.id])}</a>: <span class="error">'
        f'{esc(e.error or "failed")}</span></li>'
        for e in sorted(failed, key=lambda e: e.id)
    )
    return f'<section id="failures"><h2>Failed tasks</h2><ul>{items}</ul></section>'


def task_table(executions: list[Execution], *, labels: dict[int, str], durations: dict[int, float | None],
               folded: dict[int, Counter[str]] | None = None,
               loop_url: Callable[[int], str] | None = None) -> str:
    """One row per execution; a loop in `folded` (loop id -> its iterations' states) gets a row of counts
    whose list of iterations `loop_url` serves on demand."""
    rows = []
    for e in executions:
        kind = describe.kind_of(e)
        outputs = ", ".join(f"{k}={compact(v)}" for k, v in e.outputs.items())
        rows.append(
            f'<tr data-state="{esc(e.state)}" data-kind="{kind}" data-execution="{e.id}">'
            f'<td><a href="#x{e.id}">{esc(labels[e.id])}</a>{_mark(e)}</td>'
            f"<td>{kind}</td><td>{badge(e.state)}</td>"
            f"<td class=\"num\"{_ticking(e, durations)}>{seconds(durations[e.id])}</td>"
            f"<td>{esc(outputs)}</td></tr>"
        )
        if folded is not None and e.id in folded:
            rows.append(_folded_row(e, folded[e.id], loop_url=loop_url))
    return ('<table class="tasks"><thead><tr><th>task</th><th>kind</th><th>state</th><th>duration</th>'
            f'<th>outputs</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def fold_big_loops(view: RunView, executions: list[Execution], *, limit: int,
                   opened: int | None = None) -> tuple[list[Execution], dict[int, Counter[str]]]:
    """The executions outside loops of more than `limit` iterations (but the `opened` one), and each such
    loop's iteration states: a loop of thousands of iterations is one row until it is opened."""
    loops = [e.id for e in view.executions.values() if describe.kind_of(e) == "loop" and e.id != opened]
    children = Counter(e.parent_dag_id for e in view.executions.values())
    big = {loop_id for loop_id in loops if children[loop_id] > limit}
    if not big:
        return executions, {}
    inside: dict[int, int | None] = {}

    def enclosing(execution_id: int) -> int | None:
        if execution_id not in inside:
            parent = view.executions[execution_id].parent_dag_id
            inside[execution_id] = None  # guards a parent cycle in a damaged journal
            found = parent if parent in big else (enclosing(parent) if parent in view.executions else None)
            inside[execution_id] = found
        return inside[execution_id]

    kept = [e for e in executions if enclosing(e.id) is None]
    states = {loop_id: Counter(child.state for child in view.children(loop_id)) for loop_id in big}
    return kept, states


def _folded_row(loop: Execution, states: Counter[str], *, loop_url: Callable[[int], str] | None) -> str:
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(states.items()))
    summary = f"{sum(states.values())} iterations: {counts}"
    if loop_url is None:
        return f'<tr class="folded"><td colspan="5" class="muted">{esc(summary)}</td></tr>'
    source = esc(loop_url(loop.id))
    return (f'<tr class="folded"><td colspan="5"><details class="iterations" data-src="{source}">'
            f"<summary>{esc(summary)} · list them</summary><div class=\"list\"></div></details></td></tr>")


def _mark(execution: Execution) -> str:
    """Superseded executions and replays are marked: they are history, not the run's outcome."""
    if execution.superseded_by is not None:
        return f' <span class="mark">superseded by {execution.superseded_by}</span>'
    replayed = execution.properties.get(model.REPLAY_OF)
    if replayed is not None:
        return f' <span class="mark">replay of {esc(str(replayed))}</span>'
    return ""


def _ticking(execution: Execution, durations: dict[int, float | None]) -> str:
    """A running execution's start, for a live page to count its duration up."""
    if execution.state != model.RUNNING or durations.get(execution.id) is not None:
        return ""
    start, _ = model.execution_times(execution)
    return f' data-start="{start:.3f}"'


# One task -------------------------------------------------------------------------------------------------


def task_section(page: PageData, execution: Execution, *, is_open: bool = False) -> str:
    """One task's panel: facts, attempts, error, inputs and outputs with artifact previews, its ExecutorInput
    and command line, its log and the commands that explain, replay or resume it."""
    label, duration = page.labels[execution.id], page.durations[execution.id]
    kind = describe.kind_of(execution)
    about = f"{kind} · execution {execution.id} · {seconds(duration)}"
    summary = (f"<summary>{badge(execution.state)} <strong>{esc(label)}</strong>{_mark(execution)}"
               f' <span class="muted">{about}</span></summary>')
    parts = [_facts(execution, duration=duration)]
    if execution.error:
        parts.append(f'<p class="error">{esc(execution.error)}</p>')
    parts.append(f'<div class="io"><div><h4>Inputs</h4>{values_table(execution.inputs)}'
                 f'{_artifacts(page, page.artifacts(execution, "INPUT"))}</div>'
                 f'<div><h4>Outputs</h4>{values_table(execution.outputs)}'
                 f'{_artifacts(page, page.artifacts(execution, "OUTPUT"))}</div></div>')
    if kind in ("container", "importer"):
        parts.append(_executor_input(execution.task_dir))
        parts.append(_command_line(execution.task_dir))
        parts.append(_log(page, execution))
        parts.append(_commands(page, execution, label=label))
    opened = " open" if is_open or (execution.state == FAILED and kind != "dag") else ""
    return (f'<details class="task k-{kind}" id="x{execution.id}" data-execution="{execution.id}"'
            f' data-state="{esc(execution.state)}"{opened}>{summary}{"".join(parts)}</details>')


def _command_line(task_dir: str | None) -> str:
    argv = describe.describe_command_line(task_dir)
    if not argv:
        return ""
    text = " ".join(shlex.quote(word) for word in argv)
    return (f'<details class="block"><summary>Command line</summary><pre class="argv">{esc(text)}</pre>'
            "</details>")


def _commands(page: PageData, execution: Execution, *, label: str) -> str:
    listed = commands.task_commands(page.view, execution, label=label, home=page.home)
    rows = "".join(f'<tr><th>{esc(what)}</th><td><code class="command">{esc(command)}</code></td></tr>'
                   for what, command in listed)
    return (f'<details class="block commands"><summary>Commands</summary><table class="kv">{rows}</table>'
            "</details>")


def _facts(execution: Execution, *, duration: float | None) -> str:
    properties = execution.properties
    facts: list[tuple[str, str]] = [("state", execution.state), ("duration", seconds(duration))]
    for key in ("display_name", "task_path", "iteration_index", "iteration_count", "cache_fingerprint",
                "cached_execution_id", "condition"):
        if properties.get(key) not in (None, ""):
            facts.append((key.replace("_", " "), str(properties[key])))
    return f'<table class="kv">{_rows(facts)}</table>{_attempts(execution)}'


def _attempts(execution: Execution) -> str:
    if len(execution.attempts) < 2 and all(a.get("exit_code") in (0, None) for a in execution.attempts):
        return ""
    rows = "".join(
        f"<tr><td>{a.get('number', i)}</td><td>{esc(str(a.get('state', '')))}</td>"
        f"<td>{esc(str(a.get('exit_code', '')))}</td>"
        f"<td class=\"num\">{seconds(model.span(a.get('start'), a.get('end')))}</td>"
        f"<td>{esc(str(a.get('error', '')))}</td></tr>"
        for i, a in enumerate(execution.attempts)
    )
    head = "".join(f"<th>{name}</th>" for name in ("#", "state", "exit code", "duration", "error"))
    return f'<table class="attempts"><caption>attempts</caption><tr>{head}</tr>{rows}</table>'


def values_table(values: Any) -> str:
    if not isinstance(values, dict) or not values:
        return '<p class="muted">no parameters</p>'
    rows = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(compact(v))}</code></td></tr>"
                   for k, v in sorted(values.items()))
    return f'<table class="kv params">{rows}</table>'


def _artifacts(page: PageData, named: dict[str, list[Artifact]]) -> str:
    blocks = [_artifact(page, name, artifact) for name, artifacts in sorted(named.items())
              if name != EXECUTOR_LOGS for artifact in artifacts]
    return "".join(blocks)


def _artifact(page: PageData, name: str, artifact: Artifact) -> str:
    body = preview.preview(artifact, file_url=page.file_url)
    lineage = (f' <a class="lineage" href="{esc(page.artifact_url(artifact))}">lineage</a>'
               if page.artifact_url else "")
    return (f'<div class="artifact t-{esc(artifact.type.split(".")[-1])}"><div class="artifact-head">'
            f"<strong>{esc(name)}</strong> <span class=\"type\">{esc(artifact.type)}</span>{lineage}"
            f' <code class="uri">{esc(artifact.uri)}</code></div>{body}</div>')


def _executor_input(task_dir: Any) -> str:
    if not task_dir:
        return ""
    path = Path(str(task_dir)) / "executor_input.json"
    text, note = preview.read_artifact_text(str(path), limit=EXECUTOR_INPUT_BYTES)
    summary = f'<summary>ExecutorInput <code class="uri">{esc(str(path))}</code></summary>'
    if text is None:
        return f'<details class="block">{summary}{_note(note)}</details>'
    handed = _handed(task_dir) if not note else None
    if handed is not None:  # as the component was handed it: the driver's, with the declared defaults added
        text = json.dumps(handed, indent=2, ensure_ascii=False)
        summary = summary.replace("ExecutorInput", "ExecutorInput as handed", 1)
    else:
        with contextlib.suppress(ValueError):  # cut short or damaged: shown as it is
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return f'<details class="block">{summary}<pre class="json">{esc(text)}</pre>{_note(note)}</details>'


def _handed(task_dir: Any) -> Any:
    try:
        return describe.describe_executor_input(task_dir)["executor_input"]
    except UsageError:  # not an ExecutorInput with its ComponentSpec: the file is shown as it is
        return None


def _log(page: PageData, execution: Execution) -> str:
    path = describe.log_file(page.view, execution)
    if path is None:
        return ""
    text, note, size = _log_tail(path, limit=page.log_bytes)
    is_open = " open" if execution.state in (FAILED, model.RUNNING) else ""
    summary = f'<summary>Log <code class="uri">{esc(str(path))}</code></summary>'
    return (f'<details class="block log"{is_open}>{summary}<pre data-log-size="{size}">{esc(text)}</pre>'
            f"{_note(note)}</details>")


def _log_tail(path: Path, *, limit: int) -> tuple[str, str, int]:
    try:
        text, size = model.read_log_end(path, max_bytes=limit)
    except OSError as exc:
        return "", f"log unreadable: {exc.strerror or exc}", 0
    note = f"showing the last {limit // 1000} KB of {size} bytes" if size > limit else ""
    return text, note, size


# Small pieces ---------------------------------------------------------------------------------------------


def duration_of(execution: Execution) -> float | None:
    start, end = model.execution_times(execution)
    return model.span(start, end)


def seconds(value: Any) -> str:
    return f"{float(value):.2f}s" if isinstance(value, (int, float)) else "-"


def _rows(facts: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)


def badge(state: str) -> str:
    return f'<span class="badge s-{esc(state)}">{esc(state)}</span>'


def _note(note: str) -> str:
    return f'<p class="muted">{esc(note)}</p>' if note else ""


def compact(value: Any, *, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(text: str) -> str:
    return html.escape(text, quote=True)

