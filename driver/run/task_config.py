"""`dsl.TaskConfig`: the task's pod settings handed to a component that asks for them, as the backend does.

A component's `taskConfigPassthroughs` name the fields its TaskConfig carries (the backend's
`getTaskConfigOptions`); a named field applies to the task itself only with `applyToTask`, and a field not
named always applies. The TaskConfig holds what the task's pod would hold, in Kubernetes' JSON shapes
(`initPodSpecPatch`, `extendPodSpecPatch`: the container's env then the kfp-kubernetes env, resource limits
and requests as quantities, the workspace and kfp-kubernetes volumes with their mounts, node selector,
tolerations, node affinity), and is set on every `TASK_CONFIG` input once the cache key is taken.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2

from driver.walk.standins import mentions_reference
from spec import values
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import TaskKubernetes
from spec.placeholders import substitute_input_parameters
from spec.resources import canonical_quantity, quantity_text

ENV, RESOURCES, VOLUMES = "ENV", "RESOURCES", "KUBERNETES_VOLUMES"
NODE_SELECTOR, TOLERATIONS, AFFINITY = (
    "KUBERNETES_NODE_SELECTOR",
    "KUBERNETES_TOLERATIONS",
    "KUBERNETES_AFFINITY",
)
WORKSPACE_VOLUME, WORKSPACE_MOUNT = "kfp-workspace", "/kfp-workspace"


@dataclass(frozen=True)
class Passthroughs:
    """What a component's `taskConfigPassthroughs` say: the fields handed to it, those kept off the task."""

    handed: frozenset[str] = frozenset()
    off_task: frozenset[str] = frozenset()

    @classmethod
    def of(cls, component: pipeline_spec_pb2.ComponentSpec) -> Passthroughs:
        applies: dict[str, bool] = {}  # a field named twice: the last entry decides, as in the backend
        for item in getattr(component, "task_config_passthroughs", ()):  # older kfp-pipeline-spec: none
            applies[
                pipeline_spec_pb2.TaskConfigPassthroughType.TaskConfigPassthroughTypeEnum.Name(item.field)
            ] = item.apply_to_task
        return cls(
            handed=frozenset(applies),
            off_task=frozenset(name for name, apply in applies.items() if not apply),
        )


def task_config_inputs(component: pipeline_spec_pb2.ComponentSpec) -> list[str]:
    parameters = component.input_definitions.parameters.items()
    return [
        name for name, spec in parameters if values.parameter_type_name(spec.parameter_type) == "TASK_CONFIG"
    ]


def with_task_config(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    *,
    component: pipeline_spec_pb2.ComponentSpec,
    container: dict[str, Any],
    kubernetes: TaskKubernetes | None,
    workspace: str,
    run_name: str,
) -> pipeline_spec_pb2.ExecutorInput:
    """The ExecutorInput with the TaskConfig on each `TASK_CONFIG` input (a copy; the same message when the
    component takes none)."""
    names = task_config_inputs(component)
    if not names:
        return executor_input
    config = build_task_config(
        Passthroughs.of(component),
        container=container,
        executor_input=executor_input,
        kubernetes=kubernetes,
        workspace=workspace,
        run_name=run_name,
    )
    handed = pipeline_spec_pb2.ExecutorInput()
    handed.CopyFrom(executor_input)
    for name in names:
        value = struct_pb2.Value()
        value.struct_value.update(config)
        handed.inputs.parameter_values[name].CopyFrom(value)
    return handed


def on_task(
    passthroughs: Passthroughs, *, container: dict[str, Any], kubernetes: TaskKubernetes | None
) -> tuple[dict[str, Any], TaskKubernetes | None]:
    """The container spec and settings the task itself gets: without the fields handed only to the
    component (env, resources, volumes, node selector; tolerations and affinity have no local effect)."""
    off = passthroughs.off_task
    if not off:
        return container, kubernetes
    kept = {key: value for key, value in container.items() if not _kept_off(key, off)}
    if kubernetes is None:
        return kept, None
    changes: dict[str, Any] = {}
    if ENV in off:
        changes |= {"env_from_objects": (), "field_path_env": ()}
    if VOLUMES in off:  # empty dirs are not passed through (the backend mounts them either way)
        changes["volumes"] = tuple(volume for volume in kubernetes.volumes if volume.kind == "empty dir")
    if NODE_SELECTOR in off:
        changes["node_selector"] = {}
    return kept, dataclasses.replace(kubernetes, **changes)


def _kept_off(key: str, off: frozenset[str]) -> bool:
    return (key == "env" and ENV in off) or (key == "resources" and RESOURCES in off)


def build_task_config(
    passthroughs: Passthroughs,
    *,
    container: dict[str, Any],
    executor_input: pipeline_spec_pb2.ExecutorInput,
    kubernetes: TaskKubernetes | None,
    workspace: str,
    run_name: str,
) -> dict[str, Any]:
    """The TaskConfig as the backend's driver writes it (Go's `json.Marshal`: a field not handed is null,
    `resources` an object)."""
    handed = passthroughs.handed
    settings = kubernetes or TaskKubernetes()
    config: dict[str, Any] = dict.fromkeys(
        ("affinity", "tolerations", "nodeSelector", "env", "volumes", "volumeMounts")
    ) | {"resources": {}}
    if ENV in handed:
        config["env"] = _env(container, settings)
    if RESOURCES in handed:
        config["resources"] = _resources(container, executor_input)
    if VOLUMES in handed:
        volumes, mounts = _volumes(settings, executor_input, workspace=workspace, run_name=run_name)
        config["volumes"], config["volumeMounts"] = volumes or None, mounts or None
    if NODE_SELECTOR in handed and settings.node_selector:
        config["nodeSelector"] = dict(settings.node_selector)
    if TOLERATIONS in handed and settings.tolerations:
        config["tolerations"] = list(settings.tolerations)
    if AFFINITY in handed and settings.node_affinity:
        config["affinity"] = {"nodeAffinity": dict(settings.node_affinity)}
    return config


