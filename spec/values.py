"""Conversions between `google.protobuf.Value`, Python, text and JSON, with the Go backend's semantics."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import ListValue, NullValue, Struct, Value

from spec.errors import ParameterError, ValueConversionError
from spec.ir import pipeline_spec_pb2

# Whole numbers below this are exact in a double, so writing them as `int` loses nothing.
_EXACT_INT_LIMIT = 2**53
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
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

_KIND_NAMES = {
    "null_value": "null",
    "number_value": "number",
    "string_value": "string",
    "bool_value": "bool",
    "list_value": "list",
    "struct_value": "struct",
}
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


def parameter_type_name(parameter_type: str | int) -> str:
    """Name of a `ParameterType.ParameterTypeEnum`, given its name or its number."""
    if isinstance(parameter_type, str):
        return parameter_type
    return str(pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(parameter_type))


def outside_literals(value: Value, spec: pipeline_spec_pb2.ComponentInputsSpec.ParameterSpec) -> str | None:
    """The allowed values, as text, when an input declares `literals` and `value` is not one of them."""
    literals = list(getattr(spec, "literals", []))
    if not literals or value in literals:
        return None
    return ", ".join(value_to_text(v) for v in literals)


def kind_name(value: Value) -> str:
    """The kind of a value as the backend's messages name it: number, string, bool, list, struct, null."""
    kind = value.WhichOneof("kind")
    return _KIND_NAMES[kind] if kind is not None else "unset"


# --- Value <-> Python -------------------------------------------------------------------------------


