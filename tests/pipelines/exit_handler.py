"""Covers: dsl.ExitHandler with a PipelineTaskFinalStatus input: the exit task runs after the guarded group
succeeds and after it fails, and reports the group's state, task key, run name and error."""

from kfp import dsl
from kfp.dsl import PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def work(fail: bool) -> str:
    if fail:
        raise RuntimeError("deliberate failure in work")
    return "worked"


@dsl.component(base_image="python:3.11")
def after_work(text: str):
    import json

    print("PROBE " + json.dumps({"tag": "after-work", "text": text}))


@dsl.component(base_image="python:3.11")
def on_exit(status: PipelineTaskFinalStatus):
    import json

    print("PROBE " + json.dumps({
        "tag": "exit", "state": status.state, "pipeline_task_name": status.pipeline_task_name,
        "pipeline_job_resource_name": status.pipeline_job_resource_name, "error_code": status.error_code,
        "error_code_type": type(status.error_code).__name__, "error_message": status.error_message,
    }))


@dsl.pipeline(name="exit-handler")
def pipeline(fail: bool = False):
    exit_task = on_exit().set_display_name("report-status")
    with dsl.ExitHandler(exit_task, name="guarded"):
        done = work(fail=fail)
        after_work(text=done.output)
