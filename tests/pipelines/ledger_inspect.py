"""Covers: what `python -m ledger` inspects: loop iterations, a condition, an artifact with metadata passed
between tasks, and a task that fails when the `fail_run` parameter asks it to (after `read_text`, so that the
failure cannot stop `read_text` from being scheduled)."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    print(f"square of {x}")
    return x * x


@dsl.component(base_image="python:3.11")
def write_text(text: str, data: Output[Dataset]):
    data.metadata["characters"] = len(text)
    with open(data.path, "w") as handle:
        handle.write(text)


@dsl.component(base_image="python:3.11")
def read_text(data: Input[Dataset]) -> str:
    with open(data.path) as handle:
        return handle.read()


@dsl.component(base_image="python:3.11")
def fail(text: str):
    raise RuntimeError(f"asked to fail after reading {text!r}")


@dsl.pipeline(name="ledger-inspect")
def pipeline(text: str = "hello", fail_run: bool = False):
    with dsl.ParallelFor([1, 2]) as x:
        square(x=x)
    written = write_text(text=text)
    read = read_text(data=written.outputs["data"])
    with dsl.If(fail_run == True):  # noqa: E712 - the DSL builds a condition from `==`, not a Python bool
        fail(text=read.output)