def _env(container: dict[str, Any], settings: TaskKubernetes) -> list[dict[str, Any]]:
    """The container's variables (values as compiled), then the kfp-kubernetes ones, as Kubernetes EnvVars."""
    env: list[dict[str, Any]] = [
        {"name": str(variable["name"])} | ({"value": str(variable["value"])} if variable.get("value") else {})
        for variable in container.get("env", [])
    ]
    for item in settings.env_from_objects:
        reference = "secretKeyRef" if item.kind == "secret" else "configMapKeyRef"
        selector = {"name": item.object_name, "key": item.key, "optional": item.optional}
        env.append({"name": item.env_var, "valueFrom": {reference: selector}})
    for field_env in settings.field_path_env:
        env.append({"name": field_env.name, "valueFrom": {"fieldRef": {"fieldPath": field_env.field_path}}})
    return env


def _resources(container: dict[str, Any], executor_input: pipeline_spec_pb2.ExecutorInput) -> dict[str, Any]:
    """Limits and requests as Kubernetes quantities: the quantity fields (placeholders resolved against the
    task's inputs), else the deprecated numbers (memory in G); an accelerator is a limit of its type."""
    resources = container.get("resources") or {}

    def substitute(text: str) -> str:
        return substitute_input_parameters(text, executor_input.inputs.parameter_values)

    def quantity(kind: str, which: str) -> str | None:
        text = quantity_text(resources, kind, which, substitute=substitute)
        return _canonical(text, what=f"{kind.lower()} {which.lower()}") if text is not None else None

    limits = {
        name: q for name, kind in (("memory", "Memory"), ("cpu", "Cpu")) if (q := quantity(kind, "Limit"))
    }
    requests = {
        name: q for name, kind in (("memory", "Memory"), ("cpu", "Cpu")) if (q := quantity(kind, "Request"))
    }
    accelerator = resources.get("accelerator") or {}
    kind = substitute(str(accelerator.get("resourceType") or accelerator.get("type") or ""))
    count = substitute(str(accelerator.get("resourceCount") or "")) or (
        str(accelerator.get("count")) if int(accelerator.get("count") or 0) > 0 else ""
    )
    if kind and count:
        limits[kind] = _canonical(count, what="accelerator count")
    return ({"limits": limits} if limits else {}) | ({"requests": requests} if requests else {})


def _canonical(text: str, *, what: str) -> str:
    """A quantity as Kubernetes writes it; explain's stand-in for a value not known yet, as it stands."""
    if mentions_reference(struct_pb2.Value(string_value=text)):
        return text
    return canonical_quantity(text, what=what)


def _volumes(
    settings: TaskKubernetes,
    executor_input: pipeline_spec_pb2.ExecutorInput,
    *,
    workspace: str,
    run_name: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The workspace's volume when the task uses it, then PVCs, secrets and config maps, with their mounts."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if _uses_workspace(executor_input, workspace):
        claim = {"claimName": f"{run_name}-{WORKSPACE_VOLUME}"}
        volumes.append({"name": WORKSPACE_VOLUME, "persistentVolumeClaim": claim})
        mounts.append({"name": WORKSPACE_VOLUME, "mountPath": WORKSPACE_MOUNT})
    for volume in settings.volumes:
        if volume.kind == "pvc":
            volumes.append({"name": volume.name, "persistentVolumeClaim": {"claimName": volume.name}})
        elif volume.kind == "secret":
            volumes.append(
                {"name": volume.name, "secret": {"secretName": volume.name, "optional": volume.optional}}
            )
        elif volume.kind == "config map":
            volumes.append(
                {"name": volume.name, "configMap": {"name": volume.name, "optional": volume.optional}}
            )
        else:
            continue  # empty dirs are not passed through
        mount = {"name": volume.name, "mountPath": volume.mount_path}
        mounts.append(mount | ({"subPath": volume.sub_path} if volume.sub_path else {}))
    return volumes, mounts


def _uses_workspace(executor_input: pipeline_spec_pb2.ExecutorInput, workspace: str) -> bool:
    """As the backend's `needsWorkspaceMount`: an input names the workspace (here: its local directory), or
    an input artifact lives there."""
    marks = [mark for mark in ("{{$.workspace_path}}", WORKSPACE_MOUNT, workspace) if mark]
    for value in executor_input.inputs.parameter_values.values():
        if value.WhichOneof("kind") == "string_value" and any(mark in value.string_value for mark in marks):
            return True
    for artifacts in executor_input.inputs.artifacts.values():
        if artifacts.artifacts:
            flag = artifacts.artifacts[0].metadata.fields.get("_kfp_workspace")
            if flag is not None and flag.WhichOneof("kind") == "bool_value" and flag.bool_value:
                return True
    return False
