"""Text and values into declared parameter types, as the backend checks and converts them: an output
parameter file the launcher reads (`text_to_value`), a resolved input (`coerce_parameter`), a `-p` value
(`parse_cli_parameter`) and a root parameter's kind (`check_parameter_kind`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from google.protobuf.struct_pb2 import Value

from spec import documents
from spec.errors import ParameterError, ValueConversionError
from spec.values import KIND_NAMES, kind_name, parameter_type_name, python_to_value, value_to_text

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# Go's strings.TrimSpace trims unicode.IsSpace, which differs from str.strip() (\x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


_GO_INT = re.compile(r"[+-]?[0-9]+")


_GO_DECIMAL_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")


_GO_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|infinity)|nan", re.IGNORECASE)


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


# What the driver's handleParamTypeValidationAndConversion lets through unchanged, per value kind.
_DRIVER_TYPES_FOR_KIND = {
    "number_value": frozenset({"NUMBER_INTEGER", "NUMBER_DOUBLE"}),
    "string_value": frozenset({"STRING"}),
    "bool_value": frozenset({"BOOLEAN"}),
    "list_value": frozenset({"LIST"}),
    "struct_value": frozenset({"STRUCT", "TASK_FINAL_STATUS", "TASK_CONFIG"}),
}


# What the API server accepts for a root parameter (validatePipelineJobInputs).
_ROOT_KIND_FOR_TYPE = {
    "NUMBER_INTEGER": "number_value",
    "NUMBER_DOUBLE": "number_value",
    "STRING": "string_value",
    "BOOLEAN": "bool_value",
    "LIST": "list_value",
    "STRUCT": "struct_value",
}


def text_to_value(text: str, parameter_type: str | int) -> Value:
    """Go `TextToPbValue`: parse an output parameter file's content by the declared parameter type."""
    type_name = parameter_type_name(parameter_type)
    parse = _TEXT_PARSERS.get(type_name)
    if parse is None:
        raise ValueConversionError(
            f"cannot parse an output parameter of type {type_name}: "
            "expected STRING, NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN, LIST or STRUCT"
        )
    try:
        return parse(text)
    except ValueConversionError as exc:
        raise ValueConversionError(f"cannot parse {_abbreviate(text)} as {type_name}: {exc}") from exc


def _parse_string(text: str) -> Value:
    return Value(string_value=text)  # verbatim: a trailing newline is kept, as the backend keeps it


def _parse_integer(text: str) -> Value:
    stripped = text.strip(_GO_SPACE)
    if not _GO_INT.fullmatch(stripped):
        raise ValueConversionError("not an integer")
    number = int(stripped)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueConversionError("value out of range")
    return Value(number_value=float(number))


def _parse_double(text: str) -> Value:
    return Value(number_value=_parse_go_float(text.strip(_GO_SPACE)))


def _parse_go_float(text: str) -> float:
    """Go `strconv.ParseFloat(text, 64)`, which Python's float() is laxer than (underscores, spaces)."""
    if _GO_SPECIAL_FLOAT.fullmatch(text):
        return float(text)
    try:
        if _GO_DECIMAL_FLOAT.fullmatch(text):
            number = float(text)
        elif _GO_HEX_FLOAT.fullmatch(text):
            number = float.fromhex(text)
        else:
            raise ValueConversionError("not a number")
    except OverflowError:
        number = math.inf
    if math.isinf(number):
        raise ValueConversionError("value out of range")
    return number


def _parse_bool(text: str) -> Value:
    parsed = _GO_BOOLS.get(text.strip(_GO_SPACE))
    if parsed is None:
        raise ValueConversionError("not one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False")
    return Value(bool_value=parsed)


def _parse_list(text: str) -> Value:
    return _expect_kind(load_json_value(text), kind="list_value")


def _parse_struct(text: str) -> Value:
    return _expect_kind(load_json_value(text), kind="struct_value")


def _expect_kind(value: Value, *, kind: str) -> Value:
    if value.WhichOneof("kind") != kind:
        raise ValueConversionError(f"expected a JSON {KIND_NAMES[kind]}, got a {kind_name(value)}")
    return value


_TEXT_PARSERS: dict[str, Callable[[str], Value]] = {
    "STRING": _parse_string,
    "NUMBER_INTEGER": _parse_integer,
    "NUMBER_DOUBLE": _parse_double,
    "BOOLEAN": _parse_bool,
    "LIST": _parse_list,
    "STRUCT": _parse_struct,
}


