"""Covers: a pipeline used as a component inside another: its inputs, a default it fills in, and its output
parameter and output artifact used by tasks downstream of it.
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    if type(a) is not int or type(b) is not int:
        raise TypeError(f"expected ints, got {a!r} and {b!r}")
    return a + b


@dsl.component(base_image="python:3.11")
def label_dataset(label: str, total: int, data: Output[Dataset]):
    with open(data.path, "w") as file:
        file.write(f"{label}:{total}")


@dsl.component(base_image="python:3.11")
def check_result(total: int, expected_total: int, data: Input[Dataset], expected_text: str):
    with open(data.path) as file:
        text = file.read()
    if total != expected_total or text != expected_text:
        raise ValueError(f"got total={total!r} text={text!r}")


@dsl.pipeline(name="inner")
def inner(
    x: int, offset: int = 10, label: str = "inner-default"
) -> NamedTuple("Outputs", total=int, data=Dataset):
    summed = add(a=x, b=offset)
    labelled = label_dataset(label=label, total=summed.output)
    outputs = NamedTuple("Outputs", total=int, data=Dataset)
    return outputs(total=summed.output, data=labelled.outputs["data"])


@dsl.pipeline(name="nested")
def pipeline(x: int = 5):
    defaulted = inner(x=x)
    given = inner(x=x, offset=1, label="given").set_display_name("inner-given")
    check_result(total=defaulted.outputs["total"], expected_total=15, data=defaulted.outputs["data"],
                 expected_text="inner-default:15")
    check_result(total=given.outputs["total"], expected_total=6, data=given.outputs["data"],
                 expected_text="given:6").set_display_name("check-given")
