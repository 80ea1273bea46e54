"""A container's `resources` (cpu, memory, accelerator) as numbers, read as Kubernetes reads quantities."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spec.errors import ValueConversionError

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

    @property
    def any(self) -> bool:
        return bool(self.cpu_limit or self.memory_limit or self.accelerator_count)


def parse_quantity(text: str, *, what: str) -> float:
    """`500m` -> 0.5, `1Gi` -> 1073741824, `2` -> 2 (a Kubernetes quantity)."""
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueConversionError(f"{what} {text!r} is not a quantity (e.g. 500m, 2, 512Mi, 1G)")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def resource_spec(container: dict[str, Any], *, substitute: Callable[[str], str] = str) -> ResourceSpec:
    """The limits of a PipelineContainerSpec (as JSON); `substitute` resolves placeholders in the strings."""
    resources = container.get("resources") or {}
    cpu: float | None = None
    memory: float | None = None
    if resources.get("resourceCpuLimit"):
        cpu = parse_quantity(substitute(str(resources["resourceCpuLimit"])), what="cpu limit")
    elif resources.get("cpuLimit"):
        cpu = float(resources["cpuLimit"])
    if resources.get("resourceMemoryLimit"):
        memory = parse_quantity(substitute(str(resources["resourceMemoryLimit"])), what="memory limit")
    elif resources.get("memoryLimit"):
        memory = float(resources["memoryLimit"]) * 1e9  # the deprecated field counts gigabytes
    accelerator = resources.get("accelerator") or {}
    kind = substitute(str(accelerator.get("resourceType") or accelerator.get("type") or ""))
    count_text = substitute(str(accelerator.get("resourceCount") or accelerator.get("count") or "0"))
    return ResourceSpec(
        cpu_limit=cpu or None,
        memory_limit=int(memory) if memory else None,
        accelerator_type=kind,
        accelerator_count=int(parse_quantity(count_text, what="accelerator count")) if kind else 0,
    )
