"""Covers: independent tasks run in parallel up to `--parallelism`: two one-second sleeps with no edge between
them (the test reads their attempt intervals from the ledger; there are no timing assertions).
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def nap(seconds: float, tag: str) -> str:
    import time

    time.sleep(seconds)
    return tag


@dsl.pipeline(name="parallel")
def pipeline(seconds: float = 1.0):
    nap(seconds=seconds, tag="a")
    nap(seconds=seconds, tag="b")
