"""Explaining a pipeline: the walk's handler set that resolves each task as a run would, runs nothing, and
describes it in an entry (its ExecutorInput, command line, environment, condition, fingerprint).

Values that only a run produces are stand-ins (`driver/walk/standins.py`); with `--from-run` they are the
recorded run's, matched by position (parent DAG execution, task key, loop iteration).
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from google.protobuf import json_format, struct_pb2

from driver.run import platform
from driver.run.executions import recorded_result
from driver.run.importer import map_remote_uri
from driver.run.prepare import PreparedTask, TaskFolders, prepare_container
from driver.walk.provision import runtime_artifact
from driver.walk.resolve import ResolvedInputs, TaskContext
from driver.walk.standins import (
    UNKNOWN,
    blank_stand_in_names,
    condition_value,
    is_stand_in,
    item_artifact_reference,
    item_reference,
    mentions_reference,
    resolve_known,
    stand_in_for,
    unknown_outputs,
)
from driver.walk.state import DagScope, RunInfo, TaskResult
from driver.walk.walk import LoopItem, Node, Opened, loop_items, loop_unchecked_inputs
from ledger.model import CANCELED, FAILED, Artifact, Execution, RunView
from spec import labels, protojson, values
from spec.command import ENVIRONMENT_READY, environment_dir, start_mode
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import ExecutorSettings, TaskKubernetes, pvc_source
from spec.resources import parse_quantity
from spec.runner_choice import RunnerChoice
from spec.task_plan import TaskPlan, plan_task

ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
Entry: TypeAlias = dict[str, Any]
PlaceKey: TypeAlias = tuple[int | None, str, int | None]

# What only a run decides (a task's own uuid, which names its output folder) is shown as this.
UUID = "<uuid>"


@dataclass(frozen=True)
class Recorded:
    """A recorded run, its executions indexed by (parent DAG execution, task key, iteration)."""

    view: RunView
    index: dict[PlaceKey, Execution]

    @classmethod
    def of(cls, view: RunView) -> Recorded:
        return cls(view=view, index=view.by_place())

    def find(self, parent_id: int, key: str, iteration: int | None = None) -> Execution | None:
        return self.index.get((parent_id, key, iteration)) if parent_id >= 0 else None

    def root_id(self) -> int:
        root = self.index.get((None, "", None))
        return root.id if root is not None else -1


@dataclass
class _Task:
    """One task as explain meets it: the walk's node, its recorded execution (if any) and its entry."""

    node: Node
    recorded: Execution | None
    entry: Entry = field(default_factory=dict)

    @property
    def label(self) -> str:
        return labels.child_label(self.node.scope.place, self.node.key)


