"""What the driver knows of a run while it walks it: per DAG execution, its inputs and its tasks' results."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf import struct_pb2

from ledger.model import CANCELED, FAILED, SUCCESS_STATES, Artifact
from ledger.properties import TaskPlace
from spec import labels
from spec.ir import pipeline_spec_pb2

# A task the driver never started (a dependency failed or was skipped): it has no execution.
NOT_RUN = "NOT_RUN"
UNKNOWN = "UNKNOWN"  # explain: the state of a task whose outcome cannot be known without running it


@dataclass
class TaskResult:
    """The driver's answer for one task: its execution, state and outputs."""

    task_key: str
    state: str
    execution_id: int | None = None
    parameters: dict[str, struct_pb2.Value] = field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)
    scope: DagScope | None = None  # a DAG task's own scope, for its output mapping
    iterations: list[DagScope] | None = None  # a loop task's iteration scopes, by index
    error: str = ""
    skipped: bool = False  # CANCELED because its condition was false (it never ran)

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCESS_STATES

    @property
    def failed(self) -> bool:
        """FAILED, or CANCELED although its condition held (its launcher or the fork server was stopped from
        outside the run): either fails the DAG around it, so a run never completes without its tasks."""
        return self.state == FAILED or (self.state == CANCELED and not self.skipped)


@dataclass
class DagScope:
    """One DAG execution: the values its tasks may bind to and the results of those tasks."""

    execution_id: int
    component: pipeline_spec_pb2.ComponentSpec
    component_name: str
    task_path: tuple[str, ...]  # task keys from the root
    parameters: dict[str, struct_pb2.Value] = field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)
    results: dict[str, TaskResult] = field(default_factory=dict)
    iteration_index: int | None = None
    # Inputs that the DAG driver set to null because they were omitted and had no default (§2.5).
    nulled_by_driver: frozenset[str] = frozenset()
    place: str = labels.ROOT  # this DAG's label (spec/labels.py): its tasks are labelled from it
    # The indices of every loop iteration around this scope, outermost first (`iteration_index` is the last).
    iterations: tuple[int, ...] = ()
    # Explain only: why the tasks of this scope would not run (an enclosing condition is false).
    would_not_run: str = ""

    def task_place(self, key: str, spec: pipeline_spec_pb2.PipelineTaskSpec) -> TaskPlace:
        """Where task `key` of this DAG sits: the place properties its execution records."""
        return TaskPlace(
            task_name=key,
            display_name=spec.task_info.name or key,
            parent_dag_id=self.execution_id,
            task_path="/".join((*self.task_path, key)),
            parent_iteration_index=self.iteration_index,
        )

    def task_label(self, key: str) -> str:
        """Task `key` of this DAG as the console and the ledger's views name it."""
        return labels.child_label(self.place, key)

    @property
    def label(self) -> str:
        return self.place or "root"


@dataclass(frozen=True)
class RunInfo:
    """Run-wide facts that placeholders and records need."""

    run_id: str
    pipeline_name: str
    pipeline_root: str
    run_root: str
    job_name: str  # the display name: `{{$.pipeline_job_name}}`
    create_time: str
    resource_name: str = ""  # the workflow name: `{{$.pipeline_job_resource_name}}`

    @property
    def job_resource_name(self) -> str:
        return self.resource_name or self.job_name
