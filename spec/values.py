"""`google.protobuf.Value` and Python, and a value as text, with the Go backend's semantics; parameter type
names, kinds and literals. Rendering messages: spec/protojson.py; parsing and checking parameters:
spec/coercion.py."""

from __future__ import annotations

from typing import Any

from google.protobuf.struct_pb2 import ListValue, NullValue, Struct, Value

from spec.errors import ValueConversionError
from spec.gojson import encode_json, format_float_f, number_to_python
from spec.ir import pipeline_spec_pb2

KIND_NAMES = {
    "null_value": "null",
    "number_value": "number",
    "string_value": "string",
    "bool_value": "bool",
    "list_value": "list",
    "struct_value": "struct",
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
    return KIND_NAMES[kind] if kind is not None else "unset"


def value_to_python(value: Value) -> Any:
    """Python form of a value; whole numbers that a double holds exactly become `int`."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return number_to_python(value.number_value)
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


def value_to_text(value: Value) -> str:
    """Go `PbValueToText`: how the backend turns a value into a STRING parameter or a placeholder."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return format_float_f(value.number_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "null_value":
        return ""
    if kind in ("list_value", "struct_value"):
        return encode_json(value_to_python(value), sort_keys=True, escape_html=True)
    raise ValueConversionError("cannot convert a Value with no kind to text")