@dataclass
class ExplainHandlers:
    """The walk-wide values every task reads, and the entries found so far (in walk order)."""

    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    deployment_config: pipeline_spec_pb2.PipelineDeploymentConfig
    run: RunInfo
    run_dir: Path
    workspace: str
    cache_enabled: bool
    mounts: dict[str, str]
    recorded: Recorded | None
    kubernetes: dict[str, ExecutorSettings] = field(default_factory=dict)  # kfp-kubernetes, by executor
    kfp_package: str = ""  # --kfp-package: replaces a lightweight component's kfp pin
    runner: RunnerChoice = field(default_factory=RunnerChoice)  # --runner / --runner-for
    runner_options: dict[str, Any] = field(default_factory=dict)
    home: Path | None = None
    entries: list[Entry] = field(default_factory=list)
    serial: bool = True  # one task at a time, so that the entries come in a deterministic order

    # --- the walk's questions ---------------------------------------------------------------------------

    def component(self, name: str) -> ComponentSpec:
        return self.pipeline_spec.root if name == "root" else self.pipeline_spec.components[name]

    def deployment(self) -> pipeline_spec_pb2.PipelineDeploymentConfig:
        return self.deployment_config

    def run_id(self) -> str:
        return self.run.run_id

    def should_start(self, scope: DagScope, key: str, *, upstream: frozenset[str], failed: bool) -> bool:
        return True  # every task is explained, whatever became of its upstream

    def dag_state(self, *, failed: bool) -> str:
        return UNKNOWN

    def root_scope(self, parameters: dict[str, struct_pb2.Value]) -> DagScope:
        return DagScope(
            execution_id=self.recorded.root_id() if self.recorded else -1,
            component=self.pipeline_spec.root,
            component_name="root",
            task_path=(),
            parameters=parameters,
        )

    def enter(self, node: Node) -> _Task:
        recorded = self.recorded.find(node.scope.execution_id, node.key) if self.recorded else None
        task = _Task(node=node, recorded=recorded)
        task.entry = _new_entry(self, task)
        self.entries.append(task.entry)
        return task

    def failed(self, task: _Task, error: str) -> TaskResult:
        task.entry["error"] = error
        return unknown_outputs(
            task.node.component, key=task.node.key, label=task.label, state=FAILED, error=error
        )

    # --- one handler per kind of node -------------------------------------------------------------------

    async def container(self, task: _Task) -> TaskResult:
        node = task.node
        folders = self._task_folders(task)
        resolved = self._resolve(task, for_dag=False, task_uuid=folders.uuid)
        container = self.deployment_config.executors[node.component.executor_label].container
        context = self._context(node, folders.uuid)
        prepared = prepare_container(
            resolved,
            task_spec=node.spec,
            component=node.component,
            container=container,
            scope=node.scope,
            folders=folders,
            context=context,
            kubernetes=self.kubernetes,
            stand_in=lambda source: stand_in_for(
                source, task_spec=node.spec, scope=node.scope, iterations=node.scope.iterations
            ),
        )
        plan = plan_task(
            prepared.handed,
            component_spec=node.component,
            container=prepared.on_task_container,
            job=context.job_facts(),
            kfp_package=self.kfp_package,
        )
        if platform.is_pvc_operation(container):
            task.entry["notes"].append(f"{container.image}: the driver itself creates or deletes the volume")
        on_task_kubernetes = prepared.on_task_kubernetes
        task.entry |= {
            "executorInput": protojson.message_to_jsonable(plan.executor_input),
            "command": plan.argv,
            "resources": plan.resource_texts or None,
            "environment": self._environment(task, plan, prepared),
            "cacheEnabled": self.cache_enabled and node.spec.caching_options.enable_cache,
            "cacheFingerprint": None if task.entry["unresolved"] else prepared.cache_fingerprint(),
            "kubernetes": on_task_kubernetes.to_json() if on_task_kubernetes is not None else None,
        }
        return self._leaf_result(task)

    def _environment(self, task: _Task, plan: TaskPlan, prepared: PreparedTask) -> dict[str, Any]:
        """Where the task would run: the runner --runner/--runner-for picks for it."""
        runner = self.runner.for_task(
            task_key=task.node.key, task_path="/".join(task.node.task_path), image=plan.image
        )
        if runner != "docker":
            environment = _environment(plan, prepared.on_task_container)
            if runner == "host":
                cold_start = bool(self.runner_options.get("cold_start"))
                environment["start"] = start_mode(plan.python, cold_start=cold_start)
            return environment
        kubernetes = prepared.on_task_kubernetes
        task_dir = str(prepared.folders.task_dir)
        directories = [self.run.pipeline_root, task_dir, *([self.workspace] if self.workspace else [])]
        return _docker_environment(
            plan,
            mounts=_docker_mounts(directories=directories, kubernetes=kubernetes, home=self.home),
            network=str(self.runner_options.get("docker_network") or "none"),
            kubernetes=kubernetes,
        )

    async def importer(self, task: _Task) -> TaskResult:
        resolved = self._resolve(task, for_dag=False)
        task.entry["executorInput"] = _inputs_only(resolved)
        importer = self.deployment_config.executors[task.node.component.executor_label].importer
        if importer.artifact_uri.WhichOneof("value") == "runtime_parameter":
            source = resolved.parameters.get(importer.artifact_uri.runtime_parameter, struct_pb2.Value())
        else:
            source = importer.artifact_uri.constant
        uri = values.value_to_text(source)
        task.entry["importer"] = {
            "artifactUri": uri,
            "localUri": None if mentions_reference(source) else map_remote_uri(uri, self.mounts),
            "schemaTitle": importer.type_schema.schema_title or "system.Artifact",
            "reimport": importer.reimport,
            "metadata": json_format.MessageToDict(importer.metadata),
        }
        return self._leaf_result(task)

    def open_dag(self, task: _Task) -> Opened:
        resolved = self._resolve(task, for_dag=True)
        task.entry["executorInput"] = _inputs_only(resolved)
        return Opened(resolved=resolved, execution_id=_recorded_id(task), would_not_run=_would_not_run(task))

    def close_dag(self, task: _Task, opened: Opened, child: DagScope, state: str) -> TaskResult:
        return TaskResult(
            task_key=task.node.key,
            state=_dag_state(task),
            execution_id=_execution_id(task),
            scope=child,
            error=_dag_error(task),
            skipped=_condition_is_false(task),  # as a run records it: a Collected leaves it out
        )

    def open_loop(self, task: _Task) -> Opened:
        node = task.node
        resolved = self._resolve(task, for_dag=True, skip=loop_unchecked_inputs(node.spec))
        resolved.parameters.pop(node.spec.parameter_iterator.item_input, None)
        task.entry["executorInput"] = _inputs_only(resolved)
        items = _known_items(node, resolved)
        task.entry["items"] = [_shown_item(item) for item in items] if items is not None else None
        task.entry["iterationCount"] = len(items) if items is not None else None
        if items is None:
            task.entry["notes"].append(
                "the items are known only when a run gets here:"
                " the body is shown once, with the item unresolved"
            )
        return Opened(
            resolved=resolved,
            execution_id=_recorded_id(task),
            items=items,
            unknown_item=_unknown_item(node, task.label),
            would_not_run=_would_not_run(task),
        )

    async def run_iterations(
        self, task: _Task, opened: Opened, calls: list[Callable[[], Awaitable[str]]]
    ) -> list[str]:
        return [await call() for call in calls]

    def open_iteration(self, task: _Task, opened: Opened, scope: DagScope, *, index: int, count: int) -> int:
        recorded = self.recorded.find(opened.execution_id, task.node.key, index) if self.recorded else None
        return recorded.id if recorded is not None else -1

    def close_iteration(self, task: _Task, scope: DagScope, state: str) -> None:
        return None

    def close_loop(
        self, task: _Task, opened: Opened, iterations: list[DagScope] | None, states: list[str]
    ) -> TaskResult:
        if iterations is None:
            return unknown_outputs(
                task.node.component,
                key=task.node.key,
                label=task.label,
                state=_dag_state(task),
                error=_dag_error(task),
            )
        return TaskResult(
            task_key=task.node.key,
            state=_dag_state(task),
            execution_id=_execution_id(task),
            iterations=iterations,
            error=_dag_error(task),
        )

    # --- helpers of the handlers ------------------------------------------------------------------------

    def _resolve(
        self, task: _Task, *, for_dag: bool, skip: frozenset[str] = frozenset(), task_uuid: str = ""
    ) -> ResolvedInputs:
        """The task's inputs and the value of its condition, both written into its entry."""
        node = task.node
        context = self._context(node, task_uuid)
        resolved, unresolved = resolve_known(
            node.spec,
            node.component,
            node.scope,
            context=context,
            for_dag=for_dag,
            iterations=node.scope.iterations,
            skip=skip,
        )
        task.entry["unresolved"] = unresolved
        task.entry["condition"] = condition_value(node.spec.trigger_policy.condition, resolved)
        return resolved

    def _context(self, node: Node, task_uuid: str) -> TaskContext:
        return TaskContext(
            run=self.run, task_key=node.key, workspace_path=self.workspace, task_uuid=task_uuid
        )

    def _task_folders(self, task: _Task) -> TaskFolders:
        """The task's uuid, task root and task directory: the recorded run's if it launched the task."""
        recorded = task.recorded.properties if task.recorded is not None else {}
        if recorded.get("task_dir") and recorded.get("task_root") and recorded.get("task_uuid"):
            return TaskFolders(
                uuid=str(recorded["task_uuid"]),
                task_root=str(recorded["task_root"]),
                task_dir=Path(str(recorded["task_dir"])),
            )
        return TaskFolders.of(run_root=self.run.run_root, run_dir=self.run_dir, key=task.node.key, uuid=UUID)

    def _leaf_result(self, task: _Task) -> TaskResult:
        """A container's or importer's result: what the recorded run recorded, else its stand-ins."""
        node, recorded = task.node, task.recorded
        if recorded is None or self.recorded is None:
            return unknown_outputs(node.component, key=node.key, label=task.label, state=UNKNOWN)
        return recorded_result(self.recorded.view, recorded, label=task.label)


