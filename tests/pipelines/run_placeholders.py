"""Covers: the run and task placeholders passed as input values (runtimeValue constants the driver
replaces): job name, job resource name, job id, task name, task id, create and schedule times."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def show_ids(job_name: str, job_resource_name: str, job_id: str, task_name: str, task_id: str,
             create_time: str, schedule_time: str):
    import json

    print("PROBE " + json.dumps({"tag": "ids", "job_name": job_name, "job_resource_name": job_resource_name,
                                 "job_id": job_id, "task_name": task_name, "task_id": task_id,
                                 "create_time": create_time, "schedule_time": schedule_time}))


@dsl.pipeline(name="run-placeholders")
def pipeline():
    show_ids(
        job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        job_resource_name=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
        job_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        task_name=dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER,
        create_time=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        schedule_time=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    ).set_caching_options(False)
