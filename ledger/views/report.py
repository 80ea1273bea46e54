"""`python -m ledger report RUN -o FILE`: one self-contained HTML page with a run, its graph, every task."""

from __future__ import annotations

import argparse
import contextlib
import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import model
from ledger.model import DAG_EXECUTION, FAILED, Artifact, Execution, RunView
from ledger.views import describe, graph, preview, report_assets
from spec.contracts import EXECUTOR_LOGS

LOG_TAIL_BYTES = 64_000
EXECUTOR_INPUT_BYTES = 256_000
# Every log shares this budget, so a run of thousands of tasks still makes a page a browser can open.
TOTAL_LOG_BYTES = 24_000_000
MIN_LOG_TAIL_BYTES = 4_000
# Nothing on the page may fetch anything: scripts and styles are inline, images are data: URIs.
_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:;"
           " frame-src 'self' about:")


def write_view_report(view: RunView, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(view), encoding="utf-8")
    return out


def add_report_command(commands: Any, *, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register `report RUN [-o FILE]` on the `python -m ledger` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "report", parents=parents, help="write a run's report: one self-contained HTML page")
    parser.add_argument("run", help="run id (or a unique prefix)")
    parser.add_argument("-o", "--output", type=Path, help="the HTML file to write (default: report-RUN.html)")
    return parser


def report_path(args: argparse.Namespace, run_id: str) -> Path:
    """Where `report` writes: `-o FILE`, else `report-<run id>.html` in the working directory."""
    return Path(args.output) if args.output else Path(f"report-{run_id}.html")


