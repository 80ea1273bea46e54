"""launcher/runners/ray_request.py: a task's requests as Ray resources, and whether any node could run it."""

from __future__ import annotations

from launcher.runners.ray_request import NodeInfo, RayRequest, ray_request, unsatisfiable
from spec.resources import ResourceSpec

GIB = 2**30
HEAD = NodeInfo("h" * 56, "10.0.0.1", {"CPU": 4.0, "memory": 8.0 * GIB}, {"lpl-node": "head"})
GPU_NODE = NodeInfo(
    "g" * 56,
    "10.0.0.2",
    {"CPU": 8.0, "memory": 32.0 * GIB, "GPU": 2.0, "accelerator_type:T4": 1.0, "b": 1.0},
    {"disk": "ssd"},
)


def test_nothing_asked_is_one_cpu_as_ray_defaults() -> None:
    assert ray_request(ResourceSpec()).options() == {"num_cpus": 1.0, "num_gpus": 0.0}


def test_requests_win_over_limits() -> None:
    request = ray_request(
        ResourceSpec(cpu_limit=4.0, memory_limit=4 * GIB, cpu_request=0.5, memory_request=GIB)
    )
    assert (request.num_cpus, request.memory) == (0.5, GIB)


def test_limits_stand_for_requests_when_alone() -> None:
    request = ray_request(ResourceSpec(cpu_limit=2.0, memory_limit=3 * GIB))
    assert request.options() == {"num_cpus": 2.0, "num_gpus": 0.0, "memory": 3 * GIB}


def test_gpu_names_ask_for_gpus() -> None:
    request = ray_request(ResourceSpec(accelerator_type="nvidia.com/gpu", accelerator_count=2))
    assert (request.num_gpus, request.resources) == (2.0, {})


def test_kfp_model_names_ask_for_gpus_of_that_model() -> None:
    request = ray_request(ResourceSpec(accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1))
    assert (request.num_gpus, request.resources) == (1.0, {"accelerator_type:T4": 0.001})


def test_any_other_accelerator_type_is_a_custom_resource() -> None:
    request = ray_request(ResourceSpec(accelerator_type="b", accelerator_count=1))
    assert request.options()["resources"] == {"b": 1.0}
    assert request.num_gpus == 0


def test_node_selectors_become_a_label_selector() -> None:
    request = ray_request(ResourceSpec(), node_selector={"disk": "ssd"})
    assert request.options()["label_selector"] == {"disk": "ssd"}


def test_a_request_one_node_can_give_is_satisfiable() -> None:
    assert unsatisfiable(RayRequest(num_cpus=8, resources={"b": 1}), [HEAD, GPU_NODE]) is None
    assert unsatisfiable(RayRequest(label_selector={"disk": "ssd"}), [HEAD, GPU_NODE]) is None


def test_totals_count_not_one_resource_from_each_node() -> None:
    # 8 CPUs on one node and 8 GiB on another do not make a node with both
    reason = unsatisfiable(RayRequest(num_cpus=8, memory=16 * GIB, resources={"x": 1}), [HEAD, GPU_NODE])
    assert reason is not None and "x 1" in reason


def test_an_impossible_request_says_what_it_asked_and_what_nodes_have() -> None:
    reason = unsatisfiable(RayRequest(num_cpus=64), [HEAD])
    assert reason == (
        "no node of the Ray cluster can ever run it: it asks for CPU 64; "
        "nodes: head at 10.0.0.1 (CPU 4, memory 8 GiB)"
    )


def test_a_label_no_node_has_is_impossible() -> None:
    reason = unsatisfiable(RayRequest(label_selector={"disk": "nvme"}), [HEAD, GPU_NODE])
    assert reason is not None and "label disk=nvme" in reason
