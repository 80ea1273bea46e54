"""The test cluster itself (tests/ray_cluster.py): two loopback-only nodes, reached from the namespace."""

from __future__ import annotations

import json
import sys

from tests.ray_cluster import RayCluster

# Runs inside the namespace: the alive nodes (address, resources), and where a task pinned to `b` ran.
_PROBE = """
import json, ray
ray.init(address="127.0.0.1:6379", logging_level="ERROR", log_to_driver=False)
nodes = [n for n in ray.nodes() if n["Alive"]]
@ray.remote(num_cpus=0, resources={"b": 1})
def where():
    return ray.get_runtime_context().get_node_id()
print(json.dumps({
    "nodes": [[n["NodeID"], n["NodeManagerAddress"], n["Resources"].get("b", 0)] for n in nodes],
    "pinned": ray.get(where.remote()),
}))
"""


def test_two_nodes_on_loopback_and_a_resource_only_b_has(ray_cluster: RayCluster) -> None:
    completed = ray_cluster.run([sys.executable, "-c", _PROBE])
    assert completed.returncode == 0, completed.stderr
    report = json.loads(next(x for x in reversed(completed.stdout.splitlines()) if x.startswith("{")))
    assert len(report["nodes"]) == 2
    assert {address for _, address, _ in report["nodes"]} == {"127.0.0.1"}
    holder_of_b = [node_id for node_id, _, b in report["nodes"] if b]
    assert holder_of_b == [report["pinned"]]


def test_the_namespace_holds_only_loopback(ray_cluster: RayCluster) -> None:
    completed = ray_cluster.run(["ip", "-o", "link"])
    assert completed.returncode == 0, completed.stderr
    interfaces = [line.split(":")[1].strip() for line in completed.stdout.splitlines()]
    assert interfaces == ["lo"]
