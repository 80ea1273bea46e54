"""The UI's pages (runs, a run, compare, errors), composed from the pieces the static report draws with."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ledger import model
from ledger.lineage import ArtifactUse
from ledger.model import RunView
from ledger.views import preview, sections
from ledger.views.diff import diff_runs
from ledger.views.sections import PageData, badge, esc, seconds

# A loop with more iterations than this is one row of counts until it is opened.
FOLD_LOOPS_OVER = 50
STATES = ("RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED", "DAMAGED")


def run_url(run_id: str) -> str:
    return f"/runs/{quote(run_id, safe='')}"


def _document(title: str, body: str, *, body_attributes: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title><link rel="stylesheet" href="/assets/ui.css"></head>'
            f'<body{body_attributes}><nav class="top"><a href="/">runs</a></nav>{body}'
            '<script src="/assets/ui.js"></script></body></html>\n')


# Runs ----------------------------------------------------------------------------------------------------


def runs_page(runs: list[dict[str, Any]], *, pipeline: str = "", state: str = "") -> str:
    """Every run of the home (the `runs --json` rows), newest first, filtered by pipeline and state."""
    pipelines = sorted({str(run["pipeline_name"]) for run in runs})
    body = (f"<h1>Runs</h1>{_runs_filters(pipelines, pipeline=pipeline, state=state)}"
            f'<form method="get" action="/compare" id="compare-form">'
            f'<div id="runs-box">{runs_table(runs, pipeline=pipeline, state=state)}</div>'
            '<p><button type="submit">compare the checked runs</button></p></form>')
    return _document("runs", body, body_attributes=f' data-page="runs" data-now="{time.time():.3f}"')


def _runs_filters(pipelines: list[str], *, pipeline: str, state: str) -> str:
    def options(values: list[str] | tuple[str, ...], chosen: str) -> str:
        return "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>'
                       f'{esc(v or "all")}</option>' for v in ("", *values))

    return ('<form method="get" action="/" class="filters" id="runs-filter">'
            f'<label>pipeline <select name="pipeline">{options(pipelines, pipeline)}</select></label> '
            f'<label>state <select name="state">{options(STATES, state)}</select></label> '
            '<button type="submit">filter</button></form>')


def runs_table(runs: list[dict[str, Any]], *, pipeline: str = "", state: str = "") -> str:
    shown = [run for run in runs if (not pipeline or run["pipeline_name"] == pipeline)
             and (not state or run["state"] == state)]
    if not shown:
        return '<p class="muted">no runs (python -m driver PIPELINE records one)</p>'
    head = "".join(f"<th>{name}</th>" for name in
                   ("", "run", "pipeline", "state", "created", "duration", "tasks", "parameters"))
    rows = "".join(_run_row(run) for run in shown)
    return f'<table class="tasks runs"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _run_row(run: dict[str, Any]) -> str:
    run_id, state = str(run["run_id"]), str(run["state"])
    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted((run.get("task_counts") or {}).items()))
    ticking = (f' data-start="{float(run["start_time"]):.3f}"'
               if state == model.RUNNING and run.get("start_time") is not None else "")
    parameters = run.get("parameters")
    shown = ", ".join(f"{k}={sections.compact(v, limit=60)}" for k, v in sorted(parameters.items())) \
        if isinstance(parameters, dict) else "-"
    return (f'<tr data-state="{esc(state)}" data-run="{esc(run_id)}">'
            f'<td><input type="checkbox" name="runs" value="{esc(run_id)}" aria-label="compare"></td>'
            f'<td><a href="{esc(run_url(run_id))}" title="{esc(run_id)}">{esc(run_id[:12])}</a></td>'
            f'<td>{esc(str(run["pipeline_name"]))}</td><td>{badge(state)}</td>'
            f'<td>{esc(str(run.get("created") or "-"))}</td>'
            f'<td class="num"{ticking}>{seconds(run.get("duration"))}</td>'
            f"<td>{esc(counts or '-')}</td>"
            f"<td><code>{esc(sections.compact(shown, limit=200))}</code></td></tr>")


# A run ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunParts:
    """The parts of a run's page that change while it runs: the UI swaps them in place."""

    state: str
    header: str
    graph: str
    failures: str
    table: str

    def to_json(self) -> dict[str, str]:
        return {"state": self.state, "header": self.header, "graph": self.graph, "failures": self.failures,
                "table": self.table}


