"""Root input parameters: parsed by declared type, completed with defaults, refused as the backend refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from spec import coercion, documents, sources, values
from spec.errors import ParameterError
from spec.ir import pipeline_spec_pb2


def read_params_file(path: Path) -> dict[str, Any]:
    try:
        loaded = documents.load_json(sources.read_bounded(path, limit=sources.MAX_PARAMS_BYTES).decode())
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read parameters file: {exc.strerror}", name="") from exc
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text (byte {exc.start})", name="") from exc
    except documents.DocumentError as exc:
        raise ParameterError(f"{path}: {exc}", name="") from exc
    except ValueError as exc:
        raise ParameterError(f"{path}: not valid JSON: {exc}", name="") from exc
    if not isinstance(loaded, dict):
        raise ParameterError(f"{path}: parameters file must hold a JSON object", name="")
    return loaded


def build_root_parameters(
    root: pipeline_spec_pb2.ComponentSpec,
    *,
    cli: list[str],
    from_file: dict[str, Any],
    stand_in: Callable[[str], struct_pb2.Value] | None = None,
) -> dict[str, struct_pb2.Value]:
    """The root DAG's inputs: given values checked by kind, then defaults, then null for optional ones; a
    required one without a value is refused, or, given `stand_in` (explain), takes `stand_in(name)`."""
    declared = root.input_definitions.parameters
    given: dict[str, struct_pb2.Value] = {}
    for name, raw in from_file.items():
        spec = _declared(declared, name)
        value = values.python_to_value(raw)
        coercion.check_parameter_kind(
            value, values.parameter_type_name(spec.parameter_type), name=name, null_allowed=spec.is_optional
        )
        given[name] = value
    for item in cli:
        name, sep, text = item.partition("=")
        if not sep:
            raise ParameterError(f"parameter {item!r} must be NAME=VALUE", name=item)
        spec = _declared(declared, name)
        given[name] = coercion.parse_cli_parameter(text, spec.parameter_type, name=name)
    for name, spec in declared.items():
        if name in given:
            continue
        if spec.HasField("default_value"):
            given[name] = spec.default_value
        elif spec.is_optional:
            given[name] = struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
        elif stand_in is not None:
            given[name] = stand_in(name)
        else:
            kind = values.parameter_type_name(spec.parameter_type)
            raise ParameterError(
                f"missing required parameter {name!r} ({kind}): pass -p {name}=VALUE", name=name
            )
    _check_literals(declared, {k: v for k, v in given.items() if stand_in is None or v != stand_in(k)})
    return given


def _declared(declared: Any, name: str) -> pipeline_spec_pb2.ComponentInputsSpec.ParameterSpec:
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(f"unknown parameter {name!r}; the pipeline declares: {known}", name=name)
    spec: pipeline_spec_pb2.ComponentInputsSpec.ParameterSpec = declared[name]
    if values.parameter_type_name(spec.parameter_type) == "TASK_FINAL_STATUS":
        raise ParameterError(
            f"parameter {name!r} is a TASK_FINAL_STATUS and cannot be given at the root", name=name
        )
    return spec


def _check_literals(declared: Any, given: dict[str, struct_pb2.Value]) -> None:
    for name, value in given.items():
        allowed = values.outside_literals(value, declared[name])
        if allowed is not None:
            raise ParameterError(f"parameter {name!r} must be one of [{allowed}]", name=name)
