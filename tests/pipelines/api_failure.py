"""Covers: a failed run read through `driver.run_pipeline`: the failed task's state, error and log tail in the
result and in `PipelineFailed`, beside a task that completed."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def fine() -> int:
    return 7


@dsl.component(base_image="python:3.11")
def explode(value: int):
    print(f"about to fail with value {value}")
    raise RuntimeError("exploded-on-purpose")


@dsl.pipeline(name="api-failure")
def pipeline():
    explode(value=fine().output)
