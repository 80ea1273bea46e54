"""The records that cross a process boundary: what the driver hands a launcher, and the fork server's request.

The driver writes a task directory and the launcher reads it; the driver asks the fork server to start a
launcher attempt. Both sides import this module, so a field is added in one place and read by attribute,
never by a string key spelled twice.

    task directory (written by the driver, or by `launcher replay`; read by the launcher)
      task.json            LauncherTask: run facts, the execution to publish, the cache fingerprint
      executor_input.json  the driver's ExecutorInput (no defaults added: `spec.task_plan` adds them)
      component_spec.json  the task's ComponentSpec
      container_spec.json  the executor's PipelineContainerSpec, as JSON
    fork server (one JSON line per attempt on its stdin)
      LaunchRequest        run id, execution id, task directory, attempt, token
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from spec import protojson
from spec.errors import ContractError
from spec.ir import pipeline_spec_pb2
from spec.placeholders import JobFacts

# The output artifact KFP adds to every container task for its log.
EXECUTOR_LOGS = "executor-logs"
TASK_FILE, EXECUTOR_INPUT_FILE = "task.json", "executor_input.json"
COMPONENT_SPEC_FILE, CONTAINER_SPEC_FILE = "component_spec.json", "container_spec.json"


def _fields_from_json(cls: type[Any], data: Any, *, where: str) -> dict[str, Any]:
    """The dataclass fields of `cls` present in `data`; a missing required one is a ContractError."""
    if not isinstance(data, dict):
        raise ContractError(f"{where}: expected a JSON object")
    found: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            found[field.name] = data[field.name]
        elif field.default is dataclasses.MISSING:
            raise ContractError(f"{where}: missing {field.name!r}")
    return found


@dataclass(frozen=True)
class LauncherTask:
    """`task.json`: the run facts a launcher needs besides the ExecutorInput and the specs."""

    run_id: str
    pipeline_name: str
    task_key: str
    label: str  # the task as the console names it (`outer/inner[2]`)
    execution_id: int  # the RUNNING execution the launcher publishes
    run_root: str
    pipeline_root: str
    job_name: str
    create_time: str
    task_uuid: str = ""  # `{{$.pipeline_task_uuid}}`; task files older than it used the execution id
    workspace: str = ""
    cache_fingerprint: str = ""  # empty: publish no cache entry
    driver_pid: int | None = None  # the process the launcher must die with (absent for a replay)
    console: str = "normal"  # which output lines reach the console (launcher/echo.py CONSOLE_MODES)
    job_resource_name: str = ""  # `{{$.pipeline_job_resource_name}}`; older task files: the job name
    # kfp-kubernetes settings, names resolved: `spec.kubernetes.TaskKubernetes.to_json()` ({}: none).
    kubernetes: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Local sources of the secrets and config maps the task reads: {"secret": {name: path}, ...}.
    local_sources: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    kfp_package: str = ""  # replaces a lightweight component's kfp pin (`--kfp-package`)
    runner: str = "host"  # where the attempt runs (spec/runner_choice.py: --runner, --runner-for)
    # Runner settings from the driver's options ({"ignore_accelerators": bool, ...}; docs/runners.md).
    runner_options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any, *, where: str = TASK_FILE) -> LauncherTask:
        return cls(**_fields_from_json(cls, data, where=where))

    def job_facts(self) -> JobFacts:
        """What the `{{$.pipeline_*}}` placeholders of this task stand for."""
        return JobFacts(
            job_name=self.job_name,
            job_uuid=self.run_id,
            task_name=self.task_key,
            task_uuid=self.task_uuid or str(self.execution_id),
            create_time=self.create_time,
            pipeline_root=self.pipeline_root,
            workspace=self.workspace,
            job_resource_name=self.job_resource_name or self.job_name,
        )


@dataclass
class TaskFiles:
    """A task directory: what a launcher attempt reads (see the module docstring)."""

    task_dir: Path
    task: LauncherTask
    executor_input: pipeline_spec_pb2.ExecutorInput
    component: pipeline_spec_pb2.ComponentSpec
    container: dict[str, Any]

    @classmethod
    def read(cls, task_dir: Path) -> TaskFiles:
        executor_input = json_format.Parse(
            (task_dir / EXECUTOR_INPUT_FILE).read_text(), pipeline_spec_pb2.ExecutorInput()
        )
        component = json_format.Parse(
            (task_dir / COMPONENT_SPEC_FILE).read_text(),
            pipeline_spec_pb2.ComponentSpec(),
            ignore_unknown_fields=True,
        )
        task_file = task_dir / TASK_FILE
        return cls(
            task_dir=task_dir,
            task=LauncherTask.from_json(json.loads(task_file.read_text()), where=str(task_file)),
            executor_input=executor_input,
            component=component,
            container=json.loads((task_dir / CONTAINER_SPEC_FILE).read_text()),
        )

    def write(self) -> None:
        """Write the files so that `read` gives back this task (the driver's and replay's one writer)."""
        (self.task_dir / "outputs").mkdir(parents=True, exist_ok=True)
        (self.task_dir / EXECUTOR_INPUT_FILE).write_text(protojson.render_protojson(self.executor_input))
        (self.task_dir / COMPONENT_SPEC_FILE).write_text(protojson.render_protojson(self.component))
        (self.task_dir / CONTAINER_SPEC_FILE).write_text(json.dumps(self.container))
        (self.task_dir / TASK_FILE).write_text(json.dumps(self.task.to_json()))

    @property
    def log_path(self) -> Path:
        return Path(self.executor_input.outputs.artifacts[EXECUTOR_LOGS].artifacts[0].uri)


def warm_up() -> None:
    """Protobuf builds a message type's descriptor options and JSON tables when first used. A process that
    forks launchers calls this once, so that every fork inherits them instead of building them again."""
    from google.protobuf import descriptor_pb2  # noqa: F401 - the first parse imports it otherwise

    kind = {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}
    artifact = {"name": "a", "uri": "/a", "type": kind, "metadata": {"k": 1}}
    executor_input = json_format.ParseDict(
        {
            "inputs": {
                "parameterValues": {"p": 1, "s": "x", "l": [1], "d": {"k": None}, "b": True},
                "artifacts": {"a": {"artifacts": [artifact]}},
            },
            "outputs": {
                "parameters": {"p": {"outputFile": "/p"}},
                "artifacts": {"a": {"artifacts": [artifact]}},
                "outputFile": "/o",
            },
        },
        pipeline_spec_pb2.ExecutorInput(),
    )
    json_format.ParseDict(
        {
            "inputDefinitions": {
                "parameters": {"p": {"parameterType": "STRING", "defaultValue": "", "isOptional": True}},
                "artifacts": {"a": {"artifactType": kind}},
            },
            "outputDefinitions": {
                "parameters": {"p": {"parameterType": "STRING"}},
                "artifacts": {"a": {"artifactType": kind, "isArtifactList": False}},
            },
            "executorLabel": "exec",
        },
        pipeline_spec_pb2.ComponentSpec(),
        ignore_unknown_fields=True,
    )
    json_format.ParseDict(
        {"parameterValues": {"p": 1}, "artifacts": {"a": {"artifacts": [artifact]}}},
        pipeline_spec_pb2.ExecutorOutput(),
        ignore_unknown_fields=True,
    )
    protojson.render_protojson(executor_input)


@dataclass(frozen=True)
class LaunchRequest:
    """One line to the fork server: start a launcher for this attempt (`token` pairs it with the answer)."""

    run_id: str
    execution_id: int
    task_dir: str
    attempt: int
    token: int = 0

    def to_line(self) -> bytes:
        return (json.dumps(dataclasses.asdict(self)) + "\n").encode()


@dataclass(frozen=True)
class WarmAhead:
    """One line to the fork server: start the warm interpreter of a lightweight component's environment now,
    while the driver is still starting, so that its first task is forked as fast as the next ones (issue 22).
    Best effort, and only for an environment already built: nothing waits for it, and a task that finds no
    warm interpreter (or one started with other start-up variables) starts its own, as without this line.
    `command`, `args` and `variables` are the executor's container as compiled (placeholders unresolved)."""

    command: list[str]
    args: list[str]
    variables: dict[str, str]
    driver_pid: int
    kfp_package: str = ""
    warm_ahead: bool = True  # what tells this line from a LaunchRequest

    def to_line(self) -> bytes:
        return (json.dumps(dataclasses.asdict(self)) + "\n").encode()


def fork_server_request(line: bytes) -> LaunchRequest | WarmAhead:
    """A line the driver wrote to the fork server, read as the request it is."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ContractError(f"fork server request: not JSON ({exc})") from exc
    if isinstance(data, dict) and data.get("warm_ahead"):
        return WarmAhead(**_fields_from_json(WarmAhead, data, where="fork server warm-ahead request"))
    return LaunchRequest(**_fields_from_json(LaunchRequest, data, where="fork server request"))
