"""dsl.TaskConfig on hand-built specs, in process: what the backend's driver (`getTaskConfigOptions`,
`initPodSpecPatch`, `extendPodSpecPatch`) would hand the component, and what stays off the task."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from driver.run.task_config import Passthroughs, build_task_config, on_task, with_task_config
from spec.errors import SpecErrors, ValueConversionError
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import EnvFromObject, FieldPathEnv, TaskKubernetes, VolumeMount, load_kubernetes_settings
from spec.resources import canonical_quantity
from tests.driver.specs import component_spec

SETTINGS = TaskKubernetes(
    env_from_objects=(
        EnvFromObject(env_var="TOKEN", kind="secret", object_name="creds", key="token", optional=False),
        EnvFromObject(env_var="MODE", kind="config map", object_name="cfg", key="mode", optional=True),
    ),
    field_path_env=(FieldPathEnv(name="POD", field_path="metadata.name"),),
    volumes=(
        VolumeMount("pvc", "data", "/data", sub_path="part"),
        VolumeMount("secret", "creds", "/creds"),
        VolumeMount("config map", "cfg", "/cfg", optional=True),
        VolumeMount("empty dir", "scratch", "/scratch"),
    ),
    node_selector={"disk": "ssd"},
    tolerations=({"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 60},),
    node_affinity={
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": []}]}
    },
)
CONTAINER: dict[str, Any] = {
    "image": "python:3.11",
    "env": [{"name": "A", "value": "1"}, {"name": "EMPTY"}],
    "resources": {
        "resourceCpuLimit": "2",
        "resourceMemoryLimit": "{{$.inputs.parameters['pipelinechannel--memory']}}",
        "memoryRequest": 0.5,
        "accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": "1"},
    },
}
ALL = [
    "ENV",
    "RESOURCES",
    "KUBERNETES_VOLUMES",
    "KUBERNETES_NODE_SELECTOR",
    "KUBERNETES_TOLERATIONS",
    "KUBERNETES_AFFINITY",
]


def _component(passthroughs: list[dict[str, Any]]) -> pipeline_spec_pb2.ComponentSpec:
    return component_spec(
        {
            "executorLabel": "exec-a",
            "inputDefinitions": {
                "parameters": {"config": {"parameterType": "TASK_CONFIG", "isOptional": True}}
            },
            "taskConfigPassthroughs": passthroughs,
        }
    )


def _executor_input(**parameters: str) -> pipeline_spec_pb2.ExecutorInput:
    message = pipeline_spec_pb2.ExecutorInput()
    for name, text in parameters.items():
        message.inputs.parameter_values[name].string_value = text
    return message


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("100m", "100m"),
        ("0.5", "500m"),
        ("2", "2"),
        ("1000m", "1"),
        ("2000", "2k"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("512", "512"),
        ("0.5G", "500M"),
        ("0.0001", "1m"),
        ("0", "0"),
    ],
)
def test_quantities_are_written_back_as_kubernetes_writes_them(text: str, canonical: str) -> None:
    assert canonical_quantity(text, what="cpu limit") == canonical


def test_a_value_that_is_not_a_quantity_is_refused() -> None:
    with pytest.raises(ValueConversionError, match="'lots' is not a quantity"):
        canonical_quantity("lots", what="memory limit")


def test_every_field_handed_in_the_backends_shapes_and_order() -> None:
    config = build_task_config(
        Passthroughs(handed=frozenset(ALL)),
        container=CONTAINER,
        executor_input=_executor_input(**{"pipelinechannel--memory": "2Gi", "path": "/ws/run/data.csv"}),
        kubernetes=SETTINGS,
        workspace="/ws/run",
        run_name="p-abcde",
    )
    assert config == {
        "env": [
            {"name": "A", "value": "1"},
            {"name": "EMPTY"},
            {
                "name": "TOKEN",
                "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token", "optional": False}},
            },
            {
                "name": "MODE",
                "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode", "optional": True}},
            },
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"},
            "requests": {"memory": "500M"},
        },
        "volumes": [
            {"name": "kfp-workspace", "persistentVolumeClaim": {"claimName": "p-abcde-kfp-workspace"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "creds", "secret": {"secretName": "creds", "optional": False}},
            {"name": "cfg", "configMap": {"name": "cfg", "optional": True}},
        ],
        "volumeMounts": [
            {"name": "kfp-workspace", "mountPath": "/kfp-workspace"},
            {"name": "data", "mountPath": "/data", "subPath": "part"},
            {"name": "creds", "mountPath": "/creds"},
            {"name": "cfg", "mountPath": "/cfg"},
        ],
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 60}],
        "affinity": {"nodeAffinity": SETTINGS.node_affinity},
    }


def test_fields_not_passed_through_are_null_and_resources_an_empty_object() -> None:
    config = build_task_config(
        Passthroughs(handed=frozenset({"KUBERNETES_VOLUMES"})),
        container=CONTAINER,
        executor_input=_executor_input(),
        kubernetes=None,
        workspace="/ws/run",
        run_name="p-abcde",
    )
    assert config == dict.fromkeys(
        ("affinity", "tolerations", "nodeSelector", "env", "volumes", "volumeMounts")
    ) | {"resources": {}}


def test_passthroughs_without_apply_to_task_keep_their_fields_off_the_task() -> None:
    passthroughs = Passthroughs.of(
        _component(
            [{"field": "ENV"}, {"field": "KUBERNETES_VOLUMES"}, {"field": "RESOURCES", "applyToTask": True}]
        )
    )
    assert passthroughs.off_task == {"ENV", "KUBERNETES_VOLUMES"}
    container, settings = on_task(passthroughs, container=CONTAINER, kubernetes=SETTINGS)
    assert "env" not in container and container["resources"] == CONTAINER["resources"]
    assert settings is not None
    assert settings.env_from_objects == () and settings.field_path_env == ()
    assert [volume.kind for volume in settings.volumes] == ["empty dir"]  # not passed through: still mounted
    assert settings.node_selector == {"disk": "ssd"}  # not named: applies to the task as ever


def test_a_component_without_passthroughs_keeps_everything_on_the_task() -> None:
    passthroughs = Passthroughs.of(component_spec({"executorLabel": "exec-a"}))
    assert passthroughs == Passthroughs()
    assert on_task(passthroughs, container=CONTAINER, kubernetes=SETTINGS) == (CONTAINER, SETTINGS)


def test_the_task_config_input_carries_the_config_and_other_inputs_are_untouched() -> None:
    component = _component([{"field": "ENV"}])
    given = _executor_input(other="x")
    handed = with_task_config(
        given, component=component, container=CONTAINER, kubernetes=None, workspace="", run_name="r"
    )
    assert "config" not in given.inputs.parameter_values  # a copy: the cache key was taken from this one
    config = handed.inputs.parameter_values["config"].struct_value
    assert [item["name"] for item in config["env"]] == ["A", "EMPTY"]
    assert handed.inputs.parameter_values["other"].string_value == "x"


def _settings(executor: dict[str, Any]) -> Any:
    platform = json_format.ParseDict(
        {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {"exec-a": executor}}}}},
        pipeline_spec_pb2.PlatformSpec(),
    )
    return load_kubernetes_settings(platform)["exec-a"]


def test_tolerations_and_node_affinity_are_read_in_kubernetes_shapes() -> None:
    settings = _settings(
        {
            "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "tolerationSeconds": "30"}],
            "nodeAffinity": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                {"matchFields": [{"key": "name", "operator": "Exists"}], "weight": 5},
                {},
            ],
        }
    )
    assert settings.tolerations == ({"key": "k", "operator": "Equal", "value": "v", "tolerationSeconds": 30},)
    assert settings.node_affinity == (
        {"required": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
        {"preferred": {"weight": 5, "preference": {"matchFields": [{"key": "name", "operator": "Exists"}]}}},
    )


@pytest.mark.parametrize(
    ("executor", "where"),
    [
        ({"nodeAffinity": [{"matchFields": [{"key": "k", "operator": "In"}], "weight": "heavy"}]}, "weight"),
        ({"nodeAffinity": [{"matchExpressions": [{"key": "k", "operator": "In", "values": 3}]}]}, "values"),
        ({"tolerations": [{"key": "k", "tolerationSeconds": "soon"}]}, "tolerationSeconds"),
    ],
)
def test_a_malformed_placement_setting_is_refused_naming_its_json_path(
    executor: dict[str, Any], where: str
) -> None:
    with pytest.raises(SpecErrors) as caught:
        _settings(executor)
    assert where in caught.value.problems[0].render()
