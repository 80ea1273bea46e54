"""Covers: `--runner ray` mapping a task's requests to Ray resources: `set_accelerator_type("b")` with a
count asks for the custom resource `b`, which only one node of the test cluster has; `impossible` (when
`impossible=True`) asks for 64 CPUs, which no node has, and must fail at once instead of waiting."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def pinned() -> str:
    return "pinned"


@dsl.component(base_image="python:3.11")
def too_big() -> str:
    return "never"


@dsl.pipeline(name="ray-requests")
def pipeline(impossible: bool = False):
    pinned().set_caching_options(False).set_accelerator_type("b").set_accelerator_limit(1)
    with dsl.If(impossible == True):  # noqa: E712 - the DSL compares pipeline channels with ==
        too_big().set_caching_options(False).set_cpu_limit("64")
