"""`python -m driver PIPELINE --explain`: what each task would receive, worked out without running or recording.

The walk resolves every task with the driver's own pure functions (`resolve_inputs`, the CEL conditions,
`build_executor_input`, the cache fingerprint, the placeholder `Resolver`) over a run state in which no task
has run: an output nobody produced yet stands in as a reference string such as
`{{tasks['stage-0'].outputs.parameters['Output']}}`, or, with `--from-run`, as the value a recorded run gave it.
Nothing here writes a file, creates the home or appends to the ledger.
"""

from __future__ import annotations

import graphlib
import json
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeAlias

from google.protobuf import json_format, struct_pb2

from driver import cache, condition, dag
from driver.context import load_deployment
from driver.importer import map_remote_uri
from driver.params import build_root_parameters, read_params_file
from driver.provision import build_executor_input, parameters_from_python, runtime_artifact
from driver.resolve import ResolvedInputs, TaskContext, output_parameter, resolve_inputs
from driver.state import DagScope, RunInfo, TaskResult
from ledger.model import CANCELED, FAILED, SUCCESS_STATES, Artifact, Execution, RunView
from ledger.store import Ledger
from spec import values
from spec.command import ENVIRONMENT_READY, PythonPlan, environment_dir, plan_python_component
from spec.errors import LedgerError, OptionError, ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.load import load_pipeline
from spec.placeholders import JobFacts, Resolver, add_defaults, provided_inputs

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
Entry: TypeAlias = dict[str, Any]

UNKNOWN = "UNKNOWN"  # the state of a task whose outcome cannot be known without running it
# Stand-ins for what only a run decides: its id, its start, a task's execution id and output folder.
RUN_ID, CREATE_TIME, EXECUTION_ID, UUID = "<run-id>", "<create-time>", "<execution-id>", "<uuid>"
_REFERENCE = re.compile(r"\{\{tasks\['[^']*'\][^{}]*\}\}")


@dataclass(frozen=True)
class ExplainOptions:
    pipeline: Path | None
    home: Path
    params: list[str] = field(default_factory=list)
    params_file: Path | None = None
    pipeline_root: Path | None = None
    workspace: Path | None = None
    mounts: dict[str, str] = field(default_factory=dict)
    cache: bool = True
    tasks: list[str] = field(default_factory=list)
    from_run: str | None = None
    as_json: bool = False


@dataclass(frozen=True)
class Recorded:
    """A recorded run, its executions indexed by (parent DAG execution, task key, iteration)."""

    view: RunView
    index: dict[tuple[int | None, str, int | None], Execution]

    @classmethod
    def of(cls, view: RunView) -> Recorded:
        index: dict[tuple[int | None, str, int | None], Execution] = {}
        for execution in sorted(view.executions.values(), key=lambda e: e.id):
            if "replay_of" not in execution.properties:  # a replay is not the run's own record of the task
                index[(execution.parent_dag_id, execution.task_name, execution.iteration_index)] = execution
        return cls(view=view, index=index)

    def find(self, parent_id: int, key: str, iteration: int | None = None) -> Execution | None:
        return self.index.get((parent_id, key, iteration)) if parent_id >= 0 else None

    def root_id(self) -> int:
        root = self.index.get((None, "", None))
        return root.id if root is not None else -1


@dataclass
class Walk:
    """The explain-wide values every task reads, and the entries written so far."""

    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig
    run: RunInfo
    run_dir: Path
    workspace: str
    cache_enabled: bool
    mounts: dict[str, str]
    recorded: Recorded | None
    entries: list[Entry] = field(default_factory=list)

    def component(self, name: str) -> ComponentSpec:
        return self.pipeline_spec.root if name == "root" else self.pipeline_spec.components[name]


@dataclass(frozen=True)
class _Place:
    """Where a task sits: the loop iterations around it, and why it would not run at all."""

    iterations: tuple[int, ...] = ()
    not_run_because: str = ""


@dataclass
class _Task:
    scope: DagScope
    key: str
    spec: TaskSpec
    component: ComponentSpec
    recorded: Execution | None
    entry: Entry
    place: _Place

    @property
    def path(self) -> str:
        return "/".join((*self.scope.task_path, self.key))

    @property
    def label(self) -> str:
        return self.path + "".join(f"[{i}]" for i in self.place.iterations)


