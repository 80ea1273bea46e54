"""Artifact previews for the report and the UI: Metrics, ClassificationMetrics, Markdown, HTML, files."""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt

from ledger.model import Artifact

# Where the UI serves a local file (None: not served); the static report has none.
FileUrl = Callable[[str], "str | None"]

MAX_TEXT_BYTES = 256_000
# The page's policy already forbids fetching; the artifact's own copy keeps it so if opened on its own.
_FRAME_POLICY = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
                 ' style-src \'unsafe-inline\'; img-src data:">')


def preview(artifact: Artifact, *, file_url: FileUrl | None = None) -> str:
    """What a page shows for one artifact beyond its URI: a table, a matrix, rendered text, a frame, or a
    file's size and first rows. With `file_url` (the UI) files are linked; without (the report) they are not,
    and an HTML artifact is inlined into its sandboxed frame."""
    metadata = artifact.metadata
    if artifact.type == "system.Metrics":
        return metrics_table(metadata)
    if artifact.type == "system.ClassificationMetrics":
        return classification(metadata)
    if artifact.type == "system.HTML" and file_url is not None:
        url = file_url(artifact.uri.removeprefix("file://"))
        if url is not None:
            return served_html_frame(f"{url}?view=html") + file_preview(artifact.uri, file_url=file_url)
    if artifact.type in ("system.Markdown", "system.HTML"):
        text, note = read_artifact_text(artifact.uri)
        if text is None:
            return f'<p class="muted">{_esc(note)}</p>'
        body = render_markdown(text) if artifact.type == "system.Markdown" else html_frame(text)
        return body + (f'<p class="muted">{_esc(note)}</p>' if note else "") + (
            file_preview(artifact.uri, file_url=file_url) if file_url else "")
    table = metrics_table(metadata, caption="metadata") if metadata else ""
    return table + file_preview(artifact.uri, file_url=file_url)


def metrics_table(metadata: dict[str, Any], *, caption: str = "") -> str:
    if not metadata:
        return '<p class="muted">no metrics logged</p>'
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_scalar(v))}</td></tr>"
                   for k, v in sorted(metadata.items()))
    head = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f'<table class="kv metrics">{head}{rows}</table>'


def classification(metadata: dict[str, Any]) -> str:
    """A confusion matrix (rows: actual, columns: predicted) and an ROC curve when they were logged."""
    parts = []
    matrix = metadata.get("confusionMatrix")
    if isinstance(matrix, dict):
        parts.append(confusion_matrix(matrix))
    curve = metadata.get("confidenceMetrics")
    if isinstance(curve, list) and curve:
        parts.append(roc_curve(curve))
    rest = {k: v for k, v in metadata.items() if k not in ("confusionMatrix", "confidenceMetrics")}
    if rest:
        parts.append(metrics_table(rest, caption="metadata"))
    return "".join(parts) or '<p class="muted">no classification metrics logged</p>'


def confusion_matrix(matrix: dict[str, Any]) -> str:
    labels = [str(spec.get("displayName", "")) for spec in matrix.get("annotationSpecs", [])]
    rows = [list(row.get("row", [])) for row in matrix.get("rows", [])]
    peak = max((float(v) for row in rows for v in row), default=0.0) or 1.0
    head = "".join(f"<th>{_esc(label)}</th>" for label in labels)
    body = []
    for label, row in zip(labels, rows, strict=False):  # a short row list shows what there is
        cells = "".join(_matrix_cell(v, peak=peak) for v in row)
        body.append(f"<tr><th>{_esc(label)}</th>{cells}</tr>")
    return (f'<table class="confusion"><caption>confusion matrix (rows: actual, columns: predicted)</caption>'
            f'<tr><th class="corner">actual \\ predicted</th>{head}</tr>{"".join(body)}</table>')


def _matrix_cell(value: Any, *, peak: float) -> str:
    shade = 0.08 + 0.6 * float(value) / peak
    return f'<td style="background:rgba(37,99,235,{shade:.2f})">{_esc(_scalar(value))}</td>'


def roc_curve(points: list[Any], *, size: int = 180) -> str:
    """Recall against false positive rate, as a small SVG polyline."""
    xy = sorted((float(p.get("falsePositiveRate", 0)), float(p.get("recall", 0)))
                for p in points if isinstance(p, dict))
    coords = " ".join(f"{x * size:.1f},{(1 - y) * size:.1f}" for x, y in xy)
    box = size + 2
    return (f'<figure class="roc"><svg width="{box}" height="{box}" viewBox="-1 -1 {box} {box}">'
            f'<rect width="{size}" height="{size}" class="axes"/>'
            f'<line x1="0" y1="{size}" x2="{size}" y2="0" class="chance"/>'
            f'<polyline points="{coords}" class="curve"/></svg>'
            "<figcaption>ROC: recall against false positive rate</figcaption></figure>")


