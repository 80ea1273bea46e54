"""Covers: `--resume` of a failed run: a task before the failure, a condition group, a loop whose second
iteration fails while a marker file is missing (the first iteration succeeds), and a task downstream of the
loop (`dsl.Collected`) that never started. Each component prints a PROBE line when it runs."""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def step(tag: str) -> str:
    import json

    print("PROBE " + json.dumps({"tag": tag}))
    return tag


@dsl.component(base_image="python:3.11")
def check(marker: str, item: str) -> str:
    import json
    import os

    print("PROBE " + json.dumps({"tag": f"check-{item}"}))
    if item == "y" and not os.path.exists(marker):
        raise RuntimeError(f"marker {marker} is missing")
    return item


@dsl.component(base_image="python:3.11")
def join(items: List[str]) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "join", "items": items}))
    return ",".join(items)


@dsl.pipeline(name="resume-after-failure")
def pipeline(marker: str):
    first = step(tag="first")
    with dsl.If(first.output == "first", name="gated"):
        step(tag="gated")
    with dsl.ParallelFor(["x", "y"]) as item:
        checked = check(marker=marker, item=item).after(first)
    join(items=dsl.Collected(checked.output))
