"""CEL evaluation of trigger conditions and parameter selectors, with the functions the SDK emits."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from google.protobuf import struct_pb2

from ledger.model import Artifact
from spec import values
from spec.errors import ResolutionError


def _celpy() -> Any:
    # cel-python costs ~50 ms to import; most pipelines have no condition, so import it on first use.
    import celpy

    return celpy


def _parse_json(text: Any) -> Any:
    """The backend's parseJson: Go's JSON decoder makes every number a double."""
    return _celpy().json_to_cel(_as_go_cel(json.loads(str(text))))


def _equal(left: Any, right: Any) -> Any:
    """CEL's heterogeneous equality, as cel-go (the backend's CEL) has it: numbers are equal across int, uint
    and double when their values are (`inputs.parameter_values['num'] == 1` holds for a number 1, as the
    backend's own test says), lists and maps compare element by element, and values of different kinds are
    unequal rather than an error. cel-python's `==` refuses mixed numeric types."""
    celpy = _celpy()
    celtypes = celpy.celtypes
    for side in (left, right):
        if isinstance(side, celpy.CELEvalError):
            return side
    if isinstance(left, (bool, celtypes.BoolType)) or isinstance(right, (bool, celtypes.BoolType)):
        same = isinstance(left, (bool, celtypes.BoolType)) and isinstance(right, (bool, celtypes.BoolType))
        return celtypes.BoolType(same and bool(left) == bool(right))
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return celtypes.BoolType(_number(left) == _number(right))
    if isinstance(left, list) and isinstance(right, list):
        return celtypes.BoolType(
            len(left) == len(right) and all(bool(_equal(a, b)) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return celtypes.BoolType(
            left.keys() == right.keys() and all(bool(_equal(left[key], right[key])) for key in left)
        )
    if _kind(left) != _kind(right):
        return celtypes.BoolType(False)
    return celtypes.BoolType(left == right)


def _not_equal(left: Any, right: Any) -> Any:
    equal = _equal(left, right)
    return equal if isinstance(equal, _celpy().CELEvalError) else _celpy().celtypes.BoolType(not equal)


def _number(value: int | float) -> int | float:
    return float(value) if isinstance(value, float) else int(value)


def _kind(value: Any) -> str:
    for kind, types in (("string", str), ("bytes", bytes), ("null", type(None))):
        if isinstance(value, types):
            return kind
    return type(value).__name__


@lru_cache(maxsize=256)
def _program(expression: str) -> Any:
    celpy = _celpy()
    environment = celpy.Environment()
    try:
        ast = environment.compile(expression)
    except celpy.CELParseError as exc:
        raise ResolutionError(f"cannot parse CEL expression {expression!r}: {exc}") from exc
    return environment.program(
        ast, functions={"parseJson": _parse_json, "_==_": _equal, "_!=_": _not_equal}
    )


def _evaluate(expression: str, activation: dict[str, Any]) -> Any:
    celpy = _celpy()
    program = _program(expression)
    try:
        result = program.evaluate(activation)
    except celpy.CELEvalError as exc:
        raise ResolutionError(f"cannot evaluate CEL expression {expression!r}: {exc}") from exc
    if isinstance(result, celpy.CELEvalError):
        raise ResolutionError(f"cannot evaluate CEL expression {expression!r}: {result}")
    return result


def _as_go_cel(obj: Any) -> Any:
    """Numbers are doubles in a protobuf Value, so CEL sees them as doubles, as Go's CEL does."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int, float)):
        return float(obj)
    if isinstance(obj, list):
        return [_as_go_cel(item) for item in obj]
    return {key: _as_go_cel(item) for key, item in obj.items()}


def evaluate_condition(
    expression: str, *, parameters: dict[str, struct_pb2.Value], artifacts: dict[str, list[Artifact]]
) -> bool:
    """A `triggerPolicy.condition` over the task's resolved inputs; anything but a bool is an error."""
    inputs = {
        "parameter_values": {k: _as_go_cel(values.value_to_python(v)) for k, v in parameters.items()},
        "artifacts": {
            k: {
                "artifacts": [
                    {"name": str(a.id), "uri": a.uri, "metadata": _as_go_cel(a.properties)} for a in v
                ]
            }
            for k, v in artifacts.items()
        },
    }
    result = _evaluate(expression, {"inputs": _celpy().json_to_cel(inputs)})
    if not isinstance(result, _celpy().celtypes.BoolType):
        raise ResolutionError(f"condition {expression!r} gave {result!r}, not a bool")
    return bool(result)


def select(expression: str, value: struct_pb2.Value) -> struct_pb2.Value:
    """A `parameterExpressionSelector` over one resolved value (`string_value` is always bound)."""
    kind = value.WhichOneof("kind") or "null_value"
    python = values.value_to_python(value)
    celpy = _celpy()
    activation: dict[str, Any] = {"string_value": celpy.celtypes.StringType(values.value_to_text(value))}
    if kind != "string_value":
        activation[kind] = celpy.json_to_cel(_as_go_cel(python))
    result = _evaluate(expression, activation)
    return values.python_to_value(_from_cel(result))


def _from_cel(result: Any) -> Any:
    celtypes = _celpy().celtypes
    # cel-python's arithmetic may give plain Python numbers (2.0 + 1.0 is a float, not a DoubleType).
    if isinstance(result, (celtypes.BoolType, bool)):
        return bool(result)
    if isinstance(result, (celtypes.IntType, celtypes.UintType, int)):
        return int(result)
    if isinstance(result, (celtypes.DoubleType, float)):
        return float(result)
    if isinstance(result, (celtypes.StringType, str)):
        return str(result)
    if isinstance(result, (celtypes.ListType, list)):
        return [_from_cel(item) for item in result]
    if isinstance(result, (celtypes.MapType, dict)):
        return {str(key): _from_cel(item) for key, item in result.items()}
    if result is None:
        return None
    return str(result)
