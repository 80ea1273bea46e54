"""Importer tasks: register an existing URI as an artifact, reusing an identical one unless `reimport`."""

from __future__ import annotations

import hashlib
from typing import Any

from google.protobuf import json_format, struct_pb2

from driver.run.context import RunContext
from driver.run.executions import create_task_execution
from driver.walk.resolve import TaskContext, resolve_inputs
from driver.walk.state import DagScope, TaskResult
from ledger.model import (
    COMPLETE,
    IMPORTER_EXECUTION,
    SUCCESS_STATES,
    Artifact,
    ArtifactDraft,
    artifact_metadata,
)
from ledger.properties import ImporterTask, PropertyGroup
from ledger.store import CacheEntry
from spec import values
from spec.errors import ResolutionError
from spec.ir import pipeline_spec_pb2
from spec.names import under_mount
from spec.placeholders import INPUT_PARAMETER, substitute_input_parameters

REMOTE_SCHEMES = ("gs://", "s3://", "minio://")
# What a URI of each scheme needs that this machine does not have.
_SERVICES = {
    "gs": "Google Cloud Storage",
    "s3": "S3 storage",
    "minio": "the cluster's MinIO object store",
    "oci": "an OCI registry",
    "http": "the internet",
    "https": "the internet",
    "hf": "the Hugging Face hub",
}


def map_remote_uri(uri: str, mounts: dict[str, str]) -> str:
    """A remote URI under a `--mount PREFIX=DIR` becomes a local path; other remote URIs are refused."""
    if not uri.startswith(REMOTE_SCHEMES) and "://" not in uri:
        return uri
    for prefix in sorted(mounts, key=len, reverse=True):
        if uri == prefix or uri.startswith(prefix.rstrip("/") + "/"):
            relative = under_mount(uri[len(prefix.rstrip("/")) :])
            if relative is None:
                raise ResolutionError(f"remote URI {uri!r} climbs out of its mount {prefix}={mounts[prefix]}")
            return mounts[prefix].rstrip("/") + (f"/{relative}" if relative else "")
    scheme, _, rest = uri.partition("://")
    service = _SERVICES.get(scheme, f"a {scheme}:// store")
    raise ResolutionError(
        f"needs {service}: {uri!r} has no local copy here; "
        f"give one with --mount {scheme}://{rest.split('/')[0]}=DIR"
    )


def _fill(value: Any, parameters: dict[str, struct_pb2.Value]) -> Any:
    if isinstance(value, str):
        whole = INPUT_PARAMETER.fullmatch(value)
        if whole and whole.group(1) in parameters:
            return values.value_to_python(parameters[whole.group(1)])
        return substitute_input_parameters(value, parameters)
    if isinstance(value, list):
        return [_fill(item, parameters) for item in value]
    if isinstance(value, dict):
        return {k: _fill(v, parameters) for k, v in value.items()}
    return value


def _import_key(uri: str) -> str:
    return "import-" + hashlib.sha256(uri.encode()).hexdigest()


def run_importer(
    ctx: RunContext,
    scope: DagScope,
    key: str,
    spec: pipeline_spec_pb2.PipelineTaskSpec,
    component: pipeline_spec_pb2.ComponentSpec,
    importer: pipeline_spec_pb2.PipelineDeploymentConfig.ImporterSpec,
) -> TaskResult:
    earlier = ctx.previous.get((scope.execution_id, key, None))
    if earlier is not None and earlier.state in SUCCESS_STATES:
        view = ctx.run_ledger.view()
        return TaskResult(
            task_key=key,
            state=earlier.state,
            execution_id=earlier.id,
            artifacts=view.artifacts_of(earlier.id, "OUTPUT"),
        )
    if spec.trigger_policy.condition:
        # The SDK refuses to compile this and the backend has no driver to evaluate it; never ignore it.
        raise ResolutionError(
            f"a condition on an importer task is not supported: {spec.trigger_policy.condition!r}"
        )
    context = TaskContext(run=ctx.run, task_key=key, workspace_path=ctx.workspace)
    resolved = resolve_inputs(spec, component, scope, context=context, for_dag=False)
    source_uri = _source_uri(importer, resolved.parameters)
    uri = map_remote_uri(source_uri, ctx.mounts)
    output = _output_name(component)
    draft = _artifact_draft(importer, uri=uri, output=output, parameters=resolved.parameters)
    properties: list[PropertyGroup] = [
        scope.task_place(key, spec), ImporterTask(source_uri=source_uri, reimport=importer.reimport)
    ]
    execution_id = create_task_execution(
        ctx, scope, key, type=IMPORTER_EXECUTION, state="RUNNING", properties=properties
    )
    reused = None if importer.reimport else _find_reusable(ctx, draft)
    published = _publish_import(ctx, execution_id, output=output, draft=draft, reused=reused)
    note = f"reused artifact {reused.id}" if reused is not None else f"artifact {published[output][0].id}"
    label = scope.task_label(key)
    ctx.console.event("task_finished", f"{label} imported {source_uri} ({note})", task=key, state=COMPLETE)
    return TaskResult(task_key=key, state=COMPLETE, execution_id=execution_id, artifacts=published)


