"""`ledger.views.preview`: artifact previews render what KFP writes and never pass user HTML through
unescaped."""

from __future__ import annotations

from pathlib import Path

from ledger.model import Artifact
from ledger.views.preview import html_frame, preview, read_artifact_text, render_markdown


def artifact(type_: str, uri: str = "/nowhere", **metadata: object) -> Artifact:
    return Artifact(id=1, type=type_, uri=uri, state="LIVE", properties={"display_name": "x", **metadata},
                    create_time=0.0)


def test_markdown_is_rendered() -> None:
    text = ("# Title\n\nSome **bold**, *em* and `co<de>`.\n\n- one\n- two\n\n1. first\n\n> quoted\n\n"
            "```\nx < y\n```")
    rendered = " ".join(render_markdown(text).split())
    for expected in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>em</em>", "<code>co&lt;de&gt;</code>",
                     "<ul> <li>one</li> <li>two</li> </ul>", "<ol> <li>first</li> </ol>",
                     "<blockquote> <p>quoted</p> </blockquote>", "<pre><code>x &lt; y </code></pre>"):
        assert expected in rendered


def test_markdown_tables() -> None:
    rendered = "".join(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |").split())
    assert ("<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr>"
            in rendered)


def test_markdown_never_passes_html_scripts_or_images() -> None:
    rendered = render_markdown('<img src=x onerror="alert(1)"> [site](https://example.com) ![pic](https://x/y.png)'
                               " [js](javascript:alert(1))\n\n<script>alert(2)</script>")
    assert "<img" not in rendered and "&lt;img" in rendered and "<script" not in rendered
    assert 'href="https://example.com"' in rendered and 'rel="noopener noreferrer nofollow"' in rendered
    assert 'href="javascript' not in rendered and "y.png" not in rendered


def test_html_artifact_is_sandboxed_and_escaped() -> None:
    frame = html_frame('<p onclick="x()">hi</p>')
    assert frame.startswith('<iframe class="html-artifact" sandbox="" ')
    assert "&lt;p onclick=&quot;x()&quot;&gt;hi&lt;/p&gt;" in frame
    assert "Content-Security-Policy" in frame


def test_metrics_and_confusion_matrix() -> None:
    metrics = preview(artifact("system.Metrics", accuracy=0.5, note="<b>"))
    assert "<th>accuracy</th><td>0.5</td>" in metrics and "&lt;b&gt;" in metrics
    assert "display_name" not in metrics
    matrix = {"annotationSpecs": [{"displayName": "a"}, {"displayName": "b"}],
              "rows": [{"row": [3, 1]}, {"row": [0, 4]}]}
    table = preview(artifact("system.ClassificationMetrics", confusionMatrix=matrix,
                             confidenceMetrics=[{"falsePositiveRate": 0, "recall": 0},
                                                {"falsePositiveRate": 1, "recall": 1}]))
    assert "<th>a</th><th>b</th></tr>" in table
    assert "<polyline" in table


def test_text_artifacts_are_cut_at_a_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_text("x" * 2000)
    text, note = read_artifact_text(str(big), limit=1000)
    assert text == "x" * 1000 and "first 1 KB" in note
    assert read_artifact_text("s3://bucket/key")[0] is None
