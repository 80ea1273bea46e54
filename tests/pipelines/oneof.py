"""Covers: dsl.OneOf over parameters and over artifacts from dsl.If/Elif/Else branches: the consumer gets the
output of the one branch that ran (the first completed branch in IR order). `nested_pipelines.py` covers a
OneOf returned as a nested pipeline's output (kfp 2.17.3 miscompiles it beside conditions of the outer
pipeline: the component names of the two collide)."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def make_text(text: str) -> str:
    return text


@dsl.component(base_image="python:3.11")
def make_dataset(text: str, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(text)


@dsl.component(base_image="python:3.11")
def consume(tag: str, text: str = "", dataset: Input[Dataset] = None):
    import json

    content = None
    if dataset is not None:
        with open(dataset.path) as f:
            content = f.read()
    print("PROBE " + json.dumps({"tag": tag, "text": text, "content": content}))


@dsl.pipeline(name="oneof")
def pipeline(mode: str = "b"):
    with dsl.If(mode == "a"):
        text_a = make_text(text="text-a")
        data_a = make_dataset(text="data-a")
    with dsl.Elif(mode == "b"):
        text_b = make_text(text="text-b")
        data_b = make_dataset(text="data-b")
    with dsl.Else():
        text_c = make_text(text="text-c")
        data_c = make_dataset(text="data-c")
    consume(tag="parameter", text=dsl.OneOf(text_a.output, text_b.output, text_c.output))
    dataset = dsl.OneOf(data_a.outputs["out"], data_b.outputs["out"], data_c.outputs["out"])
    consume(tag="artifact", dataset=dataset)
