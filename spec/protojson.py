"""Messages as Go `protojson` renders them: camelCase, whole numbers without `.0`, map entries in key
order."""

from __future__ import annotations

import math
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from spec.errors import ValueConversionError
from spec.gojson import encode_json, number_to_python


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
    return encode_json(message_to_jsonable(message), sort_keys=False, escape_html=False)


def _integralize(obj: Any) -> Any:
    if isinstance(obj, float):
        return number_to_python(obj) if math.isfinite(obj) else obj
    if isinstance(obj, list):
        return [_integralize(item) for item in obj]
    if isinstance(obj, dict):
        return {key: _integralize(item) for key, item in obj.items()}
    return obj
