"""Input resolution (driver/walk/resolve.py) on hand-built specs, in process: the backend's rules (§2)."""

from __future__ import annotations

import pytest

from driver.walk.resolve import TaskContext, resolve_inputs
from driver.walk.state import TaskResult
from spec import values
from spec.errors import ResolutionError
from tests.driver.specs import RUN, component_spec, done, inputs, scope, task_spec

CONTEXT = TaskContext(run=RUN, task_key="t", task_uuid="u-1")


def resolved_values(task: dict, component: dict, **kwargs) -> dict:  # type: ignore[type-arg]
    result = resolve_inputs(
        task_spec(task), component_spec(component), kwargs.pop("in_scope", scope()), context=CONTEXT, **kwargs
    )
    return {k: values.value_to_python(v) for k, v in result.parameters.items()}


def test_a_constant_and_a_parent_input_resolve_to_their_values() -> None:
    task = {
        "inputs": {
            "parameters": {
                "a": {"runtimeValue": {"constant": "x"}},
                "b": {"componentInputParameter": "outer"},
            }
        }
    }

    got = resolved_values(
        task, inputs(a="STRING", b="NUMBER_INTEGER"), in_scope=scope(parameters={"outer": 3}), for_dag=False
    )

    assert got == {"a": "x", "b": 3}


def test_an_upstream_output_is_taken_from_the_producers_result() -> None:
    task = {
        "inputs": {
            "parameters": {
                "n": {"taskOutputParameter": {"producerTask": "up", "outputParameterKey": "Output"}}
            }
        }
    }

    got = resolved_values(
        task, inputs(n="NUMBER_INTEGER"), in_scope=scope(results={"up": done("up", Output=7)}), for_dag=False
    )

    assert got == {"n": 7}


def test_a_failed_producer_counts_as_null_so_an_optional_input_is_left_out() -> None:
    task = {
        "inputs": {
            "parameters": {
                "n": {"taskOutputParameter": {"producerTask": "up", "outputParameterKey": "Output"}}
            }
        }
    }
    component = {"inputDefinitions": {"parameters": {"n": {"parameterType": "STRING", "isOptional": True}}}}
    failed = TaskResult(task_key="up", state="FAILED")

    assert resolved_values(task, component, in_scope=scope(results={"up": failed}), for_dag=False) == {}


def test_a_dag_task_gets_the_default_of_an_omitted_optional_input_and_null_without_one() -> None:
    component = {
        "inputDefinitions": {
            "parameters": {
                "with_default": {"parameterType": "STRING", "isOptional": True, "defaultValue": "d"},
                "without": {"parameterType": "STRING", "isOptional": True},
            }
        }
    }

    assert resolved_values({}, component, for_dag=True) == {"with_default": "d", "without": None}
    assert resolved_values({}, component, for_dag=False) == {}


def test_a_required_input_without_value_or_default_fails_the_task() -> None:
    with pytest.raises(ResolutionError, match="non-optional parameter 'n'"):
        resolved_values({}, inputs(n="STRING"), for_dag=False)


def test_values_are_coerced_to_the_declared_type_as_the_backend_does() -> None:
    task = {
        "inputs": {
            "parameters": {
                "text": {"runtimeValue": {"constant": 3}},
                "ratio": {"runtimeValue": {"constant": 2}},
            }
        }
    }

    got = resolved_values(task, inputs(text="STRING", ratio="NUMBER_DOUBLE"), for_dag=False)

    assert got == {"text": "3", "ratio": 2}


def test_a_selector_picks_a_field_of_the_value_with_cel() -> None:
    task = {
        "inputs": {
            "parameters": {
                "x": {
                    "componentInputParameter": "item",
                    "parameterExpressionSelector": 'parseJson(string_value)["a"]',
                }
            }
        }
    }

    got = resolved_values(
        task, inputs(x="NUMBER_INTEGER"), in_scope=scope(parameters={"item": '{"a": 5}'}), for_dag=False
    )

    assert got == {"x": 5}


def test_an_f_string_constant_is_filled_from_the_other_inputs_which_stay_as_in_the_backend() -> None:
    task = {
        "inputs": {
            "parameters": {
                "text": {
                    "runtimeValue": {"constant": "hi {{$.inputs.parameters['pipelinechannel--name']}}!"}
                },
                "pipelinechannel--name": {"componentInputParameter": "name"},
            }
        }
    }

    got = resolved_values(
        task, inputs(text="STRING"), in_scope=scope(parameters={"name": "ann"}), for_dag=False
    )

    assert got == {"text": "hi ann!", "pipelinechannel--name": "ann"}


def test_the_task_placeholders_in_a_constant_name_the_run_and_the_tasks_own_uuid() -> None:
    task = {
        "inputs": {
            "parameters": {
                "job": {"runtimeValue": {"constant": "{{$.pipeline_job_name}}"}},
                "uuid": {"runtimeValue": {"constant": "{{$.pipeline_task_uuid}}"}},
            }
        }
    }

    assert resolved_values(task, inputs(job="STRING", uuid="STRING"), for_dag=False) == {
        "job": "run-1",
        "uuid": "u-1",
    }
