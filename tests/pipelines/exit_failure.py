"""Covers (for explain and replay): a run that fails: an exit handler guards a task that raises, and the exit
task receives the guarded group's `PipelineTaskFinalStatus`."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def fail(message: str):
    print(f"about to fail with {message!r}")
    raise ValueError(message)


@dsl.component(base_image="python:3.11")
def cleanup(status: dsl.PipelineTaskFinalStatus) -> str:
    print(f"cleanup after {status.state}")
    return status.state


@dsl.pipeline(name="exit-failure")
def pipeline(message: str = "boom"):
    with dsl.ExitHandler(cleanup()):
        fail(message=message)