# --- entry point ---------------------------------------------------------------------------------------


def explain(options: ExplainOptions) -> int:
    """Print what every (or every named) task would receive; return the exit status."""
    walk = prepare_walk(options)
    parameters = _root_parameters(options, walk)
    root_id = walk.recorded.root_id() if walk.recorded else -1
    scope = DagScope(
        execution_id=root_id,
        component=walk.pipeline_spec.root,
        component_name="root",
        task_path=(),
        parameters=parameters,
    )
    walk_dag(walk, scope, _Place())
    entries = select_entries(walk.entries, options.tasks)
    if options.as_json:
        document = {"pipeline": walk.run.pipeline_name, "fromRun": options.from_run, "tasks": entries}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(entries, pipeline=walk.run.pipeline_name, from_run=options.from_run))
    return 0


def prepare_walk(options: ExplainOptions) -> Walk:
    """Load and check the pipeline (and the recorded run), as a run would, without touching the home."""
    recorded = Recorded.of(read_recorded_run(options.home, options.from_run)) if options.from_run else None
    if options.pipeline is not None:
        pipeline_spec = load_pipeline(options.pipeline).pipeline_spec
    elif recorded is not None:
        pipeline_spec = json_format.ParseDict(
            recorded.view.header["pipeline_spec"], pipeline_spec_pb2.PipelineSpec()
        )
    else:
        raise OptionError("a pipeline file is required (or --from-run RUN_ID)")
    run = _run_info(options, pipeline_spec.pipeline_info.name, recorded)
    workspace = str(options.workspace.resolve()) if options.workspace else f"{run.run_root}/workspace"
    return Walk(
        pipeline_spec=pipeline_spec,
        deployment=load_deployment(pipeline_spec),
        run=run,
        run_dir=options.home.resolve() / "runs" / run.run_id,
        workspace=workspace,
        cache_enabled=options.cache,
        mounts=dict(options.mounts),
        recorded=recorded,
    )


def read_recorded_run(home: Path, run_id: str) -> RunView:
    # Opening a Ledger creates a missing store; explain must not, so look before opening.
    if not (home / "ledger" / "store.json").exists():
        raise OptionError(f"--from-run {run_id}: there is no ledger in {home}")
    try:
        return Ledger(home).open_run(run_id).view()
    except LedgerError as exc:
        raise OptionError(f"--from-run {run_id}: {exc}") from exc


def _run_info(options: ExplainOptions, name: str, recorded: Recorded | None) -> RunInfo:
    if recorded is not None:
        header = recorded.view.header
        run_id = str(header["run_id"])
        return RunInfo(
            run_id=run_id,
            pipeline_name=name,
            pipeline_root=str(header["pipeline_root"]),
            run_root=str(header["run_root"]),
            job_name=run_id,
            create_time=str(header["create_time"]),
        )
    root = str((options.pipeline_root or options.home / "pipeline_root").resolve())
    return RunInfo(
        run_id=RUN_ID,
        pipeline_name=name,
        pipeline_root=root,
        run_root=f"{root}/{name}/{RUN_ID}",
        job_name=RUN_ID,
        create_time=CREATE_TIME,
    )


def _root_parameters(options: ExplainOptions, walk: Walk) -> dict[str, struct_pb2.Value]:
    """As a run builds them; with --from-run the recorded run's values come first, then the options."""
    root = walk.pipeline_spec.root
    given: dict[str, Any] = {}
    if walk.recorded is not None:
        recorded = walk.recorded.view.header.get("parameters", {})
        declared = root.input_definitions.parameters
        given = {k: v for k, v in recorded.items() if k in declared and v is not None}
    if options.params_file is not None:
        given |= read_params_file(options.params_file)
    return build_root_parameters(root, cli=options.params, from_file=given)


def select_entries(entries: list[Entry], wanted: list[str]) -> list[Entry]:
    """The entries named by --task (task key, task path, or path with iteration index), in walk order."""
    if not wanted:
        return entries

    def names(entry: Entry) -> set[str]:
        return {entry["task"], entry["path"], entry["label"]}

    for name in wanted:
        if not any(name in names(entry) for entry in entries):
            known = ", ".join(sorted({entry["path"] for entry in entries}))
            raise OptionError(f"--task {name!r}: the pipeline has no such task; its tasks: {known}")
    return [entry for entry in entries if names(entry) & set(wanted)]


