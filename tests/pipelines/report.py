"""Covers: what the HTML report shows: a loop with a condition inside, a condition on a nested pipeline,
Metrics, ClassificationMetrics, Markdown and HTML artifacts, and a task that fails (so the run fails).

`fail=False` makes every task succeed; by default `explode` fails after printing a few log lines.
"""

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Markdown, Metrics, Output


@dsl.component(base_image="python:3.11")
def evaluate(metrics: Output[Metrics], matrix: Output[ClassificationMetrics]) -> float:
    metrics.log_metric("accuracy", 0.9)
    metrics.log_metric("loss", 0.25)
    matrix.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
    print("evaluated: accuracy 0.9")
    return 0.9


@dsl.component(base_image="python:3.11")
def describe(accuracy: float, notes: Output[Markdown], page: Output[HTML]):
    with open(notes.path, "w") as file:
        file.write(f"# Model card\n\nAccuracy is **{accuracy}**.\n\n")
        file.write("- trained locally\n- <script>x</script>\n")
    with open(page.path, "w") as file:
        # The image is off the page: the report's policy must block it (the browser test checks it did).
        file.write("<html><body><h1 id='inner'>Hello from an HTML artifact</h1>"
                   "<img src='https://example.invalid/pixel.png'></body></html>")


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x


@dsl.component(base_image="python:3.11")
def shout(text: str) -> str:
    return text.upper()


@dsl.component(base_image="python:3.11")
def explode(fail: bool):
    for i in range(30):
        print(f"working {i} <b>not bold</b>")
    if fail:
        raise RuntimeError("exploded on purpose")


@dsl.pipeline(name="report-inner")
def inner(text: str) -> str:
    return shout(text=text).output


@dsl.pipeline(name="report")
def pipeline(fail: bool = True, text: str = "hi"):
    evaluated = evaluate()
    describe(accuracy=evaluated.outputs["Output"])
    with dsl.ParallelFor([1, 2, 3]) as x, dsl.If(x > 1):  # a condition group inside each iteration
        square(x=x)
    with dsl.If(text == "hi"):
        inner(text=text)
    with dsl.If(text == "never"):
        shout(text=text)
    explode(fail=fail).after(evaluated)
