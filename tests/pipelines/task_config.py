"""Covers: a component taking a `dsl.TaskConfig` with task config passthroughs (not implemented here; see
docs/conformance.md): the run says so once, and the component is handed an empty TaskConfig."""

from kfp import dsl


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[dsl.TaskConfigField.RESOURCES, dsl.TaskConfigField.ENV],
)
def read_task_config(task_config: dsl.TaskConfig) -> str:
    import dataclasses
    import json

    return json.dumps(dataclasses.asdict(task_config), sort_keys=True)


@dsl.pipeline(name="task-config")
def pipeline() -> str:
    task = read_task_config().set_cpu_limit("1").set_env_variable(name="GREETING", value="hello")
    return task.output