# --- the walk ------------------------------------------------------------------------------------------


def walk_dag(walk: Walk, scope: DagScope, place: _Place) -> None:
    """Explain a DAG's tasks in dependency order (ties by key), filling `scope.results` as a run would."""
    tasks = scope.component.dag.tasks
    sorter = graphlib.TopologicalSorter(
        {key: dag.dependencies(spec) & set(tasks) for key, spec in tasks.items()}
    )
    sorter.prepare()
    while sorter.is_active():
        for key in sorted(sorter.get_ready()):
            scope.results[key] = _explain_task(walk, scope, key, place)
            sorter.done(key)


def _explain_task(walk: Walk, scope: DagScope, key: str, place: _Place) -> TaskResult:
    spec = scope.component.dag.tasks[key]
    component = walk.component(spec.component_ref.name)
    recorded = walk.recorded.find(scope.execution_id, key) if walk.recorded else None
    kind = _kind(walk, spec, component)
    task = _Task(
        scope=scope, key=key, spec=spec, component=component, recorded=recorded, entry={}, place=place
    )
    task.entry = _new_entry(walk, task, kind=kind)
    walk.entries.append(task.entry)
    try:
        return _EXPLAINERS[kind](walk, task)
    except ResolutionError as exc:
        error = ResolutionError(
            exc.message, run_id=walk.run.run_id, task=key, iteration=scope.iteration_index
        )
        task.entry["error"] = str(error)
        return _unknown_outputs(task, state=FAILED, error=str(error))


def _kind(walk: Walk, spec: TaskSpec, component: ComponentSpec) -> str:
    if spec.HasField("parameter_iterator") or spec.HasField("artifact_iterator"):
        return "loop"
    if component.WhichOneof("implementation") == "dag":
        return "dag"
    executor = walk.deployment.executors[component.executor_label]
    return "importer" if executor.WhichOneof("spec") == "importer" else "container"


def _new_entry(walk: Walk, task: _Task, *, kind: str) -> Entry:
    notes: list[str] = []
    if task.place.not_run_because:
        notes.append(f"would not run: {task.place.not_run_because}")
    if walk.recorded is not None and task.recorded is None:
        notes.append(f"run {walk.run.run_id} has no execution of this task")
    recorded = task.recorded
    return {
        "task": task.key,
        "path": task.path,
        "label": task.label,
        "iteration": task.place.iterations[-1] if task.place.iterations else None,
        "iterations": list(task.place.iterations),
        "kind": kind,
        "component": task.spec.component_ref.name,
        "displayName": task.spec.task_info.name or task.key,
        "condition": None,
        "executorInput": None,
        "command": None,
        "environment": None,
        "cacheFingerprint": None,
        "unresolved": [],
        "notes": notes,
        "recorded": {"executionId": recorded.id, "state": recorded.state} if recorded is not None else None,
    }


def _explain_container(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=False)
    task.entry["condition"] = _condition(task, resolved)
    container = walk.deployment.executors[task.component.executor_label].container
    executor_input = build_executor_input(
        resolved,
        task.component,
        task_root=f"{walk.run.run_root}/{task.key}/{UUID}",
        parameter_dir=walk.run_dir / f"{task.key}-{UUID}" / "outputs",
    )
    _blank_unknown_artifact_names(executor_input)
    with_defaults = add_defaults(executor_input, task.component)
    container_json = values.message_to_jsonable(container)
    resolver = Resolver(with_defaults, provided=provided_inputs(executor_input), job=_job_facts(walk, task))
    command = resolver.resolve_all(list(container_json.get("command", [])))
    args = resolver.resolve_all(list(container_json.get("args", [])))
    plan = plan_python_component(command, args)
    task.entry |= {
        "executorInput": values.message_to_jsonable(with_defaults),
        "command": list(plan.program) if plan is not None else [*command, *args],
        "environment": _environment(plan, container_json, resolver),
        "cacheEnabled": walk.cache_enabled and task.spec.caching_options.enable_cache,
        "cacheFingerprint": None
        if task.entry["unresolved"]
        else cache.fingerprint(
            task_spec=task.spec,
            executor_input=executor_input,
            component_spec=task.component,
            container=container_json,
        ),
    }
    return _leaf_result(walk, task)


