"""Hand-built IR for the in-process unit tests: small dicts in the compiler's JSON form, parsed."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from driver.walk.state import DagScope, RunInfo, TaskResult
from spec import values
from spec.ir import pipeline_spec_pb2

RUN = RunInfo(
    run_id="run-1",
    pipeline_name="p",
    pipeline_root="/root",
    run_root="/root/p/run-1",
    job_name="run-1",
    create_time="2026-12-02T00:00:00Z",
)


def task_spec(obj: dict[str, Any]) -> pipeline_spec_pb2.PipelineTaskSpec:
    return json_format.ParseDict(obj, pipeline_spec_pb2.PipelineTaskSpec())


def component_spec(obj: dict[str, Any]) -> pipeline_spec_pb2.ComponentSpec:
    return json_format.ParseDict(obj, pipeline_spec_pb2.ComponentSpec())


def inputs(**parameters: str) -> dict[str, Any]:
    """`inputDefinitions` declaring each parameter with its type name (`STRING`, `NUMBER_INTEGER`, ...)."""
    return {"inputDefinitions": {"parameters": {k: {"parameterType": t} for k, t in parameters.items()}}}


def value(obj: Any) -> struct_pb2.Value:
    return values.python_to_value(obj)


def scope(
    *, parameters: dict[str, Any] | None = None, results: dict[str, TaskResult] | None = None
) -> DagScope:
    return DagScope(
        execution_id=1,
        component=pipeline_spec_pb2.ComponentSpec(),
        component_name="root",
        task_path=(),
        parameters={k: value(v) for k, v in (parameters or {}).items()},
        results=dict(results or {}),
    )


def done(key: str, **outputs: Any) -> TaskResult:
    return TaskResult(task_key=key, state="COMPLETE", parameters={k: value(v) for k, v in outputs.items()})
