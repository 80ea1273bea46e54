"""Which sibling tasks a task waits for: the one dependency rule the driver's walk, validation, the console's
count and the report's graph share."""

from __future__ import annotations

from spec.ir import pipeline_spec_pb2


def task_dependencies(task_spec: pipeline_spec_pb2.PipelineTaskSpec) -> frozenset[str]:
    """`dependentTasks` plus the producers of the task's inputs (the compiler's implicit edges).

    Names outside the task's own DAG may appear (a malformed spec): callers intersect with the DAG's tasks.
    """
    names = set(task_spec.dependent_tasks)
    for parameter in task_spec.inputs.parameters.values():
        kind = parameter.WhichOneof("kind")
        if kind == "task_output_parameter":
            names.add(parameter.task_output_parameter.producer_task)
        elif kind == "task_final_status":
            names.add(parameter.task_final_status.producer_task)
    for artifact in task_spec.inputs.artifacts.values():
        if artifact.WhichOneof("kind") == "task_output_artifact":
            names.add(artifact.task_output_artifact.producer_task)
    return frozenset(names)