def _new_entry(handlers: ExplainHandlers, task: _Task) -> Entry:
    node = task.node
    notes: list[str] = []
    if node.scope.would_not_run:
        notes.append(f"would not run: {node.scope.would_not_run}")
    if handlers.recorded is not None and task.recorded is None:
        notes.append(f"run {handlers.run.run_id} has no execution of this task")
    recorded = task.recorded
    iterations = node.scope.iterations
    return {
        "task": node.key,
        "path": "/".join(node.task_path),
        "label": task.label,
        "iteration": iterations[-1] if iterations else None,
        "iterations": list(iterations),
        "kind": node.kind,
        "component": node.spec.component_ref.name,
        "displayName": node.spec.task_info.name or node.key,
        "condition": None,
        "executorInput": None,
        "command": None,
        "environment": None,
        "cacheFingerprint": None,
        "unresolved": [],
        "notes": notes,
        "recorded": {"executionId": recorded.id, "state": recorded.state} if recorded is not None else None,
    }


def _known_items(node: Node, resolved: ResolvedInputs) -> list[LoopItem] | None:
    """The loop's items, or None when they come whole from an output not known yet."""
    if node.spec.HasField("artifact_iterator"):
        # One stand-in is a whole list not known yet (a loop's collected output whose items are not known);
        # several are the elements of a list whose length is known, each iteration with its stand-in.
        listed = resolved.artifacts.get(node.spec.artifact_iterator.items.input_artifact, [])
        return None if len(listed) == 1 and is_stand_in(listed[0]) else loop_items(node.spec, resolved)
    name = node.spec.parameter_iterator.items.input_parameter
    value = resolved.parameters.get(name) if name else None
    if value is not None and value.WhichOneof("kind") == "string_value" and mentions_reference(value):
        return None
    return loop_items(node.spec, resolved)


