"""Covers: design decision 10, a ParallelFor inside a ParallelFor over the same list (a list of strings and a
list of dicts, read with `item.k`), and a task inside the outer loop that reads the whole list. The inner
loop task and that task take the list through the outer iteration (`componentInputParameter:
pipelinechannel--letters`): the backend's iteration driver deletes it there, the SDK and kfp.local keep it.
Each task reports what it received with a PROBE line."""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def show(tag: str, outer: str = "", inner: str = "", whole: List[str] = []):
    import json

    print("PROBE " + json.dumps({"tag": tag, "outer": outer, "inner": inner, "whole": whole}))


@dsl.pipeline(name="loop-over-same-list")
def pipeline(letters: List[str] = ["a", "b"], rows: List[dict] = [{"k": "x"}, {"k": "y"}]):
    with dsl.ParallelFor(letters) as letter:
        show(tag="outer", outer=letter, whole=letters)
        with dsl.ParallelFor(letters) as again:
            show(tag="inner", inner=again)
    with dsl.ParallelFor(rows) as row:
        show(tag="outer-row", outer=row.k)
        with dsl.ParallelFor(rows) as other:
            show(tag="inner-row", inner=other.k)
