"""Covers: a pipeline's outputs of every parameter type and a list of artifacts (dsl.Collected over a loop),
and a nested pipeline's output artifact, read back through `driver.run_pipeline` as Python values and
artifact objects."""

from typing import Dict, List, NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Output

PARAMETERS = [("text", str), ("count", int), ("ratio", float), ("whole", float), ("flag", bool),
              ("numbers", List[int]), ("config", Dict[str, float])]
Values = NamedTuple("Values", PARAMETERS)
Outputs = NamedTuple("Outputs", [*PARAMETERS, ("datasets", List[Dataset]), ("first", Dataset)])


@dsl.component(base_image="python:3.11")
def make_values(text: str) -> NamedTuple(
    "Values",
    [("text", str), ("count", int), ("ratio", float), ("whole", float), ("flag", bool),
     ("numbers", List[int]), ("config", Dict[str, float])],
):
    from collections import namedtuple

    values = namedtuple("Values", ["text", "count", "ratio", "whole", "flag", "numbers", "config"])
    return values(text, 3, 0.25, 2.0, True, [1, 2, 3], {"lr": 0.5, "epochs": 3})


@dsl.component(base_image="python:3.11")
def write_text(text: str, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["text"] = text


@dsl.pipeline
def nested_writer(text: str) -> Dataset:
    return write_text(text=text).outputs["out"]


@dsl.pipeline(name="api-outputs")
def pipeline(text: str = "hi") -> Outputs:
    values = make_values(text=text)
    with dsl.ParallelFor(["a", "b"]) as item:
        written = write_text(text=item)
    single = write_text(text="first").set_caching_options(False)
    nested_writer(text="nested")
    parameters = {name: values.outputs[name] for name, _ in PARAMETERS}
    return Outputs(**parameters, datasets=dsl.Collected(written.outputs["out"]), first=single.outputs["out"])
