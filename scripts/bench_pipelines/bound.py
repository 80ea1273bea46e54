"""I/O-bound and CPU-bound fan-outs with no loop limit, for choosing the default `--parallelism` cap
(scripts/measure_parallelism.py): `make_io(n)` has n tasks that each wait one second; `make_cpu(n)` has n
tasks that each compute for about half a second of one core."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def wait(index: int) -> int:
    import time

    time.sleep(1.0)
    return index


@dsl.component(base_image="python:3.11")
def compute(index: int) -> int:
    total = 0
    for value in range(6_000_000):
        total += value % 7
    return index + total % 2


def make_io(tasks: int):
    @dsl.pipeline(name=f"bound-io-{tasks}")
    def io_pipeline():
        with dsl.ParallelFor(items=list(range(tasks))) as index:
            wait(index=index)

    return io_pipeline


def make_cpu(tasks: int):
    @dsl.pipeline(name=f"bound-cpu-{tasks}")
    def cpu_pipeline():
        with dsl.ParallelFor(items=list(range(tasks))) as index:
            compute(index=index)

    return cpu_pipeline
