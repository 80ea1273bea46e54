"""What a launcher runs for a container task, planned without running it: one function for the launcher,
`--explain` and `ledger exec`, so that what they show cannot disagree with what ran.

Pure: the driver's ExecutorInput, the specs and the job facts in; the ExecutorInput as handed to the
component (the backend's launcher adds the declared defaults of optional inputs the task did not pass), the
command line, the container's variables and the Python environment plan out. No files, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec.command import PythonPlan, plan_python_component
from spec.ir import pipeline_spec_pb2
from spec.placeholders import JobFacts, Resolver, add_defaults, provided_inputs
from spec.resources import ResourceSpec, parse_resources, resource_texts


@dataclass(frozen=True)
class TaskPlan:
    """One container task's launch, as planned from its task files."""

    executor_input: pipeline_spec_pb2.ExecutorInput  # as handed to the component: defaults added
    command: list[str]  # the container's command, placeholders resolved
    args: list[str]  # the container's args, placeholders resolved
    variables: dict[str, str]  # the container's env, placeholders resolved
    python: PythonPlan | None  # a lightweight component's environment, or None: run on the host as it is
    image: str = ""  # the container's image, placeholders resolved
    # cpu/memory limits and requests, accelerator: as text, placeholders resolved (`spec.resources`)
    resource_texts: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> ResourceSpec:
        """What the task asks for as numbers; raises ValueConversionError for a text that is not a quantity
        (read when the attempt is built, so a bad one fails the task; explain shows the texts)."""
        return parse_resources(self.resource_texts)

    @property
    def argv(self) -> list[str]:
        """The command line the launcher runs (after a lightweight component's install step is replaced)."""
        return list(self.python.program) if self.python is not None else [*self.command, *self.args]


def handed_executor_input(
    executor_input: pipeline_spec_pb2.ExecutorInput, component_spec: pipeline_spec_pb2.ComponentSpec
) -> pipeline_spec_pb2.ExecutorInput:
    """The ExecutorInput the component is handed: the driver's, with the component's defaults added."""
    return add_defaults(executor_input, component_spec)


def plan_task(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    *,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    container: dict[str, Any],
    job: JobFacts,
    kfp_package: str = "",
) -> TaskPlan:
    """Resolve the container's command, args and env against the driver's ExecutorInput and the job facts;
    `kfp_package`, when given, is installed in place of the kfp version a lightweight component pins."""
    handed = handed_executor_input(executor_input, component_spec)
    resolver = Resolver(handed, provided=provided_inputs(executor_input), job=job)
    command = resolver.resolve_all(list(container.get("command", [])))
    args = resolver.resolve_all(list(container.get("args", [])))
    variables = {
        str(variable["name"]): resolver.substitute(str(variable.get("value", "")))
        for variable in container.get("env", [])
    }
    return TaskPlan(
        executor_input=handed,
        command=command,
        args=args,
        variables=variables,
        python=plan_python_component(command, args, kfp_package=kfp_package),
        image=resolver.substitute(str(container.get("image", ""))),
        resource_texts=resource_texts(container, substitute=resolver.substitute),
    )
