"""Covers: `.ignore_upstream_failure()`: a task that runs after its upstream task ends, even when it failed,
with its declared default standing in for the failed task's output; a plain downstream task is not run."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def may_fail(fail: bool) -> str:
    if fail:
        raise RuntimeError("upstream failed on purpose")
    return "upstream-output"


@dsl.component(base_image="python:3.11")
def report(tag: str, text: str = "default-text"):
    import json

    print("PROBE " + json.dumps({"tag": tag, "text": text}))


@dsl.pipeline(name="ignore-upstream-failure")
def pipeline(fail: bool = True):
    upstream = may_fail(fail=fail)
    report(tag="cleanup", text=upstream.output).ignore_upstream_failure()
    report(tag="downstream", text=upstream.output)
