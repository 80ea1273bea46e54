"""Covers: artifacts: Output/Input[Dataset], a Model with metadata, Metrics, one artifact read by several
consumers, OutputPath/InputPath, and a list of artifacts gathered by `dsl.Collected`.

Every consumer raises unless it reads exactly what its producer wrote, and metadata set by a producer must
reach its consumer through the driver.
"""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, InputPath, Metrics, Model, Output, OutputPath


@dsl.component(base_image="python:3.11")
def make_dataset(text: str, data: Output[Dataset]):
    with open(data.path, "w") as file:
        file.write(text)
    data.metadata["rows"] = 1


@dsl.component(base_image="python:3.11")
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics]):
    with open(data.path) as file:
        text = file.read()
    if data.metadata.get("rows") != 1:
        raise ValueError(f"dataset metadata lost: {data.metadata!r}")
    with open(model.path, "w") as file:
        file.write(f"model of {text}")
    model.metadata["framework"] = "plain-text"
    model.metadata["epochs"] = 3
    metrics.log_metric("accuracy", 0.75)
    metrics.log_metric("loss", 2)


@dsl.component(base_image="python:3.11")
def read_dataset(data: Input[Dataset], expected: str) -> str:
    with open(data.path) as file:
        text = file.read()
    if text != expected:
        raise ValueError(f"expected {expected!r}, read {text!r}")
    return text


@dsl.component(base_image="python:3.11")
def check_model(model: Input[Model]) -> str:
    with open(model.path) as file:
        text = file.read()
    if model.metadata.get("framework") != "plain-text" or model.metadata.get("epochs") != 3:
        raise ValueError(f"model metadata lost: {model.metadata!r}")
    return text


@dsl.component(base_image="python:3.11")
def write_path(text: str, out_path: OutputPath("Dataset")):
    with open(out_path, "w") as file:
        file.write(text)


@dsl.component(base_image="python:3.11")
def read_path(in_path: InputPath("Dataset")) -> str:
    with open(in_path) as file:
        return file.read()


@dsl.component(base_image="python:3.11")
def join_datasets(datasets: Input[List[Dataset]]) -> str:
    texts = []
    for dataset in datasets:
        with open(dataset.path) as file:
            texts.append(file.read())
    return "+".join(texts)


@dsl.pipeline(name="artifacts")
def pipeline(text: str = "abc"):
    dataset = make_dataset(text=text)
    trained = train(data=dataset.outputs["data"])
    read_dataset(data=dataset.outputs["data"], expected=text).set_display_name("first-reader")
    read_dataset(data=dataset.outputs["data"], expected=text).set_display_name("second-reader")
    check_model(model=trained.outputs["model"])
    written = write_path(text="via-path")
    read_path(in_path=written.outputs["out_path"])
    with dsl.ParallelFor(["x", "y"]) as item:
        part = make_dataset(text=item)
    join_datasets(datasets=dsl.Collected(part.outputs["data"]))
