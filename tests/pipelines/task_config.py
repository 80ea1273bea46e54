"""Covers: a component taking a `dsl.TaskConfig` with task config passthroughs. It is handed the task's
env and resources as Kubernetes JSON (a memory limit from a pipeline input, a cpu limit written as a
number of cores), and, without `apply_to_task`, its own process gets neither the variable nor the limits."""

from kfp import dsl


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[dsl.TaskConfigField.RESOURCES, dsl.TaskConfigField.ENV],
)
def read_task_config(task_config: dsl.TaskConfig) -> str:
    import dataclasses
    import json
    import os

    handed = dataclasses.asdict(task_config)
    return json.dumps({"handed": handed, "own_greeting": os.environ.get("GREETING")}, sort_keys=True)


@dsl.pipeline(name="task-config")
def pipeline(memory: str = "1536Mi") -> str:
    task = read_task_config().set_cpu_limit("0.5").set_memory_limit(memory)
    task.set_env_variable(name="GREETING", value="hello")
    return task.output
