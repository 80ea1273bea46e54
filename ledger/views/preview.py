"""Artifact previews for the HTML report: Metrics, ClassificationMetrics, Markdown and HTML, all escaped."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from ledger.model import Artifact

MAX_TEXT_BYTES = 256_000
_HIDDEN_METADATA = frozenset({"display_name"})
# The page's policy already forbids fetching; the artifact's own copy keeps it so if opened on its own.
_FRAME_POLICY = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
                 ' style-src \'unsafe-inline\'; img-src data:">')


def preview(artifact: Artifact) -> str:
    """What the report shows for one artifact beyond its URI: a table, a matrix, rendered text or a frame."""
    metadata = {k: v for k, v in artifact.properties.items() if k not in _HIDDEN_METADATA}
    if artifact.type == "system.Metrics":
        return metrics_table(metadata)
    if artifact.type == "system.ClassificationMetrics":
        return classification(metadata)
    if artifact.type in ("system.Markdown", "system.HTML"):
        text, note = read_artifact_text(artifact.uri)
        if text is None:
            return f'<p class="muted">{_esc(note)}</p>'
        body = render_markdown(text) if artifact.type == "system.Markdown" else html_frame(text)
        return body + (f'<p class="muted">{_esc(note)}</p>' if note else "")
    return metrics_table(metadata, caption="metadata") if metadata else ""


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


def html_frame(text: str) -> str:
    """The artifact's page in a frame that may run nothing and reach nothing (`sandbox=""`)."""
    return (f'<iframe class="html-artifact" sandbox="" title="HTML artifact" '
            f'srcdoc="{html.escape(_FRAME_POLICY + text, quote=True)}"></iframe>')


# A small, safe Markdown subset: everything is escaped first, then headings, lists, quotes, code, tables,
# emphasis and links (shown as text: the report follows no link by itself).

_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__"), lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"),
     lambda m: f"<em>{m.group(1) or m.group(2)}</em>"),
    (re.compile(r"!\[([^\]]*)\]\(([^)\s]*)[^)]*\)"),
     lambda m: f'<span class="image">[image: {m.group(1)}]</span>'),
    (re.compile(r"\[([^\]]+)\]\(([^)\s]*)[^)]*\)"),
     lambda m: f'{m.group(1)} <span class="url">({m.group(2)})</span>'),
]
_BLOCK_START = re.compile(r"^(#{1,6}\s|```|>|\s*([-*+]|\d+[.)])\s|\|)")


def render_markdown(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        i = _render_block(lines, i, out)
    return f'<div class="markdown">{"".join(out)}</div>'


def _render_block(lines: list[str], i: int, out: list[str]) -> int:
    line = lines[i]
    stripped = line.strip()
    if not stripped:
        return i + 1
    if stripped.startswith("```"):
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
        out.append(f"<pre><code>{_esc(chr(10).join(lines[i + 1:end]))}</code></pre>")
        return end + 1
    heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*$", stripped)
    if heading:
        level = len(heading.group(1))
        out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        return i + 1
    if re.match(r"^([-*_])(\s*\1){2,}$", stripped):
        out.append("<hr>")
        return i + 1
    if stripped.startswith(">"):
        end = _run(lines, i, lambda s: s.startswith(">"))
        quoted = "\n".join(ln.strip()[1:].lstrip() for ln in lines[i:end])
        out.append(f"<blockquote>{render_markdown(quoted)}</blockquote>")
        return end
    if re.match(r"^([-*+]|\d+[.)])\s", stripped):
        return _render_list(lines, i, out)
    if stripped.startswith("|"):
        end = _run(lines, i, lambda s: s.startswith("|"))
        out.append(_render_table(lines[i:end]))
        return end
    end = _run(lines, i, lambda s: bool(s) and not _BLOCK_START.match(s), first=True)
    out.append(f"<p>{inline(' '.join(ln.strip() for ln in lines[i:end]))}</p>")
    return end


def _run(lines: list[str], i: int, belongs: Any, *, first: bool = False) -> int:
    """The index after the run of lines starting at `i` whose stripped text `belongs`."""
    end = i + 1 if first else i
    while end < len(lines) and belongs(lines[end].strip()):
        end += 1
    return end


def _render_list(lines: list[str], i: int, out: list[str]) -> int:
    ordered = bool(re.match(r"^\s*\d", lines[i]))
    items = []
    end = i
    while end < len(lines):
        item = re.match(r"^\s*([-*+]|\d+[.)])\s+(.*)$", lines[end])
        if item is None:
            break
        items.append(f"<li>{inline(item.group(2))}</li>")
        end += 1
    tag = "ol" if ordered else "ul"
    out.append(f"<{tag}>{''.join(items)}</{tag}>")
    return end


def _render_table(rows: list[str]) -> str:
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    body = [row for row in cells if not all(re.fullmatch(r":?-{2,}:?", c) for c in row if c)]
    if not body:
        return ""
    head = "".join(f"<th>{inline(c)}</th>" for c in body[0])
    rest = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body[1:])
    return f"<table><tr>{head}</tr>{rest}</table>"


def inline(text: str) -> str:
    """Escape, then apply code spans, emphasis and links; code spans are left untouched by the rest."""
    pieces = re.split(r"(`[^`]+`)", text)
    rendered = []
    for piece in pieces:
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            rendered.append(f"<code>{_esc(piece[1:-1])}</code>")
            continue
        piece = _esc(piece)
        for pattern, replace in _INLINE:
            piece = pattern.sub(replace, piece)
        rendered.append(piece)
    return "".join(rendered)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
