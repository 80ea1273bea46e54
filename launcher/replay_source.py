"""`launcher replay --pipeline FILE`: the replayed task's component taken from FILE (the pipeline recompiled
after a fix) instead of the recorded one; the inputs stay those the run recorded, so one fix is tried on
one task without running the pipeline again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ledger.model import Execution
from spec import protojson
from spec.contracts import TaskFiles
from spec.dsl_file import DslFileError, compile_dsl_file, is_dsl_file
from spec.errors import OptionError
from spec.ir import pipeline_spec_pb2
from spec.load import load_deployment_config, load_pipeline


def from_pipeline(files: TaskFiles, original: Execution, *, pipeline: Path, home: Path) -> TaskFiles:
    """`files` with the task's ComponentSpec and container taken from `pipeline` (compiled or a DSL file)."""
    if is_dsl_file(pipeline):
        try:
            pipeline = compile_dsl_file(pipeline, directory=home.resolve() / "pipelines")
        except DslFileError as exc:
            raise OptionError(f"--pipeline {exc}") from None
    loaded = load_pipeline(pipeline)
    if loaded.pipeline_spec.pipeline_info.name != files.task.pipeline_name:
        raise OptionError(
            f"--pipeline {pipeline}: pipeline {loaded.pipeline_spec.pipeline_info.name!r}, not the run's"
            f" {files.task.pipeline_name!r}"
        )
    component = _component_at(loaded.pipeline_spec, original.task_path, pipeline=pipeline)
    _check_interface(files.component, component, task=original.task_path, pipeline=pipeline)
    executors = load_deployment_config(loaded.pipeline_spec, file=pipeline).executors
    executor = executors.get(component.executor_label)
    if executor is None or not executor.HasField("container"):
        raise OptionError(f"--pipeline {pipeline}: task {original.task_path!r} is no container task there")
    return replace(files, component=component, container=protojson.message_to_jsonable(executor.container))


def _component_at(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec, task_path: str, *, pipeline: Path
) -> pipeline_spec_pb2.ComponentSpec:
    """The component of the task at `task_path` (task keys from the root, `/`-separated)."""
    component = pipeline_spec.root
    for key in task_path.split("/"):
        if key not in component.dag.tasks:
            raise OptionError(f"--pipeline {pipeline}: it has no task {task_path!r} (no {key!r} there)")
        component = pipeline_spec.components[component.dag.tasks[key].component_ref.name]
    return component


def _check_interface(
    recorded: pipeline_spec_pb2.ComponentSpec,
    new: pipeline_spec_pb2.ComponentSpec,
    *,
    task: str,
    pipeline: Path,
) -> None:
    """The recorded inputs must fit the new component: the same input and output names."""
    for side in ("input_definitions", "output_definitions"):
        before, after = _names(getattr(recorded, side)), _names(getattr(new, side))
        if before != after:
            changed = ", ".join(sorted(before ^ after))
            raise OptionError(
                f"--pipeline {pipeline}: task {task!r} changed its {side.split('_')[0]}s ({changed}): the"
                " recorded inputs do not fit it; run the pipeline again (--resume RUN FILE) instead"
            )


def _names(definitions: Any) -> set[str]:  # a ComponentInputsSpec or ComponentOutputsSpec
    return {*definitions.parameters, *definitions.artifacts}
