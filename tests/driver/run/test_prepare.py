"""driver/run/prepare.py on hand-built specs, in process: the one preparation a run and `--explain` share."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import json_format

from driver.run.prepare import PreparedTask, StandIn, TaskFolders, prepare_container
from driver.walk.resolve import ResolvedInputs, TaskContext
from ledger.model import Artifact
from spec.ir import pipeline_spec_pb2
from tests.driver.specs import RUN, component_spec, scope, task_spec, value

CONTAINER = json_format.ParseDict(
    {"image": "python:3.11", "command": ["echo"], "env": [{"name": "MODE", "value": "fast"}]},
    pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec(),
)
FOLDERS = TaskFolders.of(run_root=RUN.run_root, run_dir=Path("/runs/r"), key="train", uuid="0123456789abcdef")
CONTEXT = TaskContext(run=RUN, task_key="train", task_uuid=FOLDERS.uuid)


def _component(*, env_off_task: bool) -> pipeline_spec_pb2.ComponentSpec:
    return component_spec(
        {
            "executorLabel": "exec-train",
            "inputDefinitions": {
                "parameters": {
                    "lr": {"parameterType": "NUMBER_DOUBLE"},
                    "config": {"parameterType": "TASK_CONFIG", "isOptional": True},
                },
                "artifacts": {"data": {"artifactType": {"schemaTitle": "system.Dataset"}}},
            },
            "outputDefinitions": {"artifacts": {"model": {"artifactType": {"schemaTitle": "system.Model"}}}},
            "taskConfigPassthroughs": [{"field": "ENV", "applyToTask": not env_off_task}],
        }
    )


def _resolved(data_uri: str = "/root/p/run-1/data", lr: float = 0.1) -> ResolvedInputs:
    data = Artifact(id=7, type="system.Dataset", uri=data_uri, state="LIVE", properties={}, create_time=0.0)
    return ResolvedInputs(parameters={"lr": value(lr)}, artifacts={"data": [data]})


def _prepare(
    component: pipeline_spec_pb2.ComponentSpec, resolved: ResolvedInputs, *, stand_in: StandIn | None = None
) -> PreparedTask:
    return prepare_container(
        resolved,
        task_spec=task_spec({"taskInfo": {"name": "train"}, "componentRef": {"name": "comp-train"}}),
        component=component,
        container=CONTAINER,
        scope=scope(),
        folders=FOLDERS,
        context=CONTEXT,
        kubernetes={},
        stand_in=stand_in,
    )


def test_outputs_are_provisioned_under_the_task_root_and_parameters_in_the_task_directory() -> None:
    assert FOLDERS.task_root == "/root/p/run-1/train/0123456789abcdef"
    assert FOLDERS.task_dir == Path("/runs/r/train-0123456789ab")
    prepared = _prepare(_component(env_off_task=False), _resolved())
    outputs = prepared.executor_input.outputs
    assert outputs.artifacts["model"].artifacts[0].uri == f"{FOLDERS.task_root}/model"
    assert outputs.output_file == f"{FOLDERS.task_root}/output_metadata.json"


def test_the_task_config_is_handed_to_the_component_but_stays_out_of_the_cache_key() -> None:
    prepared = _prepare(_component(env_off_task=True), _resolved())
    assert "config" not in prepared.executor_input.inputs.parameter_values
    handed = prepared.handed.inputs.parameter_values["config"]
    assert json_format.MessageToDict(handed)["env"] == [{"name": "MODE", "value": "fast"}]
    # What the TaskConfig alone carries is kept off the task, but the cache key reads the container in full.
    assert "env" not in prepared.on_task_container and prepared.container["env"]
    on_task = _prepare(_component(env_off_task=False), _resolved())
    assert on_task.on_task_container["env"] == prepared.container["env"]
    assert on_task.cache_fingerprint() == prepared.cache_fingerprint()


def test_the_fingerprints_follow_the_inputs() -> None:
    component = _component(env_off_task=False)
    first, again = _prepare(component, _resolved()), _prepare(component, _resolved())
    other = _prepare(component, _resolved(lr=0.2))
    assert first.cache_fingerprint() == again.cache_fingerprint() != other.cache_fingerprint()
    assert first.definition_fingerprint() == again.definition_fingerprint() != other.definition_fingerprint()


def test_with_stand_ins_an_artifact_not_produced_yet_has_no_name() -> None:
    reference = "{{tasks['load'].outputs.artifacts['data']}}"
    prepared = _prepare(_component(env_off_task=False), _resolved(reference), stand_in=lambda source: None)
    assert prepared.executor_input.inputs.artifacts["data"].artifacts[0].name == ""
    run = _prepare(_component(env_off_task=False), _resolved(reference))
    assert run.executor_input.inputs.artifacts["data"].artifacts[0].name == "7"
