"""Covers: `--runner docker` with a task whose image is neither on this machine nor pullable (no registry is
reachable from the tests): the task fails with a message naming the image and how to provide it."""

from kfp import dsl

MISSING_IMAGE = "lpl-test/absent:404"


@dsl.container_component
def absent():
    return dsl.ContainerSpec(image=MISSING_IMAGE, command=["sh", "-c", "echo never"])


@dsl.pipeline(name="docker-missing-image")
def pipeline():
    absent()