def _explain_importer(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=False)
    task.entry["condition"] = _condition(task, resolved)
    task.entry["executorInput"] = _inputs_only(resolved)
    importer = walk.deployment.executors[task.component.executor_label].importer
    if importer.artifact_uri.WhichOneof("value") == "runtime_parameter":
        source = resolved.parameters.get(importer.artifact_uri.runtime_parameter, struct_pb2.Value())
    else:
        source = importer.artifact_uri.constant
    uri = values.value_to_text(source)
    known = not _mentions_reference(source)
    task.entry["importer"] = {
        "artifactUri": uri,
        "localUri": map_remote_uri(uri, walk.mounts) if known else None,
        "schemaTitle": importer.type_schema.schema_title or "system.Artifact",
        "reimport": importer.reimport,
        "metadata": json_format.MessageToDict(importer.metadata),
    }
    return _leaf_result(walk, task)


def _explain_sub_dag(walk: Walk, task: _Task) -> TaskResult:
    resolved = _resolve(walk, task, for_dag=True)
    task.entry["condition"] = _condition(task, resolved)
    task.entry["executorInput"] = _inputs_only(resolved)
    child = DagScope(
        execution_id=task.recorded.id if task.recorded else -1,
        component=task.component,
        component_name=task.spec.component_ref.name,
        task_path=(*task.scope.task_path, task.key),
        parameters=resolved.parameters,
        artifacts=resolved.artifacts,
        nulled_by_driver=resolved.nulled_by_driver,
    )
    walk_dag(walk, child, _inner_place(task))
    return TaskResult(
        task_key=task.key,
        state=_dag_state(task),
        execution_id=_recorded_id(task),
        scope=child,
        error=_dag_error(task),
    )


def _explain_loop(walk: Walk, task: _Task) -> TaskResult:
    iterator = task.spec.parameter_iterator
    resolved = _resolve(walk, task, for_dag=True, skip=frozenset({iterator.item_input}))
    resolved.parameters.pop(iterator.item_input, None)
    task.entry["condition"] = _condition(task, resolved)
    task.entry["executorInput"] = _inputs_only(resolved)
    items = _known_items(task, resolved)
    task.entry["items"] = [values.value_to_python(item) for item in items] if items is not None else None
    task.entry["iterationCount"] = len(items) if items is not None else None
    loop_scope = DagScope(
        execution_id=task.recorded.id if task.recorded else -1,
        component=task.component,
        component_name=task.spec.component_ref.name,
        task_path=(*task.scope.task_path, task.key),
        parameters=resolved.parameters,
    )
    if items is None:
        task.entry["notes"].append(
            "the items are only known when the run gets here: the body is shown once,"
            " with the item unresolved"
        )
        item = struct_pb2.Value(string_value=f"{{{{tasks['{task.label}'].item}}}}")
        body = _iteration(walk, task, loop_scope, resolved, index=0, item=item)
        body.iteration_index = None
        walk_dag(walk, body, _inner_place(task))
        return _unknown_outputs(task, state=_dag_state(task), error=_dag_error(task))
    iterations = [
        _iteration(walk, task, loop_scope, resolved, index=i, item=item) for i, item in enumerate(items)
    ]
    inner = _inner_place(task)
    for index, iteration in enumerate(iterations):
        walk_dag(walk, iteration, replace(inner, iterations=(*inner.iterations, index)))
    return TaskResult(
        task_key=task.key,
        state=_dag_state(task),
        execution_id=_recorded_id(task),
        iterations=iterations,
        error=_dag_error(task),
    )


_EXPLAINERS = {
    "container": _explain_container,
    "importer": _explain_importer,
    "dag": _explain_sub_dag,
    "loop": _explain_loop,
}


def _known_items(task: _Task, resolved: ResolvedInputs) -> list[struct_pb2.Value] | None:
    """The loop's items, or None when they come whole from an output that is not known yet."""
    name = task.spec.parameter_iterator.items.input_parameter
    value = resolved.parameters.get(name) if name else None
    if value is not None and value.WhichOneof("kind") == "string_value" and _mentions_reference(value):
        return None
    return dag.loop_items(task.spec, resolved.parameters)


