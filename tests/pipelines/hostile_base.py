"""Covers: the base that the hostile-input tests (issue 15, items 3-5) edit before running: a float input
with a default (made `.nan`), a struct input with a default (made an alias bomb or deeply nested), a task
key, and an output artifact and output parameter (renamed to climb out of the task root)."""

from kfp import dsl
from kfp.dsl import Dataset, Output


@dsl.component(base_image="python:3.11")
def produce(rate: float, config: dict, data: Output[Dataset]) -> str:
    with open(data.path, "w") as f:
        f.write(str(rate))
    return str(sorted(config))


@dsl.pipeline(name="hostile-base")
def pipeline(rate: float = 0.5, config: dict = {"a": 1}):
    produce(rate=rate, config=config)
