"""Placeholder resolution in a component's command and args, `Concat` and `IfPresent` included."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2

from spec import protojson, values
from spec.ir import pipeline_spec_pb2

_PLACEHOLDER = re.compile(r"\{\{\$(?:\.[^{}]*)?\}\}")
_IO = re.compile(
    r"^\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\]"
    r"(?:\.(uri|path|output_file|metadata)(?:\['([^']+)'\])?)?\}\}$"
)
_STRUCTURED = ('{"Concat"', '{"IfPresent"')
# An input parameter named inside a string: an f-string argument, an importer's metadata.
INPUT_PARAMETER = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")


def substitute_input_parameters(text: str, parameters: Mapping[str, struct_pb2.Value]) -> str:
    """Each `{{$.inputs.parameters['x']}}` in `text` as the text of input x; one not among `parameters` is
    left as written (as the backend's driver resolves image, resource and importer fields)."""
    return INPUT_PARAMETER.sub(
        lambda m: values.value_to_text(parameters[m.group(1)]) if m.group(1) in parameters else m.group(0),
        text,
    )


@dataclass(frozen=True)
class JobFacts:
    """Run facts that `{{$.pipeline_*}}` placeholders stand for."""

    job_name: str
    job_uuid: str
    task_name: str
    task_uuid: str
    create_time: str
    pipeline_root: str
    workspace: str
    job_resource_name: str = ""


def job_placeholders(job: JobFacts) -> dict[str, str]:
    """What each job and task placeholder stands for, in a command line and in an input constant alike."""
    return {
        "{{$.pipeline_job_name}}": job.job_name,
        "{{$.pipeline_job_resource_name}}": job.job_resource_name or job.job_name,
        "{{$.pipeline_job_uuid}}": job.job_uuid,
        "{{$.pipeline_task_name}}": job.task_name,
        "{{$.pipeline_task_uuid}}": job.task_uuid,
        "{{$.pipeline_job_create_time_utc}}": job.create_time,
        "{{$.pipeline_job_schedule_time_utc}}": job.create_time,
    }


def add_defaults(
    executor_input: pipeline_spec_pb2.ExecutorInput, component_spec: pipeline_spec_pb2.ComponentSpec
) -> pipeline_spec_pb2.ExecutorInput:
    """The ExecutorInput the user process sees: declared defaults added for inputs with no value."""
    with_defaults = pipeline_spec_pb2.ExecutorInput()
    with_defaults.CopyFrom(executor_input)
    for name, spec in component_spec.input_definitions.parameters.items():
        if name not in with_defaults.inputs.parameter_values and spec.HasField("default_value"):
            with_defaults.inputs.parameter_values[name].CopyFrom(spec.default_value)
    return with_defaults


class Resolver:
    """Resolves one task's arguments against its ExecutorInput (with defaults) and job facts."""

    def __init__(
        self, executor_input: pipeline_spec_pb2.ExecutorInput, *, provided: set[str], job: JobFacts
    ) -> None:
        self.executor_input = executor_input
        self.provided = provided  # inputs present before defaults: what IfPresent asks about
        self.job = job

    def resolve_all(self, items: list[str]) -> list[str]:
        resolved: list[str] = []
        for item in items:
            resolved.extend(self._expand(_parse_structured(item)))
        return resolved

    def _expand(self, node: Any) -> list[str]:
        if isinstance(node, str):
            structured = _parse_structured(node)
            return [self.substitute(node)] if isinstance(structured, str) else self._expand(structured)
        if isinstance(node, list):
            return [part for item in node for part in self._expand(item)]
        if isinstance(node, Mapping) and "Concat" in node:
            return ["".join(part for item in node["Concat"] for part in self._expand(item))]
        if isinstance(node, Mapping) and "IfPresent" in node:
            clause = node["IfPresent"]
            branch = (
                clause.get("Then", []) if clause.get("InputName") in self.provided else clause.get("Else", [])
            )
            return self._expand(branch)
        raise ValueError(f"unsupported placeholder structure: {json.dumps(node)[:200]}")

    def substitute(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: self._one(match.group(0)), text)

    def _one(self, placeholder: str) -> str:
        if placeholder == "{{$}}":
            return protojson.render_protojson(self.executor_input)
        simple = job_placeholders(self.job) | {
            "{{$.pipeline_root}}": self.job.pipeline_root,
            "{{$.workspace_path}}": self.job.workspace,
            "{{$.outputs.output_file}}": self.executor_input.outputs.output_file,
        }
        if placeholder in simple:
            return str(simple[placeholder])
        match = _IO.match(placeholder)
        if match is None:
            return placeholder  # not ours to know: left as written, as the backend does
        return self._io(*match.groups(), placeholder=placeholder)

    def _io(
        self, side: str, kind: str, name: str, field: str | None, key: str | None, *, placeholder: str
    ) -> str:
        if kind == "parameters" and side == "inputs":
            parameters = self.executor_input.inputs.parameter_values
            return values.value_to_text(parameters[name]) if name in parameters else placeholder
        if kind == "parameters":
            outputs = self.executor_input.outputs.parameters
            return outputs[name].output_file if name in outputs else placeholder
        artifacts = (
            self.executor_input.inputs if side == "inputs" else self.executor_input.outputs
        ).artifacts
        if name not in artifacts or not artifacts[name].artifacts:
            return placeholder
        artifact = artifacts[name].artifacts[0]
        if field in ("uri", "path"):
            return str(artifact.uri)
        if field == "metadata":
            metadata = protojson.message_to_jsonable(artifact.metadata)
            if key is None:
                return json.dumps(metadata, separators=(",", ":"))
            return values.value_to_text(values.python_to_value(metadata[key])) if key in metadata else ""
        return json.dumps(protojson.message_to_jsonable(artifact), separators=(",", ":"))


def _parse_structured(item: str) -> Any:
    if not item.startswith(_STRUCTURED):
        return item
    try:
        return json.loads(item)
    except ValueError:
        return item


def provided_inputs(executor_input: pipeline_spec_pb2.ExecutorInput) -> set[str]:
    """Inputs given a non-null value by the driver (before defaults), for `IfPresent`."""
    present = {
        name
        for name, value in executor_input.inputs.parameter_values.items()
        if value.WhichOneof("kind") not in (None, "null_value")
    }
    return present | {name for name, items in executor_input.inputs.artifacts.items() if items.artifacts}