def run_parts(page: PageData) -> RunParts:
    view = page.view
    root = sections.root_of(view)
    shown = sorted((e for e in view.executions.values() if e is not root),
                   key=lambda e: (page.labels[e.id], e.id))
    kept, folded = sections.fold_big_loops(view, shown, limit=FOLD_LOOPS_OVER)
    base = run_url(view.run_id)
    return RunParts(
        state=view.state,
        header=sections.run_header(view, root=root),
        graph=sections.graph_svg(page, root=root),
        failures=sections.failures(view, page.labels),
        table=sections.task_table(kept, labels=page.labels, durations=page.durations, folded=folded,
                                  loop_url=lambda loop_id: f"{base}/loops/{loop_id}"),
    )


def run_page(page: PageData) -> str:
    """A run: its header, graph, failures and tasks, kept current by the page's script; a task's panel
    opens beside them."""
    view, parts = page.view, run_parts(page)
    body = (f'<div id="run-header">{parts.header}</div>'
            f'<section id="graph"><h2>Graph</h2>{sections.legend()}'
            f'<div class="graph-scroll" id="graph-box">{parts.graph}</div></section>'
            f'<div id="failures-box">{parts.failures}</div>'
            f'<div class="split"><section id="tasks"><h2>Tasks</h2><div id="table-box">{parts.table}</div>'
            '</section><aside id="panel"><p class="muted">click a task for its details</p></aside></div>')
    name = view.header.pipeline_name
    attributes = (f' data-page="run" data-run="{esc(view.run_id)}" data-state="{esc(view.state)}"'
                  f' data-now="{time.time():.3f}"')
    return _document(f"{name} · run {view.run_id}", body, body_attributes=attributes)


def loop_rows(page: PageData, loop_id: int) -> str:
    """The executions inside one loop (its iterations and their tasks), as rows of the task table."""
    view = page.view
    # Depth first from the root: each iteration followed by its tasks.
    inside = [e for _, e in model.tree_order(view) if _within(view, e, loop_id)]
    kept, folded = sections.fold_big_loops(view, inside, limit=FOLD_LOOPS_OVER, opened=loop_id)
    base = run_url(view.run_id)
    return sections.task_table(kept, labels=page.labels, durations=page.durations, folded=folded,
                               loop_url=lambda inner: f"{base}/loops/{inner}")


def _within(view: RunView, execution: model.Execution, loop_id: int) -> bool:
    parent = execution.parent_dag_id
    seen = 0
    while parent is not None and parent in view.executions and seen < 64:  # a damaged journal's cycle ends
        if parent == loop_id:
            return True
        parent, seen = view.executions[parent].parent_dag_id, seen + 1
    return False


def task_panel(page: PageData, execution_id: int) -> str | None:
    execution = page.view.executions.get(execution_id)
    return sections.task_section(page, execution, is_open=True) if execution is not None else None


def artifact_page(page: PageData, artifact_id: int, *, uses: list[ArtifactUse] | None = None) -> str | None:
    """An artifact's lineage: the executions of its run that wrote it and that read it, its view, and
    (`uses`, from `ledger.lineage.artifact_uses`) every execution of the home's other runs that wrote or
    read it, cache hits included."""
    view = page.view
    artifact = view.artifacts.get(artifact_id)
    if artifact is None:
        return None
    base = run_url(view.run_id)

    def linked(event_type: str) -> str:
        items = [f'<li><a href="{base}#x{e.execution_id}">{esc(page.labels.get(e.execution_id, "?"))}</a>'
                 f" as <code>{esc(e.path)}</code> {badge(view.executions[e.execution_id].state)}</li>"
                 for e in view.events if e.artifact_id == artifact_id and e.type == event_type]
        return f'<ul>{"".join(items)}</ul>' if items else '<p class="muted">none in this run</p>'

    body = (f'<p><a href="{base}">run {esc(view.run_id)}</a></p>'
            f'<h1>{esc(artifact.type)} <span class="muted">artifact {artifact.id}</span></h1>'
            f'<p><code class="uri">{esc(artifact.uri)}</code></p>'
            f'<div class="artifact">{preview.preview(artifact, file_url=page.file_url)}</div>'
            f'<h2>Written by</h2><div id="producers">{linked("OUTPUT")}</div>'
            f'<h2>Read by</h2><div id="consumers">{linked("INPUT")}</div>'
            f'<h2>In other runs</h2><div id="elsewhere">{_uses_elsewhere(view.run_id, uses or [])}</div>')
    return _document(f"artifact {artifact.id} · run {view.run_id}", body)


def _uses_elsewhere(run_id: str, uses: list[ArtifactUse]) -> str:
    items = [f'<li><a href="{run_url(use.run_id)}#x{use.execution_id}">{esc(use.run_id[:12])} ·'
             f' {esc(use.label)}</a> {"wrote" if use.event_type == "OUTPUT" else "read"} it as'
             f" <code>{esc(use.name)}</code> {badge(use.state)}</li>"
             for use in uses if use.run_id != run_id]
    return f'<ul>{"".join(items)}</ul>' if items else '<p class="muted">no other run of this home used it</p>'


