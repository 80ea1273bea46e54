"""kfp-kubernetes in the driver: a task's settings with their names resolved, and the PVC operations.

As the backend's driver does (`extendPodSpecPatch`, `kubernetesPlatformOps`): names of secrets, config maps
and PVCs are resolved against the task's DAG (a component input is the parent DAG's input, an upstream
output is read from that task); `CreatePVC` and `DeletePVC` compile to containers with a stub image and
no command, and the driver itself carries them out, without a launcher. A PVC is the directory
`<home>/volumes/<name>`, shared by the tasks and the runs of this home.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from google.protobuf import struct_pb2

from driver.run.context import RunContext
from driver.walk.resolve import ResolvedInputs, TaskContext, resolve_platform_json, resolve_platform_name
from driver.walk.state import DagScope, TaskResult
from ledger.model import COMPLETE, FAILED
from ledger.properties import AttemptEnd, ContainerTask, TaskError, TaskOutputs
from spec import protojson, values
from spec.errors import LplError, ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import (
    ExecutorSettings,
    InputParameterSpec,
    LocalSourceError,
    NameRef,
    TaskKubernetes,
    volume_dir,
)

CREATE_PVC, DELETE_PVC = "argostub/createpvc", "argostub/deletepvc"


def task_kubernetes(
    kubernetes: dict[str, ExecutorSettings],
    *,
    scope: DagScope,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    context: TaskContext,
    stand_in: Callable[[InputParameterSpec], struct_pb2.Value | None] | None = None,
) -> TaskKubernetes | None:
    """The task's kfp-kubernetes settings with names resolved, or None when its executor has none.

    `stand_in` (explain) gives the stand-in of a value not known yet, which is then used as it is."""
    settings = kubernetes.get(component.executor_label)
    if settings is None:
        return None

    def name(ref: NameRef) -> str | None:
        standing = stand_in(ref.spec) if stand_in is not None else None
        if standing is not None:
            return values.value_to_text(standing)
        return resolve_platform_name(
            ref.spec, task_spec=task_spec, scope=scope, context=context, what=f"the name at {ref.json_path}"
        )

    def resolve(ref: NameRef) -> object | None:
        standing = stand_in(ref.spec) if stand_in is not None else None
        if standing is not None:
            return {"": values.value_to_text(standing)}  # labels not known yet
        return resolve_platform_json(ref.spec, task_spec=task_spec, scope=scope, context=context)

    def resolve_known(ref: NameRef) -> object | None:
        """The task input's JSON value; None when null, or not known yet (explain)."""
        if stand_in is not None and stand_in(ref.spec) is not None:
            return None
        return resolve_platform_json(ref.spec, task_spec=task_spec, scope=scope, context=context)

    names = {ref.json_path: name(ref) for ref in settings.name_refs()}

    return TaskKubernetes.build(
        settings,
        names=names,
        node_selector=_node_selector(settings, resolve),
        tolerations=_tolerations(settings, resolve_known),
        node_affinity=_node_affinity(settings, resolve_known),
    )


def _tolerations(
    settings: ExecutorSettings, resolve: Callable[[NameRef], object | None]
) -> tuple[dict[str, Any], ...]:
    """The tolerations as Kubernetes JSON: a task input may hold one or a list; null or empty adds none
    (as the backend's driver)."""
    found: list[dict[str, Any]] = []
    for item in settings.tolerations:
        if isinstance(item, dict):
            found.append(item)
            continue
        value = resolve(item)
        if isinstance(value, dict) and value:
            found.append(value)
        elif isinstance(value, list):
            found.extend(entry for entry in value if isinstance(entry, dict))
        elif value is not None and not isinstance(value, dict):
            raise ResolutionError(f"the toleration at {item.json_path} is neither an object nor a list")
    return tuple(found)


def _node_affinity(settings: ExecutorSettings, resolve: Callable[[NameRef], object | None]) -> dict[str, Any]:
    """A Kubernetes NodeAffinity gathered from the terms, as the backend's driver builds it: terms with a
    weight are preferred, the others required; a task input's NodeAffinity adds its own terms."""
    required: list[Any] = []
    preferred: list[Any] = []
    for term in settings.node_affinity:
        if isinstance(term, dict):
            required += [term["required"]] if "required" in term else []
            preferred += [term["preferred"]] if "preferred" in term else []
            continue
        value = resolve(term)
        if value is None:
            continue
        found = _affinity_terms(value)
        if found is None:
            raise ResolutionError(f"the node affinity at {term.json_path} is not a Kubernetes NodeAffinity")
        required += found[0]
        preferred += found[1]
    affinity: dict[str, Any] = {}
    if required:
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred:
        affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return affinity


