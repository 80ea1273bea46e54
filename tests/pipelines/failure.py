"""Covers: a failing component: the run fails, the task is recorded FAILED with its log and error line, tasks
downstream of it never start, and an independent task that was already running when it failed finishes.

`fail` raises at once; `slow` (independent of it, started at the same time) sleeps for long enough to still be
running when `fail` has failed; `after_fail` depends on `fail` and `after_slow` on `slow`: neither may start.
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def fail(message: str):
    raise ValueError(message)


@dsl.component(base_image="python:3.11")
def slow(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "slept"


@dsl.component(base_image="python:3.11")
def after(text: str) -> str:
    return text


@dsl.pipeline(name="failure")
def pipeline(message: str = "boom-from-component"):
    failing = fail(message=message)
    after(text="never").after(failing).set_display_name("after-fail")
    slept = slow(seconds=2.5)
    after(text=slept.output).set_display_name("after-slow")
