"""Covers: conformance point 42, an `artifactIterator` (rejected by the backend, run here as the SDK intends).
The test turns this loop into one over `make`'s output artifact in the compiled JSON: the loop
task's `parameterIterator` becomes an `artifactIterator` over its input artifact `pipelinechannel--make-data`,
and the loop component's unused item parameter is dropped. `make` and `show` are host /bin/sh container
components."""

from kfp import dsl
from kfp.dsl import Artifact, Input, Output


@dsl.container_component
def make(data: Output[Artifact]):
    return dsl.ContainerSpec(
        image="python:3.11",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && printf data > "$1"', "make"],
        args=[data.path],
    )


@dsl.container_component
def show(data: Input[Artifact]):
    return dsl.ContainerSpec(image="python:3.11", command=["sh", "-c", 'cat "$1"', "show"], args=[data.path])


@dsl.pipeline(name="artifact-loop")
def pipeline():
    made = make()
    with dsl.ParallelFor([1, 2]):
        show(data=made.output)
