"""`python -m ledger report RUN -o FILE`: one self-contained HTML page with a run, its graph, every task."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ledger.model import RunView
from ledger.views import report_assets, sections
from ledger.views.sections import esc

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


def render_report(view: RunView) -> str:
    page = sections.PageData.of(view)
    labels, durations = page.labels, page.durations
    root = sections.root_of(view)
    shown = [e for e in view.executions.values() if e is not root]
    shown.sort(key=lambda e: (labels[e.id], e.id))
    name = view.header.pipeline_name
    details = "".join(sections.task_section(page, e) for e in shown)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(name)} · run {esc(view.run_id)}</title><style>{report_assets.CSS}</style></head>"
        f'<body data-run="{esc(view.run_id)}" data-state="{esc(view.state)}">'
        f"{sections.run_header(view, root=root)}"
        f'<section id="graph"><h2>Graph</h2>{sections.legend()}'
        f'<div class="graph-scroll">{sections.graph_svg(page, root=root)}</div></section>'
        f"{sections.failures(view, labels)}"
        f'<section id="tasks"><h2>Tasks</h2><div id="filters" class="filters"></div>'
        f"{sections.task_table(shown, labels=labels, durations=durations)}</section>"
        f'<section id="details"><h2>Details</h2>{details}</section>'
        f"<footer>written by <code>python -m ledger report</code> from the ledger in"
        f" {esc(view.header.pipeline_root)}</footer>"
        f"<script>{report_assets.JS}</script></body></html>\n"
    )