def value_to_python(value: Value) -> Any:
    """Python form of a value; whole numbers that a double holds exactly become `int`."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return _number_to_python(value.number_value)
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [value_to_python(item) for item in value.list_value.values]
    if kind == "struct_value":
        return {key: value_to_python(item) for key, item in value.struct_value.fields.items()}
    return None


def python_to_value(obj: Any) -> Value:
    """Value holding a JSON-like Python object (None, bool, int, float, str, list, tuple, dict)."""
    if obj is None:
        return Value(null_value=NullValue.NULL_VALUE)
    # bool is an int subclass: test it first or True becomes 1.0.
    if isinstance(obj, bool):
        return Value(bool_value=obj)
    if isinstance(obj, int | float):
        return Value(number_value=_to_double(obj))
    if isinstance(obj, str):
        return Value(string_value=obj)
    if isinstance(obj, list | tuple):
        return Value(list_value=ListValue(values=[python_to_value(item) for item in obj]))
    if isinstance(obj, dict):
        return Value(struct_value=_to_struct(obj))
    raise ValueConversionError(f"cannot hold a {type(obj).__name__} in a protobuf Value")


def _number_to_python(number: float) -> int | float:
    # -0.0 stays a float so that its sign survives, as Go keeps it.
    negative_zero = number == 0 and math.copysign(1.0, number) < 0
    if number.is_integer() and abs(number) < _EXACT_INT_LIMIT and not negative_zero:
        return int(number)
    return number


def _to_double(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError as exc:
        raise ValueConversionError(f"number {number} is too large for a double") from exc


def _to_struct(obj: dict[Any, Any]) -> Struct:
    fields: dict[str, Value] = {}
    for key, item in obj.items():
        if not isinstance(key, str):
            raise ValueConversionError(f"struct keys must be strings, got {type(key).__name__} {key!r}")
        fields[key] = python_to_value(item)
    return Struct(fields=fields)


# --- protojson ---------------------------------------------------------------------------------------


def message_to_jsonable(message: Message) -> dict[str, Any]:
    """JSON-ready dict of a message as Go protojson writes it: camelCase, whole numbers without `.0`, map
    entries (and a Struct's fields) in key order."""
    try:
        jsonable = json_format.MessageToDict(message)
    except ValueError as exc:  # NaN or infinity in a Value: protojson refuses them too
        raise ValueConversionError(f"cannot render {message.DESCRIPTOR.full_name}: {exc}") from exc
    # types-protobuf types DESCRIPTOR as a union with upb's own class; both are Descriptors.
    result: dict[str, Any] = _sort_maps(_integralize(jsonable), cast(Descriptor, message.DESCRIPTOR))
    return result


_JSON_VALUE_TYPES = frozenset(
    {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
)


def _sort_maps(obj: Any, descriptor: Descriptor) -> Any:
    """Map entries in key order, as Go's protojson writes them; Python's follow the hash table's order,
    which differs between a message built and the same message parsed back (so the same ExecutorInput
    would be two different command lines)."""
    if descriptor.full_name in _JSON_VALUE_TYPES:
        return _sort_json_objects(obj)
    if not isinstance(obj, dict):
        return obj  # a well-known type written as a scalar (Timestamp, Duration, ...)
    for field in descriptor.fields:
        if field.json_name not in obj or field.message_type is None:
            continue
        value, kind = obj[field.json_name], field.message_type
        if kind.GetOptions().map_entry:
            value_kind = kind.fields_by_name["value"].message_type
            obj[field.json_name] = {
                key: _sort_maps(value[key], value_kind) if value_kind is not None else value[key]
                for key in sorted(value, key=lambda k: _map_key_order(k, kind))
            }
        elif isinstance(value, list):
            obj[field.json_name] = [_sort_maps(item, kind) for item in value]
        else:
            obj[field.json_name] = _sort_maps(value, kind)
    return obj


def _map_key_order(key: str, entry: Descriptor) -> Any:
    is_text = entry.fields_by_name["key"].type == FieldDescriptor.TYPE_STRING
    return key if is_text else (0, int(key)) if key.lstrip("-").isdigit() else (1, key)


def _sort_json_objects(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {key: _sort_json_objects(obj[key]) for key in sorted(obj)}
    if isinstance(obj, list):
        return [_sort_json_objects(item) for item in obj]
    return obj


def render_protojson(message: Message) -> str:
    """Compact protojson text of a message, numbers formatted as Go formats them."""
    return _encode_json(message_to_jsonable(message), sort_keys=False, escape_html=False)


def _integralize(obj: Any) -> Any:
    if isinstance(obj, float):
        return _number_to_python(obj) if math.isfinite(obj) else obj
    if isinstance(obj, list):
        return [_integralize(item) for item in obj]
    if isinstance(obj, dict):
        return {key: _integralize(item) for key, item in obj.items()}
    return obj


def _encode_json(obj: Any, *, sort_keys: bool, escape_html: bool) -> str:
    """Compact JSON as Go writes it; `json.dumps` cannot be told how to format floats."""
    if obj is None or isinstance(obj, bool):
        return {None: "null", True: "true", False: "false"}[obj]
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return _format_float_json(obj)
    if isinstance(obj, str):
        return _encode_string(obj, escape_html=escape_html)
    options = {"sort_keys": sort_keys, "escape_html": escape_html}
    if isinstance(obj, list):
        return "[" + ",".join(_encode_json(item, **options) for item in obj) + "]"
    if isinstance(obj, dict):
        items = sorted(obj.items()) if sort_keys else obj.items()
        members = (
            _encode_string(key, escape_html=escape_html) + ":" + _encode_json(item, **options)
            for key, item in items
        )
        return "{" + ",".join(members) + "}"
    raise ValueConversionError(f"cannot write a {type(obj).__name__} as JSON")


def _encode_string(text: str, *, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if escape_html:  # Go's json.Marshal escapes these; protojson does not
        for char, escape in _HTML_ESCAPES.items():
            encoded = encoded.replace(char, escape)
    return encoded


# --- Go number formatting ------------------------------------------------------------------------------


def _format_float_f(number: float) -> str:
    """Go `strconv.FormatFloat(number, 'f', -1, 64)`: the shortest round-tripping digits, no exponent."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    # repr() gives the shortest round-tripping digits; Decimal re-spells them without an exponent.
    return format(Decimal(repr(number)).normalize(), "f")


def _format_float_json(number: float) -> str:
    """A JSON number as Go's encoding/json and protojson write a float64."""
    if not math.isfinite(number):
        raise ValueConversionError(f"{number} cannot be written as a JSON number")
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        return _format_float_e(number)
    return _format_float_f(number)


def _format_float_e(number: float) -> str:
    """Go's shortest 'e' format, with the exponent's leading zero dropped as encoding/json does (1e-7)."""
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite numbers only; checked by the caller
    text = "".join(str(digit) for digit in digits)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    power = exponent + len(text) - 1
    return ("-" if sign else "") + mantissa + (f"e+{power:02d}" if power >= 0 else f"e-{-power}")


# --- Value -> text -------------------------------------------------------------------------------------


def value_to_text(value: Value) -> str:
    """Go `PbValueToText`: how the backend turns a value into a STRING parameter or a placeholder."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return _format_float_f(value.number_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "null_value":
        return ""
    if kind in ("list_value", "struct_value"):
        return _encode_json(value_to_python(value), sort_keys=True, escape_html=True)
    raise ValueConversionError("cannot convert a Value with no kind to text")


# --- text -> Value (the launcher reading an output parameter file) -----------------------------------


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
        raise ValueConversionError(f"expected a JSON {_KIND_NAMES[kind]}, got a {kind_name(value)}")
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
    """Parse JSON text into a Value as protojson does: no NaN, no duplicate keys, no out-of-range numbers."""
    try:
        obj = json.loads(
            text,
            parse_float=_parse_json_float,
            parse_constant=_refuse_json_constant,
            object_pairs_hook=_refuse_duplicate_keys,
        )
        return python_to_value(obj)
    except json.JSONDecodeError as exc:
        raise ValueConversionError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise ValueConversionError("nested too deeply") from exc


def _parse_json_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueConversionError(f"number {text} is out of range for a double")
    return number


def _refuse_json_constant(text: str) -> Any:
    raise ValueConversionError(f"{text} is not valid JSON")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            raise ValueConversionError(f"duplicate key {key!r}")
        result[key] = item
    return result


def _abbreviate(text: str, *, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


# --- type checks -----------------------------------------------------------------------------------------


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
            f"input parameter {name!r}: type mismatch: expect {type_name}, got {_KIND_NAMES[kind]}"
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
    return Value(number_value=_parse_json_float(stripped))


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
        wanted = f"{type_name} (a {_KIND_NAMES[expected]})"
        raise ParameterError(
            f"parameter {name!r}: type mismatch: expect {wanted}, got {kind_name(value)}", name=name
        )