# Compare -------------------------------------------------------------------------------------------------


def compare_page(views: list[RunView]) -> str:
    """Runs side by side: parameters (differences marked), every scalar metric, and per task what changed
    from the first run (`diff`)."""
    heads = "".join(f'<th><a href="{esc(run_url(v.run_id))}">{esc(v.run_id[:12])}</a> {badge(v.state)}</th>'
                    for v in views)
    parameters = [{str(k): v for k, v in view.header.parameters.items()} for view in views]
    metrics = [scalar_metrics(view) for view in views]
    body = ("<h1>Compare runs</h1>"
            f'<h2>Parameters</h2>{_side_by_side(parameters, heads=heads, what="parameter", id_="parameters")}'
            "<h2>Metrics</h2>"
            f'{_side_by_side(metrics, heads=heads, what="task / artifact / metric", id_="metrics")}'
            f"<h2>Tasks that changed</h2>{''.join(_changes(views[0], other) for other in views[1:])}")
    return _document("compare", body, body_attributes=' data-page="compare"')


def scalar_metrics(view: RunView) -> dict[str, Any]:
    """`label / output / metric` -> value for every scalar a current task logged into a Metrics artifact."""
    labels = model.label_executions(view)
    found: dict[str, Any] = {}
    for execution in view.executions.values():
        if not model.is_current(execution):
            continue
        for name, artifacts in view.artifacts_of(execution.id, "OUTPUT").items():
            for artifact in artifacts:
                if artifact.type != "system.Metrics":
                    continue
                for metric, value in artifact.metadata.items():
                    if isinstance(value, (int, float, str, bool)):
                        found[f"{labels[execution.id]} / {name} / {metric}"] = value
    return dict(sorted(found.items()))


def _side_by_side(columns: list[dict[str, Any]], *, heads: str, what: str, id_: str) -> str:
    names = sorted({name for column in columns for name in column})
    if not names:
        return f'<p class="muted">no {esc(what.split(" / ")[-1])}s</p>'
    rows = []
    for name in names:
        values = [json.dumps(column[name], ensure_ascii=False) if name in column else "-"
                  for column in columns]
        differs = ' class="differs"' if len(set(values)) > 1 else ""
        cells = "".join(f"<td><code>{esc(sections.compact(v))}</code></td>" for v in values)
        rows.append(f'<tr{differs}><th>{esc(name)}</th>{cells}</tr>')
    return (f'<table class="tasks compare" id="{id_}"><thead><tr><th>{esc(what)}</th>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _changes(view_a: RunView, view_b: RunView) -> str:
    document = diff_runs(view_a, view_b)
    title = f"<h3>{esc(view_a.run_id[:12])} → {esc(view_b.run_id[:12])}</h3>"
    items = []
    for change in document["changed"]:
        fields = "; ".join(f"{name}: {sections.compact(values['a'], limit=80)} → "
                           f"{sections.compact(values['b'], limit=80)}"
                           for name, values in change["fields"].items())
        items.append(f"<li><strong>{esc(change['task'])}</strong> {esc(fields)}</li>")
    items += [f"<li><strong>{esc(label)}</strong> only in {esc(view_a.run_id[:12])}</li>"
              for label in document["only_in_a"]]
    items += [f"<li><strong>{esc(label)}</strong> only in {esc(view_b.run_id[:12])}</li>"
              for label in document["only_in_b"]]
    unchanged = f'<p class="muted">{document["unchanged"]} tasks unchanged</p>'
    return title + (f'<ul class="changes">{"".join(items)}</ul>' if items else "") + unchanged


# Errors --------------------------------------------------------------------------------------------------


def not_found_page(message: str) -> str:
    body = (f'<h1>Not found</h1><p class="error">{esc(message)}</p>'
            "<p><code>python -m ledger runs</code> lists the runs of this home; "
            '<a href="/">the runs page</a> shows them too.</p>')
    return _document("not found", body)


def damaged_page(run_id: str, message: str) -> str:
    body = (f'<h1>Run {esc(run_id)} <span class="badge s-DAMAGED">DAMAGED</span></h1>'
            f'<p class="error">{esc(message)}</p><p>The run\'s journal cannot be read past this point;'
            " nothing was changed. <code>python -m ledger show RUN</code> names the same damage.</p>")
    return _document(f"run {run_id}: damaged", body, body_attributes=' data-state="DAMAGED"')