# The page ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """What every task section reads: the run, labels, durations and each execution's linked artifacts."""

    view: RunView
    labels: dict[int, str]
    durations: dict[int, float | None]
    linked: dict[tuple[int, str], dict[str, list[Artifact]]]
    log_bytes: int

    @classmethod
    def of(cls, view: RunView) -> _Page:
        linked: dict[tuple[int, str], dict[str, list[Artifact]]] = {}
        for event in sorted(view.events, key=lambda e: e.index):
            named = linked.setdefault((event.execution_id, event.type), {})
            named.setdefault(event.path, []).append(view.artifacts[event.artifact_id])
        tasks = sum(1 for e in view.executions.values() if e.type != DAG_EXECUTION)
        return cls(view=view, labels=model.label_executions(view),
                   durations={e.id: _duration(e) for e in view.executions.values()}, linked=linked,
                   log_bytes=max(MIN_LOG_TAIL_BYTES, min(LOG_TAIL_BYTES, TOTAL_LOG_BYTES // max(1, tasks))))

    def artifacts(self, execution: Execution, event_type: str) -> dict[str, list[Artifact]]:
        return self.linked.get((execution.id, event_type), {})


def render_report(view: RunView) -> str:
    page = _Page.of(view)
    labels, durations = page.labels, page.durations
    root = _root(view)
    tree = graph.build_tree(view.header.get("pipeline_spec", {}), graph.RunIndex.of(view, durations),
                            root_id=root.id if root else None)
    shown = [e for e in view.executions.values() if e is not root]
    shown.sort(key=lambda e: (labels[e.id], e.id))
    name = str(view.header.get("pipeline_name", ""))
    sections = "".join(_task_section(page, e) for e in shown)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(name)} · run {_esc(view.run_id)}</title><style>{report_assets.CSS}</style></head>"
        f'<body data-run="{_esc(view.run_id)}" data-state="{_esc(view.state)}">'
        f"{_run_header(view, root=root)}"
        f'<section id="graph"><h2>Graph</h2>{_legend()}'
        f'<div class="graph-scroll">{graph.render_svg(tree)}</div></section>'
        f"{_failures(view, labels)}"
        f'<section id="tasks"><h2>Tasks</h2><div id="filters" class="filters"></div>'
        f"{_task_table(shown, labels=labels, durations=durations)}</section>"
        f'<section id="details"><h2>Details</h2>{sections}</section>'
        f"<footer>written by <code>python -m ledger report</code> from the ledger in"
        f" {_esc(str(view.header.get('pipeline_root', '')))}</footer>"
        f"<script>{report_assets.JS}</script></body></html>\n"
    )


def _root(view: RunView) -> Execution | None:
    roots = [e for e in view.executions.values() if e.parent_dag_id is None and e.type == DAG_EXECUTION]
    return min(roots, key=lambda e: e.id) if roots else None


def _run_header(view: RunView, *, root: Execution | None) -> str:
    header = view.header
    run = describe.describe_run(view)
    counts = Counter(e.state for e in view.executions.values()
                     if describe.kind_of(e) in ("container", "importer"))
    facts = [
        ("run", view.run_id),
        ("pipeline", str(header.get("pipeline_name", ""))),
        ("source", str(header.get("source", ""))),
        ("created", str(header.get("create_time", ""))),
        ("duration", _seconds(run.get("duration"))),
        ("pipeline root", str(header.get("run_root", ""))),
        ("tasks", ", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items())) or "none"),
    ]
    error = root.error if root else ""
    return (
        f'<header><h1>{_esc(str(header.get("pipeline_name", "pipeline")))}'
        f' <span class="badge s-{_esc(view.state)}">{_esc(view.state)}</span></h1>'
        f'<table class="kv">{_rows(facts)}</table>'
        + (f'<p class="error">{_esc(error)}</p>' if error else "")
        + f"<h3>Parameters</h3>{_values_table(header.get('parameters', {}))}</header>"
    )


def _legend() -> str:
    states = ["COMPLETE", "CACHED", "FAILED", "CANCELED", "RUNNING"]
    items = "".join(f'<span class="chip s-{s}">{s.lower()}</span>' for s in states)
    items += '<span class="chip s-none">not run</span>'
    toggle = '<button type="button" id="fit" hidden>show at full size</button>'
    return f'<p class="legend">{items} · click a task for its details {toggle}</p>'


def _failures(view: RunView, labels: dict[int, str]) -> str:
    failed = [e for e in view.executions.values() if e.state == FAILED and e.type != DAG_EXECUTION]
    if not failed:
        return ""
    items = "".join(
        f'<li><a href="#x{e.id}">{_esc(labels[e.id])}</a>: <span class="error">'
        f'{_esc(e.error or "failed")}</span></li>'
        for e in sorted(failed, key=lambda e: e.id)
    )
    return f'<section id="failures"><h2>Failed tasks</h2><ul>{items}</ul></section>'


def _task_table(executions: list[Execution], *, labels: dict[int, str],
                durations: dict[int, float | None]) -> str:
    rows = []
    for e in executions:
        kind = describe.kind_of(e)
        outputs = ", ".join(f"{k}={_compact(v)}" for k, v in e.outputs.items())
        rows.append(
            f'<tr data-state="{_esc(e.state)}" data-kind="{kind}">'
            f'<td><a href="#x{e.id}">{_esc(labels[e.id])}</a></td>'
            f"<td>{kind}</td><td>{_badge(e.state)}</td><td class=\"num\">{_seconds(durations[e.id])}</td>"
            f"<td>{_esc(outputs)}</td></tr>"
        )
    return ('<table class="tasks"><thead><tr><th>task</th><th>kind</th><th>state</th><th>duration</th>'
            f'<th>outputs</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


# One task -------------------------------------------------------------------------------------------------


def _task_section(page: _Page, execution: Execution) -> str:
    label, duration = page.labels[execution.id], page.durations[execution.id]
    kind = describe.kind_of(execution)
    about = f"{kind} · execution {execution.id} · {_seconds(duration)}"
    summary = (f"<summary>{_badge(execution.state)} <strong>{_esc(label)}</strong>"
               f' <span class="muted">{about}</span></summary>')
    parts = [_facts(execution, duration=duration)]
    if execution.error:
        parts.append(f'<p class="error">{_esc(execution.error)}</p>')
    parts.append(f'<div class="io"><div><h4>Inputs</h4>{_values_table(execution.inputs)}'
                 f'{_artifacts(page.artifacts(execution, "INPUT"))}</div>'
                 f'<div><h4>Outputs</h4>{_values_table(execution.outputs)}'
                 f'{_artifacts(page.artifacts(execution, "OUTPUT"))}</div></div>')
    if kind in ("container", "importer"):
        parts.append(_executor_input(execution.task_dir))
        parts.append(_log(page, execution))
    is_open = " open" if execution.state == FAILED and kind != "dag" else ""
    return (f'<details class="task k-{kind}" id="x{execution.id}"'
            f' data-state="{_esc(execution.state)}"{is_open}>{summary}{"".join(parts)}</details>')


def _facts(execution: Execution, *, duration: float | None) -> str:
    properties = execution.properties
    facts: list[tuple[str, str]] = [("state", execution.state), ("duration", _seconds(duration))]
    for key in ("display_name", "task_path", "iteration_index", "iteration_count", "cache_fingerprint",
                "cached_execution_id", "condition"):
        if properties.get(key) not in (None, ""):
            facts.append((key.replace("_", " "), str(properties[key])))
    return f'<table class="kv">{_rows(facts)}</table>{_attempts(execution)}'


def _attempts(execution: Execution) -> str:
    if len(execution.attempts) < 2 and all(a.get("exit_code") in (0, None) for a in execution.attempts):
        return ""
    rows = "".join(
        f"<tr><td>{a.get('number', i)}</td><td>{_esc(str(a.get('state', '')))}</td>"
        f"<td>{_esc(str(a.get('exit_code', '')))}</td>"
        f"<td class=\"num\">{_seconds(model.span(a.get('start'), a.get('end')))}</td>"
        f"<td>{_esc(str(a.get('error', '')))}</td></tr>"
        for i, a in enumerate(execution.attempts)
    )
    head = "".join(f"<th>{name}</th>" for name in ("#", "state", "exit code", "duration", "error"))
    return f'<table class="attempts"><caption>attempts</caption><tr>{head}</tr>{rows}</table>'


def _values_table(values: Any) -> str:
    if not isinstance(values, dict) or not values:
        return '<p class="muted">no parameters</p>'
    rows = "".join(f"<tr><th>{_esc(k)}</th><td><code>{_esc(_compact(v))}</code></td></tr>"
                   for k, v in sorted(values.items()))
    return f'<table class="kv params">{rows}</table>'


def _artifacts(named: dict[str, list[Artifact]]) -> str:
    blocks = [_artifact(name, artifact) for name, artifacts in sorted(named.items()) if name != EXECUTOR_LOGS
              for artifact in artifacts]
    return "".join(blocks)


def _artifact(name: str, artifact: Artifact) -> str:
    body = preview.preview(artifact)
    return (f'<div class="artifact t-{_esc(artifact.type.split(".")[-1])}"><div class="artifact-head">'
            f"<strong>{_esc(name)}</strong> <span class=\"type\">{_esc(artifact.type)}</span>"
            f' <code class="uri">{_esc(artifact.uri)}</code></div>{body}</div>')


def _executor_input(task_dir: Any) -> str:
    if not task_dir:
        return ""
    path = Path(str(task_dir)) / "executor_input.json"
    text, note = preview.read_artifact_text(str(path), limit=EXECUTOR_INPUT_BYTES)
    summary = f'<summary>ExecutorInput <code class="uri">{_esc(str(path))}</code></summary>'
    if text is None:
        return f'<details class="block">{summary}{_note(note)}</details>'
    with contextlib.suppress(ValueError):  # cut short or damaged: shown as it is
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return f'<details class="block">{summary}<pre class="json">{_esc(text)}</pre>{_note(note)}</details>'


def _log(page: _Page, execution: Execution) -> str:
    path = model.log_path(execution, page.artifacts(execution, "OUTPUT"))
    if path is None:
        return ""
    text, note = _log_tail(path, limit=page.log_bytes)
    is_open = " open" if execution.state == FAILED else ""
    summary = f'<summary>Log <code class="uri">{_esc(str(path))}</code></summary>'
    return f'<details class="block log"{is_open}>{summary}<pre>{_esc(text)}</pre>{_note(note)}</details>'


def _log_tail(path: Path, *, limit: int) -> tuple[str, str]:
    try:
        text, size = model.read_log_end(path, max_bytes=limit)
    except OSError as exc:
        return "", f"log unreadable: {exc.strerror or exc}"
    note = f"showing the last {limit // 1000} KB of {size} bytes" if size > limit else ""
    return text, note


# Small pieces ---------------------------------------------------------------------------------------------


def _duration(execution: Execution) -> float | None:
    start, end = model.execution_times(execution)
    return model.span(start, end)


def _seconds(value: Any) -> str:
    return f"{float(value):.2f}s" if isinstance(value, (int, float)) else "-"


def _rows(facts: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)


def _badge(state: str) -> str:
    return f'<span class="badge s-{_esc(state)}">{_esc(state)}</span>'


def _note(note: str) -> str:
    return f'<p class="muted">{_esc(note)}</p>' if note else ""


def _compact(value: Any, *, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)

