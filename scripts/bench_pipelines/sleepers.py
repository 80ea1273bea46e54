"""Eight one-second sleeper tasks under one ParallelFor(parallelism=8) (issue 5, speed workload 3)."""

from kfp import dsl

SLEEPERS = 8


@dsl.component(base_image="python:3.11")
def sleeper(seconds: float, index: int) -> int:
    import time

    time.sleep(seconds)
    return index


@dsl.pipeline(name="bench-sleepers")
def sleepers_pipeline(seconds: float = 1.0):
    with dsl.ParallelFor(items=list(range(SLEEPERS)), parallelism=SLEEPERS) as index:
        sleeper(seconds=seconds, index=index)


def make_pipeline():
    return sleepers_pipeline
