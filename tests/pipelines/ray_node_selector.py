"""Covers: `--runner ray` placing a task by a kfp-kubernetes node selector (`disk=ssd`), which the Ray runner
turns into a Ray label selector: only the test cluster's node `b` carries that label."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML


@dsl.component(base_image="python:3.11")
def on_ssd() -> str:
    return "ssd"


@dsl.pipeline(name="ray-node-selector")
def pipeline():
    task = on_ssd().set_caching_options(False)
    kubernetes.add_node_selector(task, label_key="disk", label_value="ssd")