def _shown_item(item: LoopItem) -> Any:
    """An item as the entry shows it: a value, or an artifact's URI."""
    return item.uri if isinstance(item, Artifact) else values.value_to_python(item)


def _unknown_item(node: Node, label: str) -> LoopItem:
    """What the item of a loop over items not known yet stands for."""
    if not node.spec.HasField("artifact_iterator"):
        return item_reference(label)
    definitions = node.component.input_definitions.artifacts
    spec = definitions.get(node.spec.artifact_iterator.item_input)
    return item_artifact_reference(label, spec.artifact_type.schema_title if spec is not None else "")


def _would_not_run(task: _Task) -> str:
    """Why the tasks inside a DAG or loop would not run: its condition is known to be false."""
    return f"the condition of {task.label!r} is false" if _condition_is_false(task) else ""


def _condition_is_false(task: _Task) -> bool:
    return (task.entry["condition"] or {}).get("value") is False


def _recorded_id(task: _Task) -> int:
    """The recorded execution's id, as a scope's `execution_id` (-1: none)."""
    return task.recorded.id if task.recorded is not None else -1


def _execution_id(task: _Task) -> int | None:
    return task.recorded.id if task.recorded is not None else None


def _dag_state(task: _Task) -> str:
    if task.recorded is not None:
        return task.recorded.state
    return CANCELED if _condition_is_false(task) else UNKNOWN


