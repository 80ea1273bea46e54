"""Covers: dsl.ParallelFor(parallelism=2): never more than two iterations run at once (each sleeps a little so
that iterations would overlap if the limit were not honoured)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def nap(index: int):
    import time

    time.sleep(0.4)
    print(f"napped {index}")


@dsl.pipeline(name="loop-parallelism")
def pipeline():
    with dsl.ParallelFor([0, 1, 2, 3, 4, 5], parallelism=2) as index:
        nap(index=index)