def load_json_value(text: str) -> Value:
    """Parse JSON text into a Value as protojson does (no NaN or infinite numbers, no duplicate keys), with
    the same limits as a pipeline file (spec/documents.py)."""
    try:
        return python_to_value(documents.load_json(text))
    except json.JSONDecodeError as exc:
        raise ValueConversionError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except documents.DocumentError as exc:
        raise ValueConversionError(str(exc)) from exc


def _abbreviate(text: str, *, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def coerce_parameter(
    value: Value, parameter_type: str | int, *, name: str, null_allowed: bool = False
) -> Value:
    """The driver's `handleParamTypeValidationAndConversion` for one resolved input parameter.

    Returns `value` itself when it already fits, or a new STRING value when a non-string must become text.
    `null_allowed` is the backend's "set to null by the DAG driver": such a null passes for any type.
    """
    type_name = parameter_type_name(parameter_type)
    kind = value.WhichOneof("kind")
    if kind is None:
        raise ValueConversionError(f"input parameter {name!r}: the value is unset")
    if kind == "null_value" and null_allowed:
        return value
    if type_name == "STRING":
        return value if kind == "string_value" else Value(string_value=value_to_text(value))
    if kind == "null_value":
        raise ValueConversionError(f"input parameter {name!r}: got null for a {type_name} parameter")
    if type_name not in _DRIVER_TYPES_FOR_KIND[kind]:
        raise ValueConversionError(
            f"input parameter {name!r}: type mismatch: expect {type_name}, got {KIND_NAMES[kind]}"
        )
    return value


def parse_cli_parameter(text: str, parameter_type: str | int, *, name: str) -> Value:
    """Parse `-p NAME=VALUE` by the root parameter's declared type."""
    type_name = parameter_type_name(parameter_type)
    parse = _CLI_PARSERS.get(type_name)
    if parse is None:
        raise ParameterError(
            f"parameter {name!r}: a {type_name} parameter cannot be given to a pipeline run", name=name
        )
    try:
        return parse(text)
    except ValueConversionError as exc:
        expected = _CLI_EXPECTATIONS[type_name]
        message = f"parameter {name!r}: expected {expected} for {type_name}, got {_abbreviate(text)} ({exc})"
        raise ParameterError(message, name=name) from exc


def _parse_cli_number(text: str) -> Value:
    stripped = text.strip()
    if not _JSON_NUMBER.fullmatch(stripped):
        raise ValueConversionError("not a number")
    number = float(stripped)
    if math.isinf(number):
        raise ValueConversionError(f"number {stripped} is out of range for a double")
    return Value(number_value=number)


def _parse_cli_bool(text: str) -> Value:
    parsed = {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())
    if parsed is None:
        raise ValueConversionError("not true or false")
    return Value(bool_value=parsed)


_CLI_PARSERS: dict[str, Callable[[str], Value]] = {
    "STRING": _parse_string,
    "NUMBER_INTEGER": _parse_cli_number,
    "NUMBER_DOUBLE": _parse_cli_number,
    "BOOLEAN": _parse_cli_bool,
    "LIST": _parse_list,
    "STRUCT": _parse_struct,
}


_CLI_EXPECTATIONS = {
    "STRING": "text",
    "NUMBER_INTEGER": "a number",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "true or false",
    "LIST": "a JSON list",
    "STRUCT": "a JSON object",
}


def check_parameter_kind(
    value: Value, parameter_type: str | int, *, name: str, null_allowed: bool = False
) -> None:
    """The API server's kind check of a root parameter given as JSON; integrality is not checked.

    `null_allowed` lets the caller accept a null for an optional parameter, as the backend fills them.
    """
    type_name = parameter_type_name(parameter_type)
    expected = _ROOT_KIND_FOR_TYPE.get(type_name)
    if expected is None:
        raise ParameterError(
            f"parameter {name!r}: a {type_name} parameter cannot be given to a pipeline run", name=name
        )
    kind = value.WhichOneof("kind")
    if kind == "null_value" and null_allowed:
        return
    if kind != expected:
        wanted = f"{type_name} (a {KIND_NAMES[expected]})"
        raise ParameterError(
            f"parameter {name!r}: type mismatch: expect {wanted}, got {kind_name(value)}", name=name
        )