def _dag_error(task: _Task) -> str:
    return task.recorded.error if task.recorded is not None else ""


def _inputs_only(resolved: ResolvedInputs) -> dict[str, Any]:
    """A DAG's, loop's or importer's resolved inputs in ExecutorInput form (no outputs are provisioned)."""
    executor_input = pipeline_spec_pb2.ExecutorInput()
    for name, value in resolved.parameters.items():
        executor_input.inputs.parameter_values[name].CopyFrom(value)
    for name, artifacts in resolved.artifacts.items():
        executor_input.inputs.artifacts[name].artifacts.extend(runtime_artifact(a) for a in artifacts)
    blank_stand_in_names(executor_input)
    return protojson.message_to_jsonable(executor_input)


def _docker_environment(
    plan: TaskPlan, *, mounts: list[str], network: str, kubernetes: TaskKubernetes | None
) -> dict[str, Any]:
    """The container `--runner docker` would start (launcher/runners/docker.py builds the same)."""
    preamble = (
        len(plan.command) >= 3 and plan.command[:2] == ["sh", "-c"] and "pip install" in plan.command[2]
    )
    installs = [shlex.join(install) for install in plan.python.installs] if plan.python and preamble else []
    limits = _docker_limits(plan.resource_texts)
    settings = kubernetes or TaskKubernetes()
    names = [*plan.variables, *(e.env_var for e in settings.env_from_objects)]
    names += [e.name for e in settings.field_path_env]
    return {
        "kind": "docker",
        "image": plan.image,
        "installs": installs,
        "network": network,
        "mounts": mounts,
        "limits": limits,
        "variables": names,  # names only: a secret's value is never shown
    }


def _docker_limits(texts: dict[str, str]) -> dict[str, str]:
    """The limits the container gets, as the Docker runner reads them; a value not known yet (a stand-in)
    as it stands."""
    limits: dict[str, str] = {}
    if "cpuLimit" in texts:
        limits["cpu"] = _limit(texts["cpuLimit"], lambda quantity: f"{quantity:g}", what="cpu limit")
    if "memoryLimit" in texts:
        limits["memory"] = _limit(texts["memoryLimit"], lambda q: f"{int(q)} bytes", what="memory limit")
    if "acceleratorType" in texts:
        count = _limit(texts["acceleratorCount"], lambda q: f"{int(q)}", what="accelerator count")
        if count != "0":
            limits["accelerators"] = f"{count} x {texts['acceleratorType']}"
    return limits


def _limit(text: str, shown: Callable[[float], str], *, what: str) -> str:
    if mentions_reference(struct_pb2.Value(string_value=text)):
        return text
    return shown(parse_quantity(text, what=what))


def _docker_mounts(
    *, directories: list[str], kubernetes: TaskKubernetes | None, home: Path | None
) -> list[str]:
    mounts = [f"{path} -> {path}" for path in directories]
    for volume in kubernetes.volumes if kubernetes else ():
        if volume.kind == "pvc" and home is not None:
            source = str(pvc_source(home, volume.name, volume.sub_path))
        elif volume.kind == "empty dir":
            source = "tmpfs"
        else:
            source = f"{volume.kind} {volume.name!r} (its local source, read-only)"
        mounts.append(f"{source} -> {volume.mount_path}")
    return mounts


def _environment(plan: TaskPlan, container: dict[str, Any]) -> dict[str, Any]:
    """Where the launcher would run the command: a cached Python environment, or the host as it is."""
    image = str(container.get("image", ""))
    if plan.python is None:
        return {
            "kind": "host",
            "image": image,
            "variables": plan.variables,
            "note": "the command runs on this machine as it is; the image is not used",
        }
    directory = environment_dir(plan.python)
    return {
        "kind": "python",
        "image": image,
        "installs": [shlex.join(install) for install in plan.python.installs],
        "path": str(directory),
        "built": (directory / ENVIRONMENT_READY).exists(),
        "variables": plan.variables,
    }
