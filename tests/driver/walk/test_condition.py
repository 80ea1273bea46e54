"""driver/walk/condition.py: trigger conditions and parameter selectors, checked against the KFP backend's own
table tests (backend/src/v2/expression/expression_test.go: TestSelect, TestCondition) and the conditions
the SDK compiles."""

from __future__ import annotations

from typing import Any

import pytest

from driver.walk.condition import evaluate_condition, select
from ledger.model import Artifact
from spec import values
from spec.errors import ResolutionError

MODEL = Artifact(id=1, type="system.Model", uri="gs://pipeline-root/abcdefgh", state="LIVE",
                 properties={"accuracy": 0.95}, create_time=0.0)
INPUTS: dict[str, Any] = {"type": "foo", "num": 1}


def _condition(expression: str, parameters: dict[str, Any] | None = None,
               artifacts: dict[str, list[Artifact]] | None = None) -> bool:
    given = INPUTS if parameters is None else parameters
    return evaluate_condition(
        expression,
        parameters={k: values.python_to_value(v) for k, v in given.items()},
        artifacts={"model": [MODEL]} if artifacts is None else artifacts,
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("inputs.parameter_values['type']=='foo'", True),
        ("inputs.parameter_values['type']=='foo2'", False),
        # "overload double and integer is now supported, so the result is true"
        ("inputs.parameter_values['num'] == 1", True),
        ("inputs.parameter_values['type']=='foo' && inputs.parameter_values['num'] == 1.0", True),
        ("inputs.artifacts['model'].artifacts[0].metadata['accuracy']*100.0 > 90.0", True),
        ("inputs.artifacts['model'].artifacts[0].metadata['accuracy']*100.0 <= 90.0", False),
    ],
)
def test_the_backends_condition_table(condition: str, expected: bool) -> None:
    assert _condition(condition) is expected


def test_a_missing_input_is_an_error_as_in_the_backend() -> None:
    with pytest.raises(ResolutionError, match="cannot evaluate"):
        _condition("inputs.parameter_values['type']=='foo'", parameters={}, artifacts={})


def test_the_conditions_the_sdk_compiles() -> None:
    # dsl.If(flip.output == 'heads'), dsl.If(count.output > 3) on an int, dsl.Elif(...) negations.
    def given(name: str, value: Any) -> dict[str, Any]:
        return {f"pipelinechannel--{name}": value}

    assert _condition("inputs.parameter_values['pipelinechannel--flip'] == 'heads'", given("flip", "heads"))
    assert _condition("int(inputs.parameter_values['pipelinechannel--n']) > 3", given("n", 4))
    assert _condition("!(inputs.parameter_values['pipelinechannel--f'] == 'heads')", given("f", "tails"))
    assert _condition("inputs.parameter_values['pipelinechannel--ok'] == true", given("ok", True))


def test_equality_across_kinds_is_false_and_lists_compare_by_value() -> None:
    assert not _condition("inputs.parameter_values['type'] == 1")
    assert _condition("inputs.parameter_values['l'] == [1, 2.0]", {"l": [1.0, 2]})
    assert _condition("parseJson(inputs.parameter_values['s']).a == 1", {"s": '{"a": 1}'})


def test_a_condition_that_is_not_a_bool_or_does_not_parse_is_a_resolution_error() -> None:
    with pytest.raises(ResolutionError, match="not a bool"):
        _condition("inputs.parameter_values['num'] + 1.0")
    with pytest.raises(ResolutionError, match="cannot parse"):
        _condition("inputs.parameter_values[")


NESTED = {"a": "A", "b": "B"}
STRUCT2 = {"nested": NESTED, "bool": True, "double": 1.3, "int": 10, "str": "abcdefg",
           "list": [1.1, 1.2, 1.3]}


@pytest.mark.parametrize(
    ("given", "expression", "expected"),
    [
        ("Hello,World!", "string_value", "Hello,World!"),
        ("[1.1,1.2,1.3]", "parseJson(string_value)[0]", 1.1),
        (None, "string_value", ""),
        (NESTED, "struct_value.a", "A"),
        (STRUCT2, "struct_value.list", [1.1, 1.2, 1.3]),
        (STRUCT2, "struct_value.nested", NESTED),
        (STRUCT2, "struct_value.nested.b", "B"),
        # beyond the table: arithmetic on a number gives a number, parseJson numbers are doubles
        (2, "number_value + 1.0", 3),
        ('{"n": 1}', "parseJson(string_value).n == 1.0", True),
    ],
)
def test_the_backends_select_table(given: Any, expression: str, expected: Any) -> None:
    assert values.value_to_python(select(expression, values.python_to_value(given))) == expected


@pytest.mark.parametrize(
    ("given", "expression"),
    [("invalidjson", "parseJson(string_value)"), ("Hello", "struct_value"), (NESTED, "struct_value.c")],
)
def test_the_backends_select_errors(given: Any, expression: str) -> None:
    with pytest.raises(ResolutionError, match="cannot evaluate"):
        select(expression, values.python_to_value(given))
