"""Covers: dsl.Collected of parameters (List[int] arrives as ints) and of artifacts, in iteration order even
when iterations finish out of order, and over a loop with zero iterations (an empty list); a Collected
returned as a nested pipeline's output, and one passed into a nested pipeline (the whole list, not collapsed
to one artifact). Inside an iteration, a consumer gets its producer's output from the same iteration."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    import time

    time.sleep(max(0.0, 0.3 * (3 - x)))  # iterations finish in reverse order of their index
    return x * x


@dsl.component(base_image="python:3.11")
def pair(x: int, squared: int):
    import json

    print("PROBE " + json.dumps({"tag": "same-iteration", "x": x, "squared": squared}))


@dsl.component(base_image="python:3.11")
def write_text(text: str, out: Output[Dataset]):
    import time

    time.sleep(0.6 if text == "first" else 0)  # the first iteration finishes last
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["text"] = text


@dsl.component(base_image="python:3.11")
def total(tag: str, numbers: List[int]) -> int:
    import json

    types = [type(n).__name__ for n in numbers]
    print("PROBE " + json.dumps({"tag": tag, "numbers": numbers, "types": types}))
    return sum(numbers)


@dsl.component(base_image="python:3.11")
def read_all(tag: str, datasets: Input[List[Dataset]]):
    import json

    # The SDK executor hands an empty artifact list to the function as None (as it would on a cluster).
    received_none = datasets is None
    datasets = datasets or []
    texts = []
    for dataset in datasets:
        with open(dataset.path) as f:
            texts.append(f.read())
    metadata = [d.metadata.get("text") for d in datasets]
    print("PROBE " + json.dumps({"tag": tag, "texts": texts, "metadata": metadata,
                                 "paths_are_uris": all(d.path == d.uri for d in datasets),
                                 "received_none": received_none}))


@dsl.pipeline
def squares(items: List[int]) -> List[int]:
    with dsl.ParallelFor(items) as x:
        squared = square(x=x)
    return dsl.Collected(squared.output)


@dsl.pipeline
def read_in_nested(datasets: Input[List[Dataset]]):
    read_all(tag="nested-artifacts", datasets=datasets)


@dsl.pipeline(name="collected")
def pipeline(nothing: List[int] = []):
    with dsl.ParallelFor([1, 2, 3]) as x:
        squared = square(x=x)
        pair(x=x, squared=squared.output)
    total(tag="ints", numbers=dsl.Collected(squared.output))

    with dsl.ParallelFor(["first", "second", "third"]) as text:
        written = write_text(text=text)
    read_all(tag="artifacts", datasets=dsl.Collected(written.outputs["out"]))
    read_in_nested(datasets=dsl.Collected(written.outputs["out"]))

    with dsl.ParallelFor(nothing) as never:
        squared_never = square(x=never)
        written_never = write_text(text="never")
    total(tag="empty-ints", numbers=dsl.Collected(squared_never.output))
    read_all(tag="empty-artifacts", datasets=dsl.Collected(written_never.outputs["out"]))

    total(tag="from-nested-pipeline", numbers=squares(items=[4, 5]).output)
