"""The launcher's plan (spec/task_plan.py), shared with --explain and ledger exec: placeholders, defaults."""

from __future__ import annotations

import json

from google.protobuf import json_format

from spec import protojson, values
from spec.ir import pipeline_spec_pb2
from spec.placeholders import JobFacts
from spec.task_plan import plan_task

SUFFIX = "{{$.inputs.parameters['suffix']}}"
JOB = JobFacts(
    job_name="run-1",
    job_uuid="run-1",
    task_name="t",
    task_uuid="u-1",
    create_time="2026-12-02T00:00:00Z",
    pipeline_root="/root",
    workspace="/ws",
)
COMPONENT = json_format.ParseDict(
    {
        "inputDefinitions": {
            "parameters": {
                "name": {"parameterType": "STRING"},
                "suffix": {"parameterType": "STRING", "isOptional": True, "defaultValue": "!"},
            }
        }
    },
    pipeline_spec_pb2.ComponentSpec(),
)


def executor_input(**parameters: object) -> pipeline_spec_pb2.ExecutorInput:
    message = pipeline_spec_pb2.ExecutorInput()
    for name, value in parameters.items():
        message.inputs.parameter_values[name].CopyFrom(values.python_to_value(value))
    return message


def test_the_component_is_handed_its_defaults_but_if_present_asks_what_the_task_passed() -> None:
    container = {
        "command": ["echo"],
        "args": [
            "{{$.inputs.parameters['name']}}",
            json.dumps({"IfPresent": {"InputName": "suffix", "Then": ["--suffix", SUFFIX]}}),
            "{{$}}",
        ],
    }

    plan = plan_task(executor_input(name="ann"), component_spec=COMPONENT, container=container, job=JOB)

    handed = protojson.message_to_jsonable(plan.executor_input)
    assert handed["inputs"]["parameterValues"] == {"name": "ann", "suffix": "!"}
    assert plan.argv[:2] == ["echo", "ann"]
    assert json.loads(plan.argv[2]) == handed  # `{{$}}` is the message as handed, defaults included


def test_concat_env_and_job_placeholders_resolve() -> None:
    container = {
        "command": ["sh", "-c"],
        "args": ['{"Concat": ["{{$.pipeline_job_name}}", "/", "{{$.pipeline_task_uuid}}"]}'],
        "env": [{"name": "WHO", "value": "{{$.inputs.parameters['name']}}"}],
    }

    plan = plan_task(
        executor_input(name="ann", suffix="?"), component_spec=COMPONENT, container=container, job=JOB
    )

    assert plan.argv == ["sh", "-c", "run-1/u-1"]
    assert plan.variables == {"WHO": "ann"}
    assert plan.python is None


def test_a_lightweight_components_install_step_becomes_an_environment_plan() -> None:
    install = 'pip install --quiet "kfp==2.17.3" && "$0" "$@"\n'
    container = {
        "command": ["sh", "-c", install, "sh", "-ec", "program"],
        "args": ["--executor_input", "{{$}}"],
    }

    plan = plan_task(executor_input(name="ann"), component_spec=COMPONENT, container=container, job=JOB)

    assert plan.python is not None
    assert plan.argv[:3] == ["sh", "-ec", "program"]
    assert any("kfp==2.17.3" in install for install in plan.python.installs[0])


def test_map_entries_render_in_key_order_whatever_the_build_order() -> None:
    first, second = pipeline_spec_pb2.ExecutorInput(), pipeline_spec_pb2.ExecutorInput()
    for name in ("b", "executor-logs", "a", "model"):
        first.outputs.artifacts[name].artifacts.add(name=name).metadata.update({"z": 1, "a": 2})
    second.CopyFrom(json_format.Parse(protojson.render_protojson(first), pipeline_spec_pb2.ExecutorInput()))

    assert protojson.render_protojson(first) == protojson.render_protojson(second)
    assert list(protojson.message_to_jsonable(first)["outputs"]["artifacts"]) == [
        "a",
        "b",
        "executor-logs",
        "model",
    ]
