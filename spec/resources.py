"""A container's `resources` (cpu, memory, accelerator) as numbers, read as Kubernetes reads quantities."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spec.errors import ValueConversionError
from spec.gojson import format_float_f

_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")
_SUFFIXES = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


@dataclass(frozen=True)
class ResourceSpec:
    """What the task asks for; None or 0: not set."""

    cpu_limit: float | None = None  # CPUs
    memory_limit: int | None = None  # bytes
    accelerator_type: str = ""
    accelerator_count: int = 0
    cpu_request: float | None = None  # what a scheduler reserves (the Ray runner); CPUs
    memory_request: int | None = None  # bytes

    @property
    def any(self) -> bool:
        return bool(self.cpu_limit or self.memory_limit or self.accelerator_count)


def parse_quantity(text: str, *, what: str) -> float:
    """`500m` -> 0.5, `1Gi` -> 1073741824, `2` -> 2 (a Kubernetes quantity)."""
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueConversionError(f"{what} {text!r} is not a quantity (e.g. 500m, 2, 512Mi, 1G)")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}


def canonical_quantity(text: str, *, what: str) -> str:
    """A quantity as Kubernetes writes it back (`resource.Quantity.String()`): `0.5` -> `500m`,
    `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`, `1000m` -> `1`, `2000` -> `2k`. A binary suffix stays binary
    while the value is a whole number of at least 1024; otherwise the value is rounded up to a thousandth and
    written with the largest decimal suffix that keeps it whole."""
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueConversionError(f"{what} {text!r} is not a quantity (e.g. 500m, 2, 512Mi, 1G)")
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix.endswith("i"):
        value = number * 2 ** (10 * _BINARY.index(suffix))
        if value >= 1024 and value == value.to_integral_value():
            whole, power = int(value), 0
            while whole % 1024 == 0 and power < len(_BINARY) - 1:
                whole, power = whole // 1024, power + 1
            return f"{whole}{_BINARY[power]}"
    else:
        exponent = {"m": -3, "k": 3, "K": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}.get(suffix, 0)
        value = number.scaleb(exponent)
    milli, exponent = math.ceil(value * 1000), -3
    while milli and milli % 1000 == 0 and exponent < 18:
        milli, exponent = milli // 1000, exponent + 3
    return f"{milli}{_DECIMAL[exponent]}" if milli else "0"


def resource_spec(container: dict[str, Any], *, substitute: Callable[[str], str] = str) -> ResourceSpec:
    """The limits and requests of a PipelineContainerSpec (as JSON); `substitute` resolves placeholders in
    the strings."""
    return parse_resources(resource_texts(container, substitute=substitute))


# The quantity fields of `resource_texts`: key, then `kind` and `which` as `quantity_text` takes them.
_QUANTITY_FIELDS = (
    ("cpuLimit", "Cpu", "Limit"),
    ("cpuRequest", "Cpu", "Request"),
    ("memoryLimit", "Memory", "Limit"),
    ("memoryRequest", "Memory", "Request"),
)


def resource_texts(container: dict[str, Any], *, substitute: Callable[[str], str] = str) -> dict[str, str]:
    """What a PipelineContainerSpec (as JSON) asks for, as text, placeholders substituted and nothing parsed:
    `cpuLimit`, `cpuRequest`, `memoryLimit`, `memoryRequest` (quantities), `acceleratorType`,
    `acceleratorCount`; only the fields that are set. `--explain` shows these, stand-ins included."""
    resources = container.get("resources") or {}
    texts = {
        key: text
        for key, kind, which in _QUANTITY_FIELDS
        if (text := quantity_text(resources, kind, which, substitute=substitute)) is not None
    }
    accelerator = resources.get("accelerator") or {}
    kind = substitute(str(accelerator.get("resourceType") or accelerator.get("type") or ""))
    if kind:
        texts["acceleratorType"] = kind
        texts["acceleratorCount"] = substitute(
            str(accelerator.get("resourceCount") or accelerator.get("count") or "0")
        )
    return texts


def parse_resources(texts: dict[str, str]) -> ResourceSpec:
    """`resource_texts` as numbers; a text that is not a quantity raises ValueConversionError."""

    def quantity(key: str) -> float | None:
        text = texts.get(key)
        return parse_quantity(text, what=_WHAT[key]) if text is not None else None

    cpu, memory = quantity("cpuLimit"), quantity("memoryLimit")
    cpu_request, memory_request = quantity("cpuRequest"), quantity("memoryRequest")
    kind = texts.get("acceleratorType", "")
    count = int(parse_quantity(texts.get("acceleratorCount", "0"), what="accelerator count")) if kind else 0
    return ResourceSpec(
        cpu_limit=cpu or None,
        memory_limit=int(memory) if memory else None,
        accelerator_type=kind,
        accelerator_count=count,
        cpu_request=cpu_request or None,
        memory_request=int(memory_request) if memory_request else None,
    )


_WHAT = {key: f"{kind.lower()} {which.lower()}" for key, kind, which in _QUANTITY_FIELDS}


def _quantity(
    resources: dict[str, Any], kind: str, which: str, *, substitute: Callable[[str], str]
) -> float | None:
    text = quantity_text(resources, kind, which, substitute=substitute)
    return parse_quantity(text, what=f"{kind.lower()} {which.lower()}") if text is not None else None


def quantity_text(
    resources: dict[str, Any], kind: str, which: str, *, substitute: Callable[[str], str]
) -> str | None:
    """The quantity a container's `resources` ask for, as text, or None: `resourceCpuLimit` (a quantity
    string, placeholders substituted) else `cpuLimit` (a number, deprecated; memory counts G), written as the
    backend writes it (`%v`, `%vG`). `kind` is Cpu or Memory, `which` Limit or Request."""
    text = resources.get(f"resource{kind}{which}")
    if text:
        return substitute(str(text))
    number = resources.get(f"{kind.lower()}{which}")
    if not number:
        return None
    return format_float_f(float(number)) + ("G" if kind == "Memory" else "")
