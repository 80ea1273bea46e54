"""One preparation of a container task for a run and for `--explain`: ExecutorInput, settings, cache key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from google.protobuf import struct_pb2

from driver.run import cache, platform, task_config
from driver.walk.provision import build_executor_input
from driver.walk.resolve import ResolvedInputs, TaskContext
from driver.walk.standins import blank_stand_in_names
from driver.walk.state import DagScope
from spec import protojson
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import ExecutorSettings, TaskKubernetes

ContainerSpec: TypeAlias = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec
StandIn: TypeAlias = Callable[[pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec], struct_pb2.Value | None]


@dataclass(frozen=True)
class TaskFolders:
    """Where a task's files go; its uuid names both folders."""

    uuid: str
    task_root: str  # `<run root>/<task key>/<uuid>`: the task's output artifacts
    task_dir: Path  # the task directory the driver writes for the launcher

    @classmethod
    def of(cls, *, run_root: str, run_dir: Path, key: str, uuid: str) -> TaskFolders:
        return cls(uuid=uuid, task_root=f"{run_root}/{key}/{uuid}", task_dir=run_dir / f"{key}-{uuid[:12]}")


@dataclass(frozen=True)
class PreparedTask:
    """A container task ready to be fingerprinted and handed over.

    The cache key reads the ExecutorInput before its TaskConfig and the container spec and kfp-kubernetes
    settings in full; the component is handed the ExecutorInput with its TaskConfig, and the task itself gets
    the spec and settings without what the TaskConfig alone carries."""

    task_spec: pipeline_spec_pb2.PipelineTaskSpec
    component: pipeline_spec_pb2.ComponentSpec
    folders: TaskFolders
    executor_input: pipeline_spec_pb2.ExecutorInput
    handed: pipeline_spec_pb2.ExecutorInput
    container: dict[str, Any]
    kubernetes: TaskKubernetes | None
    on_task_container: dict[str, Any]
    on_task_kubernetes: TaskKubernetes | None
    passthroughs: task_config.Passthroughs

    def cache_fingerprint(self) -> str:
        pvcs = self.kubernetes.volumes if self.kubernetes is not None else ()
        return cache.fingerprint(
            task_spec=self.task_spec,
            executor_input=self.executor_input,
            component_spec=self.component,
            container=self.container,
            pvc_names=tuple(volume.name for volume in pvcs if volume.kind == "pvc"),
        )

    def definition_fingerprint(self) -> str:
        return cache.definition_fingerprint(
            task_spec=self.task_spec,
            executor_input=self.executor_input,
            component_spec=self.component,
            container=self.container,
        )


def prepare_container(
    resolved: ResolvedInputs,
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    container: ContainerSpec,
    scope: DagScope,
    folders: TaskFolders,
    context: TaskContext,
    kubernetes: dict[str, ExecutorSettings],
    stand_in: StandIn | None = None,
) -> PreparedTask:
    """The task prepared from its resolved inputs; `stand_in` (explain) gives values not known yet, and an
    input artifact standing in for one has no name (it has no ledger id)."""
    settings = platform.task_kubernetes(
        kubernetes, scope=scope, task_spec=task_spec, component=component, context=context, stand_in=stand_in
    )
    executor_input = build_executor_input(
        resolved, component, task_root=folders.task_root, parameter_dir=folders.task_dir / "outputs"
    )
    if stand_in is not None:
        blank_stand_in_names(executor_input)
    container_json = protojson.message_to_jsonable(container)
    passthroughs = task_config.Passthroughs.of(component)
    on_task_container, on_task_kubernetes = task_config.on_task(
        passthroughs, container=container_json, kubernetes=settings
    )
    handed = task_config.with_task_config(
        executor_input,
        component=component,
        container=container_json,
        kubernetes=settings,
        workspace=context.workspace_path,
        run_name=context.run.job_resource_name,
    )
    return PreparedTask(
        task_spec=task_spec,
        component=component,
        folders=folders,
        executor_input=executor_input,
        handed=handed,
        container=container_json,
        kubernetes=settings,
        on_task_container=on_task_container,
        on_task_kubernetes=on_task_kubernetes,
        passthroughs=passthroughs,
    )
