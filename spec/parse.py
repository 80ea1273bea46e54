"""Parse JSON-like data into protobuf messages, naming the JSON path of the node a refusal is about."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar, cast

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from spec.errors import SpecError

MessageT = TypeVar("MessageT", bound=Message)

# json_format prefixes the real reason with one "Failed to parse X field: " per level it went down.
_FIELD_PREFIX = re.compile(r"^(?:Failed to parse \S+ field: )+")
# Python's own wording leaks through json_format for a scalar of the wrong JSON type.
# Python 3.11+ names the type it got; 3.10 does not, and the caller's value tells it instead.
_PYTHON_TYPE_ERROR = re.compile(r"expected string or bytes-like object(?:, got '(\w+)')?")
_PYTHON_INT_ERROR = re.compile(r"invalid literal for int\(\) with base 10: (.*)")
_PYTHON_TYPE_NAMES = {
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "dict": "an object",
    "list": "a list",
    "NoneType": "null",
}


def parse_message(obj: Any, message: MessageT, *, file: Path | str | None, json_path: str = "") -> MessageT:
    """Fill `message` from `obj` (parsed JSON or YAML) with protojson rules; raise a located SpecError.

    `json_path` is where `obj` sits in its file, and prefixes every reported path.
    """
    try:
        json_format.ParseDict(obj, message)
    except json_format.ParseError as exc:
        # types-protobuf types DESCRIPTOR as a union with upb's own class; both are Descriptors.
        descriptor = cast(Descriptor, message.DESCRIPTOR)
        where, reason = locate_refusal(obj, descriptor, json_path=json_path) or (
            json_path,
            clean_reason(str(exc), message_name=descriptor.name),
        )
        raise SpecError(reason, json_path=where, file=file) from exc
    return message


def locate_refusal(obj: Any, descriptor: Descriptor, *, json_path: str) -> tuple[str, str] | None:
    """The JSON path and reason of the deepest node of `obj` that json_format refuses, if one can be found."""
    if not isinstance(obj, dict):
        return None
    fields = _fields_by_key(descriptor)
    for key, item in obj.items():
        item_path = join_path(json_path, str(key))
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            return item_path, _unknown_field_reason(key, descriptor)
        reason = _refusal({key: item}, descriptor, value=item)
        if reason is not None:
            return _locate_in_field(item, field, json_path=item_path) or (item_path, reason)
    # Every field parses alone, so the refusal is about their combination (two fields of one oneof).
    reason = _refusal(obj, descriptor)
    return (json_path, reason) if reason is not None else None


def _locate_in_field(item: Any, field: FieldDescriptor, *, json_path: str) -> tuple[str, str] | None:
    shape = _shape_refusal(item, field)
    if shape is not None:
        return json_path, shape
    descriptor = _descendable_type(field)
    if descriptor is None:
        return None
    if _is_map(field):
        value_type = _descendable_type(descriptor.fields_by_name["value"])
        return _first_refusal(item.items(), value_type, json_path=json_path) if value_type else None
    if field.is_repeated:
        return _first_refusal(enumerate(item), descriptor, json_path=json_path)
    return locate_refusal(item, descriptor, json_path=json_path)


def _shape_refusal(item: Any, field: FieldDescriptor) -> str | None:
    """A list where an object belongs, or the reverse; json_format words these confusingly."""
    if item is None or (_descendable_type(field) is None and not field.is_repeated):
        return None
    if field.is_repeated and not _is_map(field):
        return None if isinstance(item, list) else f"expected a list, got {describe_json(item)}"
    return None if isinstance(item, dict) else f"expected an object, got {describe_json(item)}"


def _first_refusal(entries: Any, descriptor: Descriptor, *, json_path: str) -> tuple[str, str] | None:
    """First refused element of a map (key, value) or list (index, value) of messages."""
    for key, element in entries:
        element_path = f"{json_path}[{key!r}]"
        if not isinstance(element, dict):
            return element_path, f"expected an object, got {describe_json(element)}"
        found = locate_refusal(element, descriptor, json_path=element_path)
        if found is not None:
            return found
    return None


_NO_VALUE = object()


def _refusal(obj: dict[Any, Any], descriptor: Descriptor, *, value: Any = _NO_VALUE) -> str | None:
    try:
        json_format.ParseDict(obj, message_factory.GetMessageClass(descriptor)())
    except json_format.ParseError as exc:
        return clean_reason(str(exc), message_name=descriptor.name, value=value)
    return None


def clean_reason(text: str, *, message_name: str, value: Any = _NO_VALUE) -> str:
    """json_format's reason for a refusal, on one line, without its chain of field names and location."""
    reason = _FIELD_PREFIX.sub("", text.splitlines()[0] if text else "")
    for marker in (f' at "{message_name}', f" at {message_name}"):
        cut = reason.find(marker)
        if cut >= 0:
            reason = reason[:cut]
    match = _PYTHON_TYPE_ERROR.search(reason)
    if match and match.group(1):
        reason = f"expected a string, got {_PYTHON_TYPE_NAMES.get(match.group(1), match.group(1))}"
    elif match:
        reason = "expected a string" + (f", got {describe_json(value)}" if value is not _NO_VALUE else "")
    match = _PYTHON_INT_ERROR.search(reason)
    if match:
        reason = f"expected an integer, got {match.group(1)}"
    return reason.rstrip(". ") or "invalid value"


def _unknown_field_reason(key: object, descriptor: Descriptor) -> str:
    names = sorted({field.json_name for field in descriptor.fields})
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known fields: {', '.join(names)})"
    return f"unknown field {key!r} in {descriptor.full_name}{hint}"


def _fields_by_key(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    # protojson accepts both the camelCase JSON name and the proto field name.
    fields = {field.name: field for field in descriptor.fields}
    fields.update({field.json_name: field for field in descriptor.fields})
    return fields


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _descendable_type(field: FieldDescriptor) -> Descriptor | None:
    """The message type of a field, unless it is a scalar or a well-known type with its own JSON form."""
    descriptor = field.message_type
    if descriptor is None or descriptor.full_name.startswith("google.protobuf."):
        return None
    return descriptor


def join_path(json_path: str, key: str) -> str:
    """`root.dag` + `tasks` → `root.dag.tasks`."""
    return f"{json_path}.{key}" if json_path else key


def describe_json(obj: Any) -> str:
    """How a parsed JSON value reads in an error message: `null`, `a string`, `a list`, …"""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, int | float):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, list):
        return "a list"
    return "an object" if isinstance(obj, dict) else type(obj).__name__