def read_artifact_text(uri: str, *, limit: int = MAX_TEXT_BYTES) -> tuple[str | None, str]:
    """The artifact file's text (at most `limit` bytes) and a note when it was cut or is unreadable."""
    path = Path(uri.removeprefix("file://"))
    if not path.is_absolute():
        return None, f"not a local file: {uri}"
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    note = f"showing the first {limit // 1000} KB of {path}" if len(data) > limit else ""
    return data[:limit].decode("utf-8", errors="replace"), note


def served_html_frame(url: str) -> str:
    """The artifact's page fetched from the UI into a frame that may run nothing (`sandbox=""`); the server
    adds `Content-Security-Policy: sandbox` to the file itself, so it is sandboxed even when opened alone."""
    return f'<iframe class="html-artifact" sandbox="" title="HTML artifact" src="{_esc(url)}"></iframe>'


def html_frame(text: str) -> str:
    """The artifact's page in a frame that may run nothing and reach nothing (`sandbox=""`)."""
    return (f'<iframe class="html-artifact" sandbox="" title="HTML artifact" '
            f'srcdoc="{html.escape(_FRAME_POLICY + text, quote=True)}"></iframe>')


# Markdown: rendered by markdown-it-py with raw HTML off (it is shown as text), then sanitised by nh3, which
# keeps only the tags below; links keep an http(s) target and open nowhere by themselves, images are dropped.

_MARKDOWN_TAGS = frozenset({
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
})


def render_markdown(text: str) -> str:
    """The Markdown as sanitised HTML inside a `div.markdown`."""
    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough").render(text)
    clean = nh3.clean(rendered, tags=set(_MARKDOWN_TAGS), attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow")
    return f'<div class="markdown">{clean}</div>'


# Datasets and other files: their size, and the first rows of a table in text.

_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
FIRST_ROWS = 20


def file_preview(uri: str, *, file_url: FileUrl | None) -> str:
    """A local artifact file's size, a download link when served, and the first rows of CSV, TSV or JSON
    Lines; "" for a URI that is not a local file."""
    path = Path(uri.removeprefix("file://"))
    if not path.is_absolute():
        return ""
    try:
        info = path.stat()
    except OSError:
        return '<p class="muted">no file at this URI</p>'
    if path.is_dir():
        return f'<p class="muted">a directory of {sum(1 for _ in path.iterdir())} entries</p>'
    url = file_url(str(path)) if file_url else None
    link = f' · <a href="{_esc(url)}" download>download</a>' if url else ""
    return f'<p class="file-size muted">{_size(info.st_size)}{link}</p>{_first_rows(path)}'


def _first_rows(path: Path) -> str:
    text, _ = read_artifact_text(str(path), limit=64_000)
    lines = (text or "").splitlines()[: FIRST_ROWS + 1]
    suffix = path.suffix.lower() or _sniffed_suffix(lines)
    if suffix not in _TABLE_SUFFIXES and suffix not in _JSON_LINES_SUFFIXES:
        return ""
    if suffix in _JSON_LINES_SUFFIXES:
        return f'<pre class="rows">{_esc(chr(10).join(lines[:FIRST_ROWS]))}</pre>'
    rows = list(csv.reader(lines, delimiter=_TABLE_SUFFIXES[suffix]))
    if not rows:
        return ""
    head = "".join(f"<th>{_esc(cell)}</th>" for cell in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_esc(cell)}</td>" for cell in row) + "</tr>" for row in rows[1:])
    return (f'<table class="rows"><caption>first {len(rows) - 1} rows</caption>'
            f"<tr>{head}</tr>{body}</table>")


def _sniffed_suffix(lines: list[str]) -> str:
    """What a file without a suffix (a KFP Dataset's usual path) looks like: JSON Lines, TSV, CSV, or ""."""
    if len(lines) < 2 or any("\x00" in line for line in lines):
        return ""
    if all(line.lstrip().startswith("{") for line in lines if line.strip()):
        return ".jsonl"
    for suffix, delimiter in (".tsv", "\t"), (".csv", ","):
        if delimiter in lines[0] and lines[0].count(delimiter) == lines[1].count(delimiter):
            return suffix
    return ""


def _size(size: int) -> str:
    value, unit = float(size), "bytes"
    for larger in ("KB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
