"""Covers: what `ledger show`/`exec` print of artifacts that carry values in their metadata (Metrics written
only through `log_metric`, no file; a Model with metadata and a file), and a branch skipped by its condition
(`dsl.If` false): its state and why, the same on the console and in the ledger."""

from kfp import dsl
from kfp.dsl import Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def evaluate(metrics: Output[Metrics], model: Output[Model]) -> float:
    metrics.log_metric("accuracy", 0.9)
    metrics.log_metric("loss", 0.25)
    model.metadata["framework"] = "none"
    with open(model.path, "w") as file:
        file.write("weights")
    return 0.9


@dsl.component(base_image="python:3.11")
def celebrate(accuracy: float) -> str:
    return f"great: {accuracy}"


@dsl.pipeline(name="metrics-and-skip")
def pipeline(threshold: float = 0.95):
    evaluated = evaluate()
    with dsl.If(evaluated.outputs["Output"] > threshold, name="good-enough"):
        celebrate(accuracy=evaluated.outputs["Output"])
