"""Trivial tasks (no packages_to_install): a ParallelFor fan-out and a chain (issue 5, workloads 4 and 7).

`make_fanout(n)` and `make_chain(n)` build the pipeline functions; the benchmark compiles them at run time
and hands the same functions to kfp.local.
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def noop(value: int) -> int:
    return value + 1


def make_fanout(tasks: int):
    @dsl.pipeline(name=f"bench-fanout-{tasks}")
    def fanout_pipeline():
        with dsl.ParallelFor(items=list(range(tasks))) as item:
            noop(value=item)

    return fanout_pipeline


def make_chain(tasks: int):
    @dsl.pipeline(name=f"bench-chain-{tasks}")
    def chain_pipeline():
        previous = noop(value=0)
        for _ in range(tasks - 1):
            previous = noop(value=previous.output)

    return chain_pipeline