def _affinity_terms(value: object) -> tuple[list[Any], list[Any]] | None:
    """A NodeAffinity's required and preferred terms; None when it is not shaped like one."""
    if not isinstance(value, dict):
        return None
    strict = value.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    preferred = value.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    required = strict.get("nodeSelectorTerms") or [] if isinstance(strict, dict) else None
    if not isinstance(required, list) or not isinstance(preferred, list):
        return None
    return required, preferred


def _node_selector(
    settings: ExecutorSettings, resolve: Callable[[NameRef], object | None]
) -> dict[str, str] | None:
    if settings.node_selector_json is None:
        return None
    labels = resolve(settings.node_selector_json)
    if labels is None:
        return {}  # a null optional input: no selector, as the backend skips it
    if not isinstance(labels, dict):
        raise ResolutionError(
            f"the node selector at {settings.node_selector_json.json_path} is not an object"
        )
    return {str(key): str(value) for key, value in labels.items()}


def local_sources(ctx: RunContext, settings: TaskKubernetes | None) -> dict[str, dict[str, str]]:
    """The local sources of the secrets and config maps this task reads (paths only, never values)."""
    used: dict[str, dict[str, str]] = {}
    for kind, name in sorted(settings.objects() if settings is not None else ()):
        source = ctx.local_sources.get(kind, {}).get(name)
        if source is not None:
            used.setdefault(kind, {})[name] = source
    return used


def with_pod_metadata(facts: ContainerTask, settings: TaskKubernetes | None) -> ContainerTask:
    """The task's facts with what the execution records of the pod's metadata (the labels and annotations the
    task was given, when it was given any)."""
    if settings is None:
        return facts
    return replace(
        facts,
        pod_labels=dict(settings.labels) if settings.labels else None,
        pod_annotations=dict(settings.annotations) if settings.annotations else None,
    )


def is_pvc_operation(container: pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec) -> bool:
    return container.image in (CREATE_PVC, DELETE_PVC) and not container.command and not container.args


def run_pvc_operation(
    ctx: RunContext,
    *,
    key: str,
    label: str,
    image: str,
    resolved: ResolvedInputs,
    execution_id: int,
) -> TaskResult:
    """Create or delete the task's PVC (a directory under `<home>/volumes`) and publish its RUNNING
    execution."""
    started = time.time()
    try:
        outputs = _create_pvc(ctx, resolved) if image == CREATE_PVC else _delete_pvc(ctx, resolved)
        state, error = COMPLETE, ""
    except (LplError, OSError) as exc:
        outputs, state = {}, FAILED
        error = f"{'create' if image == CREATE_PVC else 'delete'} PVC: {exc}"
    # The driver does the work itself: there is no process, and so no exit code.
    attempt = AttemptEnd(number=0, start=started, end=time.time(), state=state, error=error, process=False)
    ctx.run_ledger.publish_execution(
        execution_id,
        state=state,
        properties=[
            TaskOutputs(outputs=protojson.message_to_jsonable(struct_pb2.Struct(fields=outputs))),
            TaskError(error),
        ],
        attempt=attempt,
    )
    verb = "task_finished" if state == COMPLETE else "task_failed"
    ctx.console.event(verb, f"{label} {state}" + (f": {error}" if error else ""), task=key, state=state)
    return TaskResult(
        task_key=key,
        state=state,
        execution_id=execution_id,
        error=f"task {label!r}: {error}" if error else "",
        parameters=outputs,
    )


def _text_input(resolved: ResolvedInputs, name: str) -> str:
    value = resolved.parameters.get(name)
    return value.string_value if value is not None and value.WhichOneof("kind") == "string_value" else ""


def _create_pvc(ctx: RunContext, resolved: ResolvedInputs) -> dict[str, struct_pb2.Value]:
    name, suffix = _text_input(resolved, "pvc_name"), _text_input(resolved, "pvc_name_suffix")
    if name and suffix:
        raise LocalSourceError("at most one of pvc_name and pvc_name_suffix can be non-empty")
    name = name or str(uuid.uuid4()) + suffix
    volume_dir(ctx.home, name).mkdir(parents=True, exist_ok=True)
    return {"name": struct_pb2.Value(string_value=name)}


def _delete_pvc(ctx: RunContext, resolved: ResolvedInputs) -> dict[str, struct_pb2.Value]:
    name = _text_input(resolved, "pvc_name")
    if not name:
        raise LocalSourceError("required parameter pvc_name not provided")
    directory = volume_dir(ctx.home, name)
    if not directory.is_dir():
        raise LocalSourceError(f"cannot find PVC {name!r} (no {directory})")
    shutil.rmtree(directory)
    return {}
