"""Covers: prune while a run reuses another run's outputs through a cache hit. `produce` writes a Dataset
(cached across runs); `consume` (never cached) touches `<release>.started`, waits for RELEASE, then reads
the Dataset that the cache hit handed on, which lives under the first run's root."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def produce(data: dsl.Output[dsl.Dataset]):
    with open(data.path, "w") as handle:
        handle.write("made once")


@dsl.component(base_image="python:3.11")
def consume(data: dsl.Input[dsl.Dataset], release: str) -> str:
    import os
    import time

    open(release + ".started", "w").close()
    while not os.path.exists(release):
        time.sleep(0.05)
    with open(data.path) as handle:
        return handle.read()


@dsl.pipeline(name="cache-reuse-hold")
def pipeline(release: str) -> str:
    made = produce()
    return consume(data=made.outputs["data"], release=release).set_caching_options(False).output