def _iteration(
    walk: Walk,
    task: _Task,
    loop_scope: DagScope,
    resolved: ResolvedInputs,
    *,
    index: int,
    item: struct_pb2.Value,
) -> DagScope:
    iterator = task.spec.parameter_iterator
    scope = dag.iteration_scope(
        loop_scope,
        index=index,
        item=item,
        item_input=iterator.item_input,
        items_name=iterator.items.input_parameter,
        artifacts=resolved.artifacts,
    )
    recorded = walk.recorded.find(loop_scope.execution_id, task.key, index) if walk.recorded else None
    scope.execution_id = recorded.id if recorded is not None else -1
    return scope


def _inner_place(task: _Task) -> _Place:
    condition_value = (task.entry["condition"] or {}).get("value")
    if condition_value is False and not task.place.not_run_because:
        return replace(task.place, not_run_because=f"the condition of {task.label!r} is false")
    return task.place


def _recorded_id(task: _Task) -> int | None:
    return task.recorded.id if task.recorded is not None else None


def _dag_state(task: _Task) -> str:
    if task.recorded is not None:
        return task.recorded.state
    return CANCELED if (task.entry["condition"] or {}).get("value") is False else UNKNOWN


def _dag_error(task: _Task) -> str:
    return str(task.recorded.properties.get("error", "")) if task.recorded is not None else ""


# --- inputs: resolved as the driver resolves them, unknown values standing in as references -----------------


def _resolve(walk: Walk, task: _Task, *, for_dag: bool, skip: frozenset[str] = frozenset()) -> ResolvedInputs:
    """`resolve_inputs`, with each input whose value is not known yet given as its reference string.

    Such an input is passed as a constant and spared the type check and the selector, which only a
    real value can go through.
    """
    stand_ins = _stand_ins(task)
    spec = task.spec
    if stand_ins:
        spec = TaskSpec()
        spec.CopyFrom(task.spec)
        for name, value in stand_ins.items():
            spec.inputs.parameters[name].CopyFrom(_constant(value))
    context = TaskContext(run=walk.run, task_key=task.key, workspace_path=walk.workspace)
    resolved = resolve_inputs(
        spec,
        task.component,
        task.scope,
        context=context,
        for_dag=for_dag,
        skip_type_check=skip | frozenset(stand_ins),
    )
    task.entry["unresolved"] = _unresolved(task, resolved)
    return resolved


def _constant(value: struct_pb2.Value) -> pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec:
    source = pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec()
    source.runtime_value.constant.CopyFrom(value)
    return source


def _stand_ins(task: _Task) -> dict[str, struct_pb2.Value]:
    stand_ins: dict[str, struct_pb2.Value] = {}
    for name, source in task.spec.inputs.parameters.items():
        value = _unknown_value(task, source)
        if value is not None:
            stand_ins[name] = value
    return stand_ins


def _unknown_value(
    task: _Task, source: pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec
) -> struct_pb2.Value | None:
    """The reference an input stands for when its value is not known yet, else None."""
    kind = source.WhichOneof("kind")
    scope = task.scope
    value: struct_pb2.Value | None = None
    if kind == "component_input_parameter":
        value = scope.parameters.get(source.component_input_parameter)
    elif kind == "task_output_parameter":
        producer_key = source.task_output_parameter.producer_task
        producer = scope.results.get(producer_key)
        if producer is None:
            return None
        try:
            value = output_parameter(producer, source.task_output_parameter.output_parameter_key)
        except ResolutionError:
            if producer.state != UNKNOWN:
                return None  # a recorded outcome: let resolve_inputs fail as the run did
            label = _label(task, producer_key)
            return _text(
                f"{{{{tasks['{label}'].outputs.parameters"
                f"['{source.task_output_parameter.output_parameter_key}']}}}}"
            )
    elif kind == "task_final_status":
        producer_key = task.spec.dependent_tasks[0] if task.spec.dependent_tasks else ""
        producer = scope.results.get(producer_key)
        if producer is not None and producer.state == UNKNOWN:
            return _text(f"{{{{tasks['{_label(task, producer_key)}'].status}}}}")
    return value if value is not None and _mentions_reference(value) else None


def _label(task: _Task, key: str) -> str:
    """The label of a sibling task (same DAG, same iterations)."""
    return "/".join((*task.scope.task_path, key)) + "".join(f"[{i}]" for i in task.place.iterations)


