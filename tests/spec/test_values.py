"""Tests for spec.values: Value <-> Python, Go text and JSON forms, parsing and type checks."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from google.protobuf.struct_pb2 import ListValue, NullValue, Struct, Value
from hypothesis import given
from hypothesis import strategies as st

from spec.coercion import check_parameter_kind, coerce_parameter, parse_cli_parameter, text_to_value
from spec.errors import ParameterError, ValueConversionError
from spec.ir import pipeline_spec_pb2
from spec.protojson import message_to_jsonable, render_protojson
from spec.values import python_to_value, value_to_python, value_to_text

NULL = Value(null_value=NullValue.NULL_VALUE)


def number(x: float) -> Value:
    return Value(number_value=x)


def string(text: str) -> Value:
    return Value(string_value=text)


def exact(obj: Any) -> str:
    """JSON text that tells 1 from 1.0, to compare Python values including their types."""
    return json.dumps(obj, sort_keys=True)


# --- value_to_python / python_to_value ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("number_value", "expected"),
    [(3.0, 3), (-7.0, -7), (2.5, 2.5), (2.0**53 - 1, 2**53 - 1), (2.0**53, 2.0**53), (1e300, 1e300)],
)
def test_value_to_python_makes_exact_whole_numbers_int(number_value: float, expected: Any) -> None:
    result = value_to_python(number(number_value))
    assert result == expected
    assert type(result) is type(expected)


def test_value_to_python_keeps_negative_zero_a_float() -> None:
    result = value_to_python(number(-0.0))
    assert isinstance(result, float)
    assert math.copysign(1.0, result) == -1.0


def test_value_to_python_converts_nested_lists_and_structs() -> None:
    value = python_to_value({"a": [1, 2.5, "x", True, None], "b": {"c": {}}})
    assert exact(value_to_python(value)) == exact({"a": [1, 2.5, "x", True, None], "b": {"c": {}}})


def test_value_to_python_reads_null_and_unset_as_none() -> None:
    assert value_to_python(NULL) is None
    assert value_to_python(Value()) is None


def test_python_to_value_treats_bool_as_bool_not_number() -> None:
    assert python_to_value(True).WhichOneof("kind") == "bool_value"
    assert python_to_value(1).WhichOneof("kind") == "number_value"


@pytest.mark.parametrize(("obj", "kind"), [([], "list_value"), ((), "list_value"), ({}, "struct_value")])
def test_python_to_value_keeps_the_kind_of_empty_containers(obj: Any, kind: str) -> None:
    assert python_to_value(obj).WhichOneof("kind") == kind


@pytest.mark.parametrize("obj", [{1: "a"}, object(), 10**400, {"a": [b"bytes"]}])
def test_python_to_value_refuses_what_a_value_cannot_hold(obj: Any) -> None:
    with pytest.raises(ValueConversionError):
        python_to_value(obj)


def _not_exact_whole(x: float) -> bool:
    return not (x.is_integer() and abs(x) < 2**53)


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(_not_exact_whole)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_like)
def test_python_value_round_trip_keeps_values_and_types(obj: Any) -> None:
    assert exact(value_to_python(python_to_value(obj))) == exact(obj)


@given(json_like)
def test_value_python_round_trip_keeps_the_value(obj: Any) -> None:
    value = python_to_value(obj)
    assert python_to_value(value_to_python(value)) == value


# --- value_to_text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number_value", "text"),
    [
        (3.0, "3"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (-4.0, "-4"),
        (-0.0, "-0"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (2.0**60, "1152921504606847000"),
        (123456789.125, "123456789.125"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_value_to_text_formats_numbers_like_go_format_float_f(number_value: float, text: str) -> None:
    assert value_to_text(number(number_value)) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_value_to_text_of_a_number_round_trips_and_never_uses_an_exponent(x: float) -> None:
    text = value_to_text(number(x))
    assert float(text) == x
    assert "e" not in text.lower()
    assert not text.endswith(".0")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (string(" raw\n"), " raw\n"),
        (Value(bool_value=True), "true"),
        (Value(bool_value=False), "false"),
        (NULL, ""),
        (python_to_value([1, 2.5, "a", None, True]), '[1,2.5,"a",null,true]'),
        (python_to_value({"b": 1, "a": [{}]}), '{"a":[{}],"b":1}'),
        (python_to_value([1e21, 1e-7, 2.0**60]), "[1e+21,1e-7,1152921504606847000]"),
        (python_to_value({"h": "<a&b>"}), '{"h":"\\u003ca\\u0026b\\u003e"}'),
        (python_to_value(["é\n"]), '["é\\n"]'),
    ],
)
def test_value_to_text_matches_go_pb_value_to_text(value: Value, text: str) -> None:
    assert value_to_text(value) == text


def test_value_to_text_refuses_non_finite_numbers_inside_json() -> None:
    with pytest.raises(ValueConversionError):
        value_to_text(python_to_value([math.inf]))


# --- message_to_jsonable / render_protojson -----------------------------------------------------------


def _executor_input() -> Any:
    executor_input = pipeline_spec_pb2.ExecutorInput()
    executor_input.inputs.parameter_values["n"].number_value = 3
    executor_input.inputs.parameter_values["x"].number_value = 2.5
    executor_input.inputs.parameter_values["xs"].CopyFrom(python_to_value([1, {"k": 2}, "é"]))
    executor_input.outputs.output_file = "/tmp/out.json"
    return executor_input


def test_message_to_jsonable_uses_camel_case_and_whole_numbers_without_point() -> None:
    jsonable = message_to_jsonable(_executor_input())
    parameters = jsonable["inputs"]["parameterValues"]
    assert exact(parameters) == exact({"n": 3, "x": 2.5, "xs": [1, {"k": 2}, "é"]})
    assert jsonable["outputs"]["outputFile"] == "/tmp/out.json"


def test_message_to_jsonable_keeps_int64_fields_as_strings() -> None:
    status = pipeline_spec_pb2.PipelineTaskFinalStatus(state="COMPLETE", pipeline_job_uuid=42)
    assert message_to_jsonable(status) == {"state": "COMPLETE", "pipelineJobUuid": "42"}


def test_render_protojson_is_compact_utf8_with_go_numbers() -> None:
    executor_input = pipeline_spec_pb2.ExecutorInput()
    executor_input.inputs.parameter_values["a"].CopyFrom(python_to_value([3, 1e-7, 1e21, "é"]))
    text = render_protojson(executor_input)
    assert text == '{"inputs":{"parameterValues":{"a":[3,1e-7,1e+21,"é"]}}}'


def test_render_protojson_parses_back_to_the_same_message() -> None:
    executor_input = _executor_input()
    parsed = pipeline_spec_pb2.ExecutorInput()
    from google.protobuf import json_format

    json_format.Parse(render_protojson(executor_input), parsed)
    assert parsed == executor_input


# --- text_to_value (output parameter files) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parameter_type", "expected"),
    [
        ("hello\n", "STRING", "hello\n"),
        ("  ", "STRING", "  "),
        (" 3\n", "NUMBER_INTEGER", 3),
        ("+5", "NUMBER_INTEGER", 5),
        ("-9223372036854775808", "NUMBER_INTEGER", -(2.0**63)),
        ("2.5\n", "NUMBER_DOUBLE", 2.5),
        (" 1e3 ", "NUMBER_DOUBLE", 1000),
        ("3", "NUMBER_DOUBLE", 3),
        ("0x1p-2", "NUMBER_DOUBLE", 0.25),
        ("[1, 2.5]", "LIST", [1, 2.5]),
        (' {"a": {"b": null}} ', "STRUCT", {"a": {"b": None}}),
    ],
)
def test_text_to_value_parses_by_declared_type(text: str, parameter_type: str, expected: Any) -> None:
    assert exact(value_to_python(text_to_value(text, parameter_type))) == exact(expected)


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True", " true\n"])
def test_text_to_value_accepts_go_parse_bool_true_forms(text: str) -> None:
    assert text_to_value(text, "BOOLEAN") == Value(bool_value=True)


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_text_to_value_accepts_go_parse_bool_false_forms(text: str) -> None:
    assert text_to_value(text, "BOOLEAN") == Value(bool_value=False)


def test_text_to_value_reads_infinity_for_number_double() -> None:
    assert text_to_value("-Inf", "NUMBER_DOUBLE").number_value == -math.inf


@pytest.mark.parametrize(
    ("text", "parameter_type"),
    [
        ("3.0", "NUMBER_INTEGER"),
        ("1_000", "NUMBER_INTEGER"),
        ("9223372036854775808", "NUMBER_INTEGER"),
        ("", "NUMBER_INTEGER"),
        ("1_0", "NUMBER_DOUBLE"),
        ("1e400", "NUMBER_DOUBLE"),
        ("two", "NUMBER_DOUBLE"),
        ("yes", "BOOLEAN"),
        ("tRUE", "BOOLEAN"),
        ("{}", "LIST"),
        ("[1", "LIST"),
        ("[NaN]", "LIST"),
        ('"[1]"', "LIST"),
        ("[]", "STRUCT"),
        ('{"a": 1, "a": 2}', "STRUCT"),
        ("x", "TASK_FINAL_STATUS"),
    ],
)
def test_text_to_value_refuses_what_the_launcher_refuses(text: str, parameter_type: str) -> None:
    with pytest.raises(ValueConversionError):
        text_to_value(text, parameter_type)


def test_text_to_value_error_names_the_text_and_the_type() -> None:
    with pytest.raises(ValueConversionError, match=r"'3\.0' as NUMBER_INTEGER"):
        text_to_value("3.0", "NUMBER_INTEGER")


def test_text_to_value_accepts_the_type_enum_number() -> None:
    integer = pipeline_spec_pb2.ParameterType.NUMBER_INTEGER
    assert text_to_value("7", integer) == number(7)


# --- coerce_parameter (the driver's type validation and conversion) ------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (number(3), "3"),
        (number(1e21), "1000000000000000000000"),
        (Value(bool_value=True), "true"),
        (python_to_value({"b": [1, 2], "a": "x"}), '{"a":"x","b":[1,2]}'),
        (NULL, ""),
    ],
)
def test_coerce_parameter_turns_any_kind_into_text_for_string(value: Value, text: str) -> None:
    assert coerce_parameter(value, "STRING", name="s") == string(text)


def test_coerce_parameter_keeps_a_null_string_when_the_dag_driver_set_it() -> None:
    assert coerce_parameter(NULL, "STRING", name="s", null_allowed=True) == NULL


@pytest.mark.parametrize(
    ("value", "parameter_type"),
    [
        (number(2.5), "NUMBER_INTEGER"),
        (number(3), "NUMBER_DOUBLE"),
        (Value(bool_value=False), "BOOLEAN"),
        (python_to_value([]), "LIST"),
        (python_to_value({}), "STRUCT"),
        (python_to_value({"state": "COMPLETE"}), "TASK_FINAL_STATUS"),
        (python_to_value({}), "TASK_CONFIG"),
    ],
)
def test_coerce_parameter_passes_a_matching_kind_unchanged(value: Value, parameter_type: str) -> None:
    assert coerce_parameter(value, parameter_type, name="p") is value


@pytest.mark.parametrize(
    ("value", "parameter_type", "got"),
    [
        (string("3"), "NUMBER_INTEGER", "string"),
        (string("[1]"), "LIST", "string"),
        (string('{"a": 1}'), "STRUCT", "string"),
        (number(1), "BOOLEAN", "number"),
        (Value(bool_value=True), "NUMBER_DOUBLE", "bool"),
        (python_to_value([1]), "STRUCT", "list"),
        (python_to_value({}), "LIST", "struct"),
    ],
)
def test_coerce_parameter_refuses_a_different_kind(value: Value, parameter_type: str, got: str) -> None:
    expected = f"input parameter 'p': type mismatch: expect {parameter_type}, got {got}"
    with pytest.raises(ValueConversionError, match=expected):
        coerce_parameter(value, parameter_type, name="p")


def test_coerce_parameter_refuses_null_for_non_string_types() -> None:
    with pytest.raises(ValueConversionError, match="got null"):
        coerce_parameter(NULL, "NUMBER_INTEGER", name="n")


def test_coerce_parameter_lets_a_driver_set_null_through_for_any_type() -> None:
    assert coerce_parameter(NULL, "LIST", name="xs", null_allowed=True) == NULL


# --- parse_cli_parameter ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parameter_type", "expected"),
    [
        (" a b ", "STRING", " a b "),
        ("", "STRING", ""),
        ("3", "NUMBER_INTEGER", 3),
        ("2.5", "NUMBER_INTEGER", 2.5),
        ("-1e3", "NUMBER_DOUBLE", -1000),
        ("True", "BOOLEAN", True),
        ("1", "BOOLEAN", True),
        ("FALSE", "BOOLEAN", False),
        ("0", "BOOLEAN", False),
        ('[1, "a"]', "LIST", [1, "a"]),
        ('{"lr": 0.1}', "STRUCT", {"lr": 0.1}),
    ],
)
def test_parse_cli_parameter_parses_by_declared_type(text: str, parameter_type: str, expected: Any) -> None:
    assert exact(value_to_python(parse_cli_parameter(text, parameter_type, name="p"))) == exact(expected)


@pytest.mark.parametrize(
    ("text", "parameter_type"),
    [
        ("abc", "NUMBER_INTEGER"),
        ("nan", "NUMBER_DOUBLE"),
        ("1e400", "NUMBER_DOUBLE"),
        ("yes", "BOOLEAN"),
        ("{}", "LIST"),
        ("[1,", "LIST"),
        ("[]", "STRUCT"),
        ("{}", "TASK_FINAL_STATUS"),
    ],
)
def test_parse_cli_parameter_refuses_with_one_line_naming_parameter_and_type(
    text: str, parameter_type: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_cli_parameter(text, parameter_type, name="lr")
    message = str(caught.value)
    assert "'lr'" in message
    assert parameter_type in message
    assert "\n" not in message
    assert caught.value.name == "lr"


# --- check_parameter_kind -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parameter_type"),
    [
        (number(2.5), "NUMBER_INTEGER"),
        (number(2), "NUMBER_DOUBLE"),
        (string(""), "STRING"),
        (Value(bool_value=True), "BOOLEAN"),
        (Value(list_value=ListValue()), "LIST"),
        (Value(struct_value=Struct()), "STRUCT"),
    ],
)
def test_check_parameter_kind_accepts_the_declared_kind(value: Value, parameter_type: str) -> None:
    check_parameter_kind(value, parameter_type, name="p")


@pytest.mark.parametrize(
    ("value", "parameter_type"),
    [
        (string("3"), "NUMBER_INTEGER"),
        (number(3), "STRING"),
        (string("true"), "BOOLEAN"),
        (string("[]"), "LIST"),
        (python_to_value([]), "STRUCT"),
        (NULL, "STRING"),
        (python_to_value({}), "TASK_FINAL_STATUS"),
    ],
)
def test_check_parameter_kind_refuses_other_kinds_and_root_final_status(
    value: Value, parameter_type: str
) -> None:
    with pytest.raises(ParameterError, match=parameter_type):
        check_parameter_kind(value, parameter_type, name="p")


def test_check_parameter_kind_accepts_null_for_an_optional_parameter() -> None:
    check_parameter_kind(NULL, "NUMBER_INTEGER", name="p", null_allowed=True)
