"""A pipeline's tasks as the walk meets them, before anything runs: each task's kind (container, importer,
sub-DAG, loop), the sibling tasks it waits for, and the tasks of its body. The driver's walk
(driver/walk/walk.py) decides a task's kind with `node_kind`; the console's task count and the report's graph
read `outline`, so none of them has its own idea of the pipeline's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from spec.dependencies import task_dependencies
from spec.ir import pipeline_spec_pb2

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
CONTAINER, IMPORTER, DAG, LOOP = "container", "importer", "dag", "loop"


def node_kind(
    task_spec: TaskSpec, component: ComponentSpec, deployment: pipeline_spec_pb2.PipelineDeploymentConfig
) -> str:
    if task_spec.HasField("parameter_iterator") or task_spec.HasField("artifact_iterator"):
        return LOOP
    if component.WhichOneof("implementation") == "dag":
        return DAG
    executor = deployment.executors[component.executor_label]
    return IMPORTER if executor.WhichOneof("spec") == "importer" else CONTAINER


@dataclass(frozen=True)
class OutlineTask:
    """One task of one DAG of the spec; `body` holds a sub-DAG's or a loop's own tasks."""

    key: str
    spec: TaskSpec
    component: ComponentSpec
    kind: str
    upstream: frozenset[str]  # the tasks of the same DAG it waits for
    body: tuple[OutlineTask, ...]


def outline(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec,
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig,
    component: ComponentSpec | None = None,
) -> tuple[OutlineTask, ...]:
    """The tasks of `component`'s DAG (default: the root), sorted by key, each with its body."""
    tasks = (component if component is not None else pipeline_spec.root).dag.tasks
    found = []
    for key in sorted(tasks):
        spec = tasks[key]
        child = pipeline_spec.components[spec.component_ref.name]
        kind = node_kind(spec, child, deployment)
        body = outline(pipeline_spec, deployment, child) if kind in (DAG, LOOP) else ()
        upstream = frozenset(task_dependencies(spec) & tasks.keys()) - {key}
        found.append(
            OutlineTask(key=key, spec=spec, component=child, kind=kind, upstream=upstream, body=body)
        )
    return tuple(found)
