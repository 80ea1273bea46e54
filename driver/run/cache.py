"""Cache fingerprints built from the same parts as the backend's CacheKey, and cache-hit checks."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from ledger.store import CacheEntry
from spec import gojson, protojson, values
from spec.ir import pipeline_spec_pb2


def fingerprint(
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    executor_input: pipeline_spec_pb2.ExecutorInput,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    container: dict[str, Any],
    pvc_names: tuple[str, ...] = (),
) -> str:
    """sha256 of the CacheKey JSON (sorted keys, compact), or of the task's custom cache key; the names of
    the PVCs the task mounts are part of it, as in the backend's key (`containerSpec.pvcNames`)."""
    custom = getattr(task_spec.caching_options, "cache_key", "")
    if custom:
        return hashlib.sha256(f"{task_spec.component_ref.name}\0{custom}".encode()).hexdigest()
    key = _cache_key(executor_input=executor_input, component_spec=component_spec, container=container)
    if pvc_names:
        key["containerSpec"]["pvcNames"] = list(pvc_names)
    return _sha256(key)


def definition_fingerprint(
    *,
    task_spec: pipeline_spec_pb2.PipelineTaskSpec,
    executor_input: pipeline_spec_pb2.ExecutorInput,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    container: dict[str, Any],
) -> str:
    """What `--resume` compares to keep a completed task: its inputs, command (the component's code is in
    it) and task spec, whatever the cache settings; unlike the cache key, a custom key does not hide them."""
    key = _cache_key(executor_input=executor_input, component_spec=component_spec, container=container)
    key["taskSpec"] = protojson.message_to_jsonable(task_spec)
    return _sha256(key)


def _sha256(key: dict[str, Any]) -> str:
    """As the backend's GenerateFingerPrint: the key's JSON as Go's json.Marshal writes it (sorted keys,
    compact, UTF-8 with <, > and & escaped, Go's float format), hashed."""
    text = gojson.encode_json(key, sort_keys=True, escape_html=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_key(
    *,
    executor_input: pipeline_spec_pb2.ExecutorInput,
    component_spec: pipeline_spec_pb2.ComponentSpec,
    container: dict[str, Any],
) -> dict[str, Any]:
    inputs = executor_input.inputs
    return {
        "inputArtifactNames": {
            name: {"artifactNames": [a.name for a in artifact_list.artifacts]}
            for name, artifact_list in inputs.artifacts.items()
        },
        "inputParameterValues": {k: values.value_to_python(v) for k, v in inputs.parameter_values.items()},
        "outputArtifactsSpec": {
            name: _without_uri(artifact_list.artifacts[0])
            for name, artifact_list in executor_input.outputs.artifacts.items()
        },
        "outputParametersSpec": {
            name: values.parameter_type_name(spec.parameter_type)
            for name, spec in component_spec.output_definitions.parameters.items()
        },
        "containerSpec": {
            "image": container.get("image", ""),
            "cmdArgs": [*container.get("command", []), *container.get("args", [])],
        },
    }


def _without_uri(artifact: pipeline_spec_pb2.RuntimeArtifact) -> dict[str, Any]:
    copy = pipeline_spec_pb2.RuntimeArtifact()
    copy.CopyFrom(artifact)
    copy.uri = ""
    return protojson.message_to_jsonable(copy)


def usable(entry: CacheEntry) -> bool:
    """A hit whose artifact files were deleted is a miss, not a broken run."""
    return all(os.path.exists(path) for path in entry.required_files)
