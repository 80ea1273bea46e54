"""Covers: caching across runs of one pipeline name: a producer of a Dataset and a parameter, a consumer of
both inside a condition group (a sub-DAG), a task with a custom cache key, a task with caching turned off,
and a task that fails while a marker file is missing. Each component prints a PROBE line only when it runs,
so a cache hit is a task without a probe."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def produce(text: str, data: Output[Dataset]) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "produce", "text": text}))
    with open(data.path, "w") as file:
        file.write(text)
    return text.upper()


@dsl.component(base_image="python:3.11")
def consume(data: Input[Dataset], upper: str, suffix: str) -> str:
    import json

    with open(data.path) as file:
        text = file.read()
    print("PROBE " + json.dumps({"tag": "consume", "text": text, "upper": upper, "suffix": suffix}))
    return text + suffix


@dsl.component(base_image="python:3.11")
def keyed(text: str) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "keyed", "text": text}))
    return text


@dsl.component(base_image="python:3.11")
def uncached(text: str) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "uncached", "text": text}))
    return text


@dsl.component(base_image="python:3.11")
def needs_marker(marker: str) -> str:
    import json
    import os

    print("PROBE " + json.dumps({"tag": "needs-marker", "present": os.path.exists(marker)}))
    if not os.path.exists(marker):
        raise RuntimeError(f"marker {marker} is missing")
    return "marker found"


@dsl.pipeline(name="cache-chain")
def pipeline(text: str = "abc", suffix: str = "!", marker: str = ""):
    produced = produce(text=text)
    with dsl.If(suffix != "never", name="consume-group"):
        consume(data=produced.outputs["data"], upper=produced.outputs["Output"], suffix=suffix)
    keyed(text=text).set_caching_options(True, cache_key="keyed-v1")
    uncached(text=text).set_caching_options(False)
    with dsl.If(marker != "", name="marker-group"):
        needs_marker(marker=marker)
