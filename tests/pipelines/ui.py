"""Covers: the web UI (tests/ui): a task that waits for a file the test creates (a run a page watches change
live), Metrics, Markdown, a CSV dataset, and an HTML artifact that tries to script the page around it and to
call the UI's API."""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Markdown, Metrics, Output

HOSTILE_PAGE = """<html><head><title>artifact</title></head><body><h1 id='inner'>hostile artifact</h1><script>
document.title = 'ran';
try { parent.document.body.dataset.pwned = 'parent'; } catch (e) {}
try { fetch('/api/runs').then(function () { document.title = 'fetched';
  try { parent.document.body.dataset.pwned = 'fetch'; } catch (e) {} }); } catch (e) {}
</script></body></html>"""


@dsl.component(base_image="python:3.11")
def evaluate(accuracy: float, page_html: str, metrics: Output[Metrics], notes: Output[Markdown],
             page: Output[HTML], rows: Output[Dataset]):
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("loss", 1 - accuracy)
    with open(notes.path, "w") as file:
        file.write(f"# Model card\n\nAccuracy is **{accuracy}**.\n\n")
        file.write("<script>document.body.dataset.pwned = 'md'</script>\n")
    with open(page.path, "w") as file:
        file.write(page_html)
    with open(rows.path, "w") as file:
        file.write("name,score\nalpha,1\nbeta,2\n")


@dsl.component(base_image="python:3.11")
def wait_for(gate: str) -> str:
    import os
    import time

    deadline = time.monotonic() + 90
    print("waiting for " + gate, flush=True)
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("gate opened", flush=True)
    return "opened"


@dsl.pipeline(name="ui")
def pipeline(gate: str = "", accuracy: float = 0.9, page_html: str = HOSTILE_PAGE):
    evaluate(accuracy=accuracy, page_html=page_html)
    wait_for(gate=gate)