def _text(text: str) -> struct_pb2.Value:
    return struct_pb2.Value(string_value=text)


def _mentions_reference(value: struct_pb2.Value) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return _REFERENCE.search(value.string_value) is not None
    if kind == "list_value":
        return any(_mentions_reference(item) for item in value.list_value.values)
    if kind == "struct_value":
        return any(_mentions_reference(item) for item in value.struct_value.fields.values())
    return False


def _unknown_artifact(artifact: Artifact) -> bool:
    return _REFERENCE.fullmatch(artifact.uri) is not None


def _unresolved(task: _Task, resolved: ResolvedInputs) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, value in resolved.parameters.items():
        if _mentions_reference(value):
            item = {"input": name, "type": "parameter", "reference": values.value_to_python(value)}
            selector = (
                task.spec.inputs.parameters[name].parameter_expression_selector
                if name in task.spec.inputs.parameters
                else ""
            )
            found.append(item | {"selector": selector} if selector else item)
    for name, artifacts in resolved.artifacts.items():
        references = [a.uri for a in artifacts if _unknown_artifact(a)]
        if references:
            found.append(
                {
                    "input": name,
                    "type": "artifact",
                    "reference": references[0] if len(references) == 1 else references,
                }
            )
    return found


def _condition(task: _Task, resolved: ResolvedInputs) -> dict[str, Any] | None:
    """The trigger condition and its value: None when it reads an input that is not known yet."""
    expression = task.spec.trigger_policy.condition
    if not expression:
        return None
    parameters = {k: v for k, v in resolved.parameters.items() if not _mentions_reference(v)}
    artifacts = {k: v for k, v in resolved.artifacts.items() if not any(_unknown_artifact(a) for a in v)}
    unknown = len(parameters) < len(resolved.parameters) or len(artifacts) < len(resolved.artifacts)
    try:
        value = condition.evaluate_condition(expression, parameters=parameters, artifacts=artifacts)
    except ResolutionError:
        if not unknown:
            raise
        return {"expression": expression, "value": None, "note": "depends on inputs that are not known yet"}
    return {"expression": expression, "value": value}


def _inputs_only(resolved: ResolvedInputs) -> dict[str, Any]:
    """A DAG's, loop's or importer's resolved inputs, in ExecutorInput form (such tasks get no outputs)."""
    executor_input = pipeline_spec_pb2.ExecutorInput()
    for name, value in resolved.parameters.items():
        executor_input.inputs.parameter_values[name].CopyFrom(value)
    for name, artifacts in resolved.artifacts.items():
        executor_input.inputs.artifacts[name].artifacts.extend(runtime_artifact(a) for a in artifacts)
    _blank_unknown_artifact_names(executor_input)
    return values.message_to_jsonable(executor_input)


def _blank_unknown_artifact_names(executor_input: pipeline_spec_pb2.ExecutorInput) -> None:
    """An artifact not produced yet has no id, so no name; its URI already says what it stands for."""
    for artifact_list in executor_input.inputs.artifacts.values():
        for artifact in artifact_list.artifacts:
            if _REFERENCE.fullmatch(artifact.uri):
                artifact.name = ""


# --- outcomes: recorded, or references to outputs nobody produced yet ------------------------------------


def _leaf_result(walk: Walk, task: _Task) -> TaskResult:
    """A container's or importer's result: as recorded when it succeeded, else references to its outputs."""
    recorded = task.recorded
    if recorded is not None and walk.recorded is not None and recorded.state in SUCCESS_STATES:
        return TaskResult(
            task_key=task.key,
            state=recorded.state,
            execution_id=recorded.id,
            parameters=parameters_from_python(recorded.properties.get("outputs", {})),
            artifacts=walk.recorded.view.artifacts_of(recorded.id, "OUTPUT"),
        )
    if recorded is None:
        return _unknown_outputs(task, state=UNKNOWN, error="")
    error = f"task {task.label!r}: {recorded.properties.get('error', '')}" if recorded.state == FAILED else ""
    return _unknown_outputs(task, state=recorded.state, error=error)


