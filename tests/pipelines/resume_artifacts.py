"""Covers: `--resume` checks a completed task's artifact files before trusting it (issue 15, item 7): a
producer writes a Dataset, a consumer reads it and fails while a marker file is missing. Tests delete the
producer's file between the failed run and the resume. Each component prints a PROBE line when it runs."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def produce(data: Output[Dataset]):
    import json

    print("PROBE " + json.dumps({"tag": "produce"}))
    with open(data.path, "w") as f:
        f.write("produced")


@dsl.component(base_image="python:3.11")
def consume(data: Input[Dataset], marker: str) -> str:
    import json
    import os

    print("PROBE " + json.dumps({"tag": "consume"}))
    if not os.path.exists(marker):
        raise RuntimeError(f"marker {marker} is missing")
    with open(data.path) as f:
        return f.read()


@dsl.pipeline(name="resume-artifacts")
def pipeline(marker: str):
    produced = produce()
    consume(data=produced.outputs["data"], marker=marker)
