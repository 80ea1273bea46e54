"""What a task asks Ray for, and whether any node of the cluster could ever give it. Pure: no Ray import.

The mapping (docs/runners.md, "Ray"):

- CPU: the request, else the limit (Kubernetes schedules by requests and sets request = limit when only the
  limit is given); nothing said: Ray's own default for a task, one CPU.
- memory: the same rule, in bytes, as Ray's `memory` resource.
- accelerators: the type is the resource name, as on Kubernetes. A GPU name (`nvidia.com/gpu`, `amd.com/gpu`,
  `gpu`) asks for that many GPUs; KFP's older model names (`NVIDIA_TESLA_T4`, `NVIDIA_L4`) ask for GPUs on a
  node whose `accelerator_type` is that model (`T4`, `L4`), as Ray names them; any other name is a custom
  resource of that name and count (`set_accelerator_type("b")` needs a node started with `--resources
  '{"b": 1}'`).
- node selectors (kfp-kubernetes `add_node_selector`): a Ray label selector; nodes get labels with
  `ray start --labels key=value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec.resources import ResourceSpec

GPU_NAMES = frozenset({"nvidia.com/gpu", "amd.com/gpu", "gpu", "GPU"})
_MODEL_PREFIXES = ("NVIDIA_TESLA_", "NVIDIA_")
GIB = 2**30


@dataclass(frozen=True)
class RayRequest:
    """Ray resources for one task attempt."""

    num_cpus: float = 1.0
    memory: float = 0.0  # bytes; 0: not asked
    num_gpus: float = 0.0
    resources: dict[str, float] = field(default_factory=dict)
    label_selector: dict[str, str] = field(default_factory=dict)

    def needs(self) -> dict[str, float]:
        """Every resource this asks for, by Ray's resource name."""
        needed = {"CPU": self.num_cpus, "memory": self.memory, "GPU": self.num_gpus, **self.resources}
        return {name: amount for name, amount in needed.items() if amount}

    def options(self) -> dict[str, Any]:
        """Keyword arguments for Ray's `.options()`."""
        options: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory:
            options["memory"] = int(self.memory)
        if self.resources:
            options["resources"] = dict(self.resources)
        if self.label_selector:
            options["label_selector"] = dict(self.label_selector)
        return options

    def describe(self) -> str:
        parts = [f"{name} {_amount(name, amount)}" for name, amount in self.needs().items()]
        parts += [f"label {key}={value}" for key, value in self.label_selector.items()]
        return ", ".join(parts) or "nothing"


@dataclass(frozen=True)
class NodeInfo:
    """An alive node as Ray reports it."""

    node_id: str
    address: str
    resources: dict[str, float]
    labels: dict[str, str]

    def describe(self) -> str:
        name = self.labels.get("lpl-node") or self.node_id[:12]
        offered = ", ".join(
            f"{key} {_amount(key, value)}" for key, value in sorted(self.resources.items()) if _shown(key)
        )
        return f"{name} at {self.address} ({offered})"


def ray_request(resources: ResourceSpec, *, node_selector: dict[str, str] | None = None) -> RayRequest:
    """The Ray request for a task's resources: requests, else limits."""
    cpu = resources.cpu_request if resources.cpu_request is not None else resources.cpu_limit
    memory = resources.memory_request if resources.memory_request is not None else resources.memory_limit
    gpus, custom = _accelerator(resources.accelerator_type, resources.accelerator_count)
    return RayRequest(
        num_cpus=float(cpu) if cpu is not None else 1.0,
        memory=float(memory or 0),
        num_gpus=gpus,
        resources=custom,
        label_selector=dict(node_selector or {}),
    )


def _accelerator(kind: str, count: int) -> tuple[float, dict[str, float]]:
    if not kind or count <= 0:
        return 0.0, {}
    if kind in GPU_NAMES:
        return float(count), {}
    for prefix in _MODEL_PREFIXES:
        if kind.startswith(prefix):
            # Ray's own way to ask for a model: a sliver of the node's `accelerator_type:<model>` resource.
            return float(count), {f"accelerator_type:{kind[len(prefix):]}": 0.001}
    return 0.0, {kind: float(count)}


def unsatisfiable(request: RayRequest, nodes: list[NodeInfo]) -> str | None:
    """Why no node can ever run `request` (a node's total, not its free, resources count), or None."""
    needs = request.needs()
    for node in nodes:
        enough = all(node.resources.get(name, 0.0) >= amount for name, amount in needs.items())
        labelled = all(node.labels.get(key) == value for key, value in request.label_selector.items())
        if enough and labelled:
            return None
    offered = "; ".join(node.describe() for node in nodes) or "no alive node"
    return f"no node of the Ray cluster can ever run it: it asks for {request.describe()}; nodes: {offered}"


def _shown(name: str) -> bool:
    return not name.startswith(("node:", "object_store_memory"))


def _amount(name: str, amount: float) -> str:
    if name == "memory":
        return f"{amount / GIB:.3g} GiB"
    return f"{amount:g}"
