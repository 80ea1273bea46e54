"""driver/run/cache.py: the cache key and fingerprint, checked against the KFP backend's own unit tests
(backend/src/v2/cacheutils/cache_test.go: TestGenerateCacheKey, TestGenerateFingerPrint and
TestGenerateFingerPrint_ConsidersPVCNames)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from driver.run import cache
from ledger.store import CacheEntry
from spec.ir import pipeline_spec_pb2

MODEL_SCHEMA = (
    "title: kfp.Model\ntype: object\nproperties:\n  framework:\n    type: string\n"
    "  framework_version:\n    type: string\n"
)
DATASET_SCHEMA = (
    "title: kfp.Dataset\ntype: object\nproperties:\n  payload_format:\n    type: string\n"
    "  container_format:\n    type: string\n"
)
# The backend test's CacheKey as protojson, and the fingerprint the backend computes for it.
BACKEND_KEY: dict[str, Any] = {
    "inputArtifactNames": {"dataset_one": {"artifactNames": ["1"]}, "dataset_two": {"artifactNames": ["2"]}},
    "inputParameterValues": {"message": "Some string value", "num_steps": 5},
    "outputArtifactsSpec": {
        "model": {"name": "model", "type": {"instanceSchema": MODEL_SCHEMA}, "metadata": {"name": "model"}},
        "metrics": {
            "name": "metrics", "type": {"schemaTitle": "kfp.Metrics"}, "metadata": {"name": "metrics"}
        },
    },
    "outputParametersSpec": {"output_parameter_one": "STRING", "output_parameter_two": "NUMBER_INTEGER"},
    "containerSpec": {"cmdArgs": ["sh", "ec", "test"], "image": "python:3.11"},
}


def _executor_input() -> pipeline_spec_pb2.ExecutorInput:
    def artifact(name: str, kind: dict[str, str], uri: str, metadata: dict[str, Any]) -> dict[str, Any]:
        return {"artifacts": [{"name": name, "type": kind, "uri": uri, "metadata": metadata}]}

    return json_format.ParseDict(
        {
            "inputs": {
                "parameterValues": {"message": "Some string value", "num_steps": 5},
                "artifacts": {
                    "dataset_one": artifact("1", {"instanceSchema": DATASET_SCHEMA}, "gs://b/one", {}),
                    "dataset_two": artifact("2", {"schemaTitle": "kfp.Model"}, "gs://some-bucket/two", {}),
                },
            },
            "outputs": {
                "parameters": {
                    "output_parameter_one": {"outputFile": "/tmp/outputs/output_parameter_one/data"},
                    "output_parameter_two": {"outputFile": "/tmp/outputs/output_parameter_two/data"},
                },
                "artifacts": {
                    "model": artifact(
                        "model", {"instanceSchema": MODEL_SCHEMA}, "gs://b/p/task/model", {"name": "model"}
                    ),
                    "metrics": artifact(
                        "metrics", {"schemaTitle": "kfp.Metrics"}, "gs://b/p/metrics", {"name": "metrics"}
                    ),
                },
                "outputFile": "/tmp/kfp_outputs/output_metadata.json",
            },
        },
        pipeline_spec_pb2.ExecutorInput(),
    )


def _component() -> pipeline_spec_pb2.ComponentSpec:
    return json_format.ParseDict(
        {
            "outputDefinitions": {
                "parameters": {
                    "output_parameter_one": {"parameterType": "STRING"},
                    "output_parameter_two": {"parameterType": "NUMBER_INTEGER"},
                }
            },
            "executorLabel": "exec",
        },
        pipeline_spec_pb2.ComponentSpec(),
    )


CONTAINER = {"image": "python:3.11", "command": ["sh", "ec"], "args": ["test"]}


def _fingerprint(
    *,
    executor_input: pipeline_spec_pb2.ExecutorInput | None = None,
    container: dict[str, Any] | None = None,
    task: pipeline_spec_pb2.PipelineTaskSpec | None = None,
    pvc_names: tuple[str, ...] = (),
) -> str:
    return cache.fingerprint(
        task_spec=task or pipeline_spec_pb2.PipelineTaskSpec(),
        executor_input=executor_input or _executor_input(),
        component_spec=_component(),
        container=container or CONTAINER,
        pvc_names=pvc_names,
    )


def test_the_fingerprint_of_the_backends_own_test_key_is_the_backends() -> None:
    # TestGenerateFingerPrint: the same key gives b498…; its second key gives 3d9a… (output types as given).
    types = {"output_parameter_one": "STRING", "output_parameter_two": "INT"}
    golden = dict(BACKEND_KEY, outputParametersSpec=types)
    assert cache._sha256(golden) == "b498530c9016917298999ec0b01f364a180f8a3862bea0fa672a383ca3f22e4e"
    other = {
        "inputArtifactNames": {"dataset": {"artifactNames": ["10"]}},
        "outputParametersSpec": {"output_parameter": "DOUBLE"},
        "containerSpec": {"cmdArgs": ["sh", "ec", "run"], "image": "python:3.11"},
    }
    assert cache._sha256(other) == "3d9a2a778fa3174c6cfc6e639c507c265b5f21ef6e5b1dd70b236462cc6da464"


def test_the_key_of_a_task_is_built_as_the_backend_builds_it() -> None:
    # TestGenerateCacheKey: artifact names, parameter values, output artifacts without their URIs, output
    # parameter types, the command line and the image.
    key = cache._cache_key(executor_input=_executor_input(), component_spec=_component(), container=CONTAINER)
    assert key == BACKEND_KEY
    assert _fingerprint() == cache._sha256(BACKEND_KEY)


def test_what_changes_the_fingerprint_and_what_does_not() -> None:
    base = _fingerprint()
    moved = _executor_input()
    moved.outputs.artifacts["model"].artifacts[0].uri = "gs://elsewhere/model"  # another run's URI
    assert _fingerprint(executor_input=moved) == base
    changed = _executor_input()
    changed.inputs.parameter_values["num_steps"].number_value = 6
    assert _fingerprint(executor_input=changed) != base
    assert _fingerprint(container=dict(CONTAINER, image="python:3.12")) != base
    assert _fingerprint(container=dict(CONTAINER, args=["other"])) != base


def test_pvc_names_are_part_of_the_key_in_the_container_spec() -> None:
    # TestGenerateFingerPrint_ConsidersPVCNames.
    base = _fingerprint()
    with_pvcs = _fingerprint(pvc_names=("workspace-pvc", "data-pvc"))
    assert with_pvcs != base
    assert with_pvcs == _fingerprint(pvc_names=("workspace-pvc", "data-pvc"))
    assert with_pvcs != _fingerprint(pvc_names=("data-pvc", "workspace-pvc", "extra"))
    container = dict(BACKEND_KEY["containerSpec"], pvcNames=["workspace-pvc", "data-pvc"])
    key = dict(BACKEND_KEY, containerSpec=container)
    assert with_pvcs == cache._sha256(key)


def test_a_custom_cache_key_replaces_the_inputs_but_not_in_the_definition_fingerprint() -> None:
    task = pipeline_spec_pb2.PipelineTaskSpec()
    task.component_ref.name = "comp-a"
    task.caching_options.cache_key = "v1"
    changed = _executor_input()
    changed.inputs.parameter_values["num_steps"].number_value = 6
    assert _fingerprint(task=task) == _fingerprint(task=task, executor_input=changed)

    def definition(executor_input: pipeline_spec_pb2.ExecutorInput) -> str:
        return cache.definition_fingerprint(
            task_spec=task, executor_input=executor_input, component_spec=_component(), container=CONTAINER
        )

    assert definition(_executor_input()) != definition(changed)


def test_a_hit_whose_files_are_gone_is_not_usable(tmp_path: Path) -> None:
    kept = tmp_path / "model"
    kept.write_text("x")
    entry = CacheEntry(
        fingerprint="f", run_id="r", execution_id=1, outputs={}, artifacts={}, required_files=(str(kept),)
    )
    assert cache.usable(entry)
    kept.unlink()
    assert not cache.usable(entry)


def test_the_key_is_written_as_gos_json_marshal_writes_it() -> None:
    # encoding/json: UTF-8 kept, <, > and & escaped, float64 in Go's format (1e+21, 1e-7), keys sorted.
    key = {"b": "é <&>", "a": [1e21, 1e-07, 0.5, 3]}
    assert cache._sha256(key) == hashlib.sha256(
        '{"a":[1e+21,1e-7,0.5,3],"b":"é \\u003c\\u0026\\u003e"}'.encode()
    ).hexdigest()