def _unknown_outputs(task: _Task, *, state: str, error: str) -> TaskResult:
    definitions = task.component.output_definitions
    parameters = {
        name: _text(f"{{{{tasks['{task.label}'].outputs.parameters['{name}']}}}}")
        for name in definitions.parameters
    }
    artifacts = {
        name: [
            Artifact(
                id=-1,
                type=spec.artifact_type.schema_title or "system.Artifact",
                state="LIVE",
                uri=f"{{{{tasks['{task.label}'].outputs.artifacts['{name}']}}}}",
                properties={},
                create_time=0.0,
            )
        ]
        for name, spec in definitions.artifacts.items()
    }
    return TaskResult(
        task_key=task.key,
        state=state,
        execution_id=_recorded_id(task),
        parameters=parameters,
        artifacts=artifacts,
        error=error,
    )


# --- what the launcher would do with it -------------------------------------------------------------------


def _job_facts(walk: Walk, task: _Task) -> JobFacts:
    return JobFacts(
        job_name=walk.run.job_name,
        job_uuid=walk.run.run_id,
        task_name=task.key,
        task_uuid=str(task.recorded.id) if task.recorded is not None else EXECUTION_ID,
        create_time=walk.run.create_time,
        pipeline_root=walk.run.pipeline_root,
        workspace=walk.workspace,
    )


def _environment(plan: PythonPlan | None, container: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    variables = {
        str(v["name"]): resolver.substitute(str(v.get("value", ""))) for v in container.get("env", [])
    }
    image = str(container.get("image", ""))
    if plan is None:
        return {
            "kind": "host",
            "image": image,
            "variables": variables,
            "note": "the command runs on this machine as it is; the image is not used",
        }
    directory = environment_dir(plan)
    return {
        "kind": "python",
        "image": image,
        "installs": [shlex.join(install) for install in plan.installs],
        "path": str(directory),
        "built": (directory / ENVIRONMENT_READY).exists(),
        "variables": variables,
    }


# --- text output ----------------------------------------------------------------------------------------


def render_text(entries: list[Entry], *, pipeline: str, from_run: str | None) -> str:
    source = f"upstream values from run {from_run}" if from_run else "upstream outputs unresolved"
    lines = [f"pipeline {pipeline!r}: {len(entries)} task(s) explained ({source}); nothing was run", ""]
    for entry in entries:
        lines += _render_entry(entry)
        lines.append("")
    return "\n".join(lines)


def _render_entry(entry: Entry) -> list[str]:
    lines = [f"== {entry['label']} ({entry['kind']}, {entry['component']})"]
    if entry.get("error"):
        lines.append(f"  error: {entry['error']}")
    if entry["recorded"]:
        lines.append(
            f"  recorded: execution {entry['recorded']['executionId']} ({entry['recorded']['state']})"
        )
    lines.append(f"  condition: {_render_condition(entry['condition'])}")
    if entry.get("items") is not None:
        lines.append(f"  items: {json.dumps(entry['items'])}")
    if entry["executorInput"] is not None:
        title = "executor input" if entry["kind"] == "container" else "inputs"
        lines.append(f"  {title}:")
        lines += ["    " + line for line in json.dumps(entry["executorInput"], indent=2).splitlines()]
    if entry["command"] is not None:
        lines.append(f"  command: {shlex.join(entry['command'])}")
        lines.append(f"  environment: {_render_environment(entry['environment'])}")
        lines.append(f"  cache fingerprint: {_render_fingerprint(entry)}")
    lines += [f"  unresolved: {u['input']} = {json.dumps(u['reference'])}" for u in entry["unresolved"]]
    lines += [f"  note: {note}" for note in entry["notes"]]
    return lines


def _render_condition(found: dict[str, Any] | None) -> str:
    if found is None:
        return "none"
    value = {True: "true", False: "false", None: "unknown"}[found["value"]]
    return f"{found['expression']} -> {value}" + (f" ({found['note']})" if found.get("note") else "")


def _render_environment(environment: dict[str, Any]) -> str:
    if environment["kind"] == "host":
        return f"host ({environment['note']})"
    state = "built" if environment["built"] else "not built yet"
    installs = "; ".join(environment["installs"]) or "nothing"
    return f"python environment {environment['path']} ({state}), installs: {installs}"


def _render_fingerprint(entry: Entry) -> str:
    if entry["cacheFingerprint"] is None:
        return "not known until the unresolved inputs are"
    return entry["cacheFingerprint"] + (
        "" if entry.get("cacheEnabled") else " (caching disabled for this task)"
    )