def _source_uri(
    importer: pipeline_spec_pb2.PipelineDeploymentConfig.ImporterSpec, parameters: dict[str, struct_pb2.Value]
) -> str:
    """The URI the importer names, a constant or one of its inputs (as given, before any --mount)."""
    if importer.artifact_uri.WhichOneof("value") == "runtime_parameter":
        name = importer.artifact_uri.runtime_parameter
        if name not in parameters:
            raise ResolutionError(f"importer URI input {name!r} was not resolved")
        source_uri = values.value_to_text(parameters[name])
    else:
        source_uri = values.value_to_text(importer.artifact_uri.constant)
    if not source_uri:
        raise ResolutionError("importer artifact URI is empty")
    return source_uri


def _output_name(component: pipeline_spec_pb2.ComponentSpec) -> str:
    outputs = list(component.output_definitions.artifacts)
    if len(outputs) != 1:
        raise ResolutionError(f"an importer must declare exactly one output artifact, not {len(outputs)}")
    return str(outputs[0])


def _artifact_draft(
    importer: pipeline_spec_pb2.PipelineDeploymentConfig.ImporterSpec,
    *,
    uri: str,
    output: str,
    parameters: dict[str, struct_pb2.Value],
) -> ArtifactDraft:
    """The artifact to register: its type, local URI and metadata (placeholders filled from the inputs)."""
    metadata = _fill(json_format.MessageToDict(importer.metadata), parameters)
    return ArtifactDraft(
        type=importer.type_schema.schema_title or "system.Artifact",
        uri=uri,
        metadata=metadata,
        display_name=output,
    )


def _publish_import(
    ctx: RunContext, execution_id: int, *, output: str, draft: ArtifactDraft, reused: Artifact | None
) -> dict[str, list[Artifact]]:
    """Complete the execution with the reused artifact, or with a new one that a later import may reuse."""
    if reused is not None:
        return ctx.run_ledger.publish_execution(
            execution_id, state=COMPLETE, properties=[], linked_artifacts={output: [reused]}
        )
    published = ctx.run_ledger.publish_execution(
        execution_id, state=COMPLETE, properties=[], new_artifacts={output: [draft]}
    )
    ctx.ledger.add_cache_entry(
        ctx.run.pipeline_name,
        CacheEntry(
            fingerprint=_import_key(draft.uri),
            run_id=ctx.run.run_id,
            execution_id=execution_id,
            outputs={},
            artifacts=published,
        ),
    )
    return published


def _find_reusable(ctx: RunContext, draft: ArtifactDraft) -> Artifact | None:
    """The newest artifact of this pipeline with the same URI, type and metadata."""
    wanted = artifact_metadata(draft.properties())
    for entry in ctx.ledger.lookup_cache(ctx.run.pipeline_name, _import_key(draft.uri)):
        for artifacts in entry.artifacts.values():
            for artifact in artifacts:
                if artifact.type == draft.type and artifact.uri == draft.uri and artifact.metadata == wanted:
                    return artifact
    return None
