"""Where the KFP backend of today would treat a pipeline differently from this tool: what it rejects at
submission or runs with a known quirk, found in the compiled spec alone (design decision 10).

Pure: the PipelineSpec and its deployment config in, one record per construct out, each naming the
`docs/conformance.md` row that says how and why this tool differs. `--explain` and a run's closing lines both
list them; a run warns once, at its start, when the backend would reject the pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from spec.ir import pipeline_spec_pb2

TaskSpec: TypeAlias = pipeline_spec_pb2.PipelineTaskSpec
ComponentSpec: TypeAlias = pipeline_spec_pb2.ComponentSpec
Deployment: TypeAlias = pipeline_spec_pb2.PipelineDeploymentConfig

CONFORMANCE = "docs/conformance.md"


@dataclass(frozen=True)
class BackendDifference:
    """One construct the backend treats differently; `row` is its row in docs/conformance.md."""

    row: str  # "S2", "A9": the id in the first column of the row
    task: str  # the task path (`outer/for-loop-2`), loop indices left out
    message: str  # what the backend does, then what this tool does, in one line
    rejected: bool  # True: the backend refuses the pipeline at submission; False: it runs it differently

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "task": self.task, "message": self.message, "rejected": self.rejected,
                "reference": f"{CONFORMANCE} {self.row}"}

    def line(self) -> str:
        return f"{self.task}: {self.message} ({CONFORMANCE} {self.row})"


def backend_differences(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec, deployment: Deployment
) -> list[BackendDifference]:
    """Every construct of the pipeline the KFP backend would reject or run differently, in walk order (task
    keys sorted within a DAG, a DAG's own tasks before those nested in them)."""
    return list(_in_dag(pipeline_spec, deployment, pipeline_spec.root, path=()))


def rejection_warning(differences: list[BackendDifference]) -> str:
    """The one line a run prints when the backend would refuse the pipeline; empty when it would not."""
    rejected = [d for d in differences if d.rejected]
    if not rejected:
        return ""
    rows = sorted({d.row for d in rejected})
    where = ", ".join(sorted({d.task for d in rejected}))
    return (
        f"the KFP backend of today rejects this pipeline at submission ({where}); it runs here as the SDK"
        f" intends ({CONFORMANCE} {', '.join(rows)})"
    )


def _in_dag(
    pipeline_spec: pipeline_spec_pb2.PipelineSpec,
    deployment: Deployment,
    component: ComponentSpec,
    *,
    path: tuple[str, ...],
    loop: TaskSpec | None = None,
) -> Iterator[BackendDifference]:
    tasks = component.dag.tasks
    nested: list[tuple[str, TaskSpec, ComponentSpec]] = []
    for key in sorted(tasks):
        spec = tasks[key]
        child = pipeline_spec.components[spec.component_ref.name]
        task = "/".join((*path, key))
        yield from _task_differences(spec, child, deployment, task=task, key=key, loop=loop)
        if child.WhichOneof("implementation") == "dag":
            nested.append((key, spec, child))
    for key, spec, child in nested:
        is_loop = spec.HasField("parameter_iterator") or spec.HasField("artifact_iterator")
        yield from _in_dag(
            pipeline_spec, deployment, child, path=(*path, key), loop=spec if is_loop else None
        )


def _task_differences(
    spec: TaskSpec, component: ComponentSpec, deployment: Deployment, *, task: str, key: str,
    loop: TaskSpec | None,
) -> Iterator[BackendDifference]:
    """The differences one task brings, by the constructs it uses."""
    if spec.HasField("artifact_iterator"):
        yield BackendDifference(
            row="S2", task=task, rejected=True,
            message="a ParallelFor over a list of artifacts: the backend rejects it (\"artifact iterator not"
            " implemented yet\"); here each iteration gets one artifact of the list",
        )
    if loop is not None and _reads_loop_items(spec, loop):
        yield BackendDifference(
            row="S1", task=task, rejected=False,
            message="reads the list its enclosing ParallelFor iterates over: the backend's iteration drops"
            " it, so the task fails (\"parent DAG does not have input parameter\"); here the list stays in"
            " the iteration's scope",
        )
    if spec.HasField("parameter_iterator") and _items_have_selector(spec):
        yield BackendDifference(
            row="A1", task=task, rejected=False,
            message="a ParallelFor over a field of an outer loop's item: the backend's iterations look the"
            " items up after deleting them and fail; here each iteration gets its element",
        )
    yield from _component_differences(spec, component, deployment, task=task, key=key)


def _component_differences(
    spec: TaskSpec, component: ComponentSpec, deployment: Deployment, *, task: str, key: str
) -> Iterator[BackendDifference]:
    if component.WhichOneof("implementation") == "dag":
        listed = {n for n, d in component.input_definitions.artifacts.items() if d.is_artifact_list}
        listed.discard(spec.artifact_iterator.items.input_artifact)  # the items of an artifact loop: S2
        if listed & set(spec.inputs.artifacts):
            yield BackendDifference(
                row="A9", task=task, rejected=False,
                message="passes a list of artifacts into a nested pipeline or a loop: the backend keeps one"
                " artifact of the list; here the list is kept",
            )
        return
    executor = deployment.executors.get(component.executor_label)
    if executor is None:
        return
    if executor.WhichOneof("spec") == "importer" and spec.task_info.name not in ("", key):
        yield BackendDifference(
            row="A3", task=task, rejected=False,
            message="an importer with its own display name: the backend records it under that name, so"
            " tasks reading its output do not find it; here it is found by its task key",
        )
    if executor.WhichOneof("spec") == "container":
        container = executor.container
        artifacts = set(component.input_definitions.artifacts)
        if artifacts & _if_present_inputs([*container.command, *container.args]):
            yield BackendDifference(
                row="A13", task=task, rejected=False,
                message="an IfPresent on an input artifact: the backend always takes its Else branch; here"
                " Then is taken when the artifact is given",
            )


def _reads_loop_items(spec: TaskSpec, loop: TaskSpec) -> bool:
    """Whether a task of a loop's body takes the list that loop iterates over through the iteration."""
    items = loop.parameter_iterator.items.input_parameter
    if not items:
        return False
    return any(
        source.component_input_parameter == items for source in spec.inputs.parameters.values()
    )


def _items_have_selector(spec: TaskSpec) -> bool:
    items = spec.parameter_iterator.items.input_parameter
    source = spec.inputs.parameters.get(items) if items else None
    return source is not None and bool(source.parameter_expression_selector)


def _if_present_inputs(arguments: list[str]) -> set[str]:
    """The input names the IfPresent placeholders of a command line ask about."""
    names: set[str] = set()
    for argument in arguments:
        if "IfPresent" not in argument:
            continue
        try:
            names |= _input_names(json.loads(argument))
        except ValueError:
            continue
    return names


def _input_names(node: Any) -> set[str]:
    if isinstance(node, list):
        return {name for item in node for name in _input_names(item)}
    if not isinstance(node, dict):
        return set()
    clause = node.get("IfPresent")
    found = {str(clause.get("InputName", ""))} if isinstance(clause, dict) else set()
    return found | {name for value in node.values() for name in _input_names(value)} - {""}
