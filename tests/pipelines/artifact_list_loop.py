"""Covers: design decision 10, `dsl.ParallelFor` over a list of artifacts (the SDK compiles an
`artifactIterator`; the KFP backend rejects it): a loop over a sub-pipeline's `dsl.Collected` output at
the root, `dsl.Collected` of the outputs made inside it read downstream, the same loop nested in a loop over a
parameter list, and a loop over the artifact list inside a loop over the same list (whose item the SDK
names as the outer one's: the inner item hides the outer). Each task reports what it read with a PROBE
line."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def make(text: str, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write(text)
    data.metadata["text"] = text


@dsl.component(base_image="python:3.11")
def upper(tag: str, data: Input[Dataset], out: Output[Dataset], prefix: str = ""):
    import json

    with open(data.path) as f:
        text = f.read()
    print("PROBE " + json.dumps({"tag": tag, "text": prefix + text, "meta": data.metadata.get("text")}))
    with open(out.path, "w") as f:
        f.write(prefix + text.upper())


@dsl.component(base_image="python:3.11")
def join(items: Input[List[Dataset]]):
    import json

    texts = []
    for item in items:
        with open(item.path) as f:
            texts.append(f.read())
    print("PROBE " + json.dumps({"tag": "join", "texts": texts}))


@dsl.pipeline
def make_all(texts: List[str]) -> List[Dataset]:
    with dsl.ParallelFor(texts) as text:
        made = make(text=text)
    return dsl.Collected(made.outputs["data"])


@dsl.pipeline(name="artifact-list-loop")
def pipeline(texts: List[str] = ["a", "b", "c"], rounds: List[str] = ["r1-", "r2-"]):
    made = make_all(texts=texts)
    with dsl.ParallelFor(made.output) as dataset:
        upped = upper(tag="root", data=dataset)
    join(items=dsl.Collected(upped.outputs["out"]))
    with dsl.ParallelFor(rounds) as round_, dsl.ParallelFor(made.output) as again:
        upper(tag="nested", data=again, prefix=round_)
    with dsl.ParallelFor(made.output) as first:
        upper(tag="outer-same", data=first)
        with dsl.ParallelFor(made.output) as second:
            upper(tag="inner-same", data=second)
