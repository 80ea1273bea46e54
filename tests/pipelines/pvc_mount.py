"""Covers: kfp-kubernetes mount_pvc with the PVC's name from CreatePVC's output, inside a ParallelFor (the
name reaches the loop body as a pipeline channel). On the host runner a mount cannot be made: the task fails
with one line naming `--runner docker`."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML


@dsl.component(base_image="python:3.11")
def list_data() -> str:
    import os

    return ",".join(sorted(os.listdir("/data")))


@dsl.pipeline(name="pvc-mount")
def pipeline():
    made = kubernetes.CreatePVC(pvc_name_suffix="-data", access_modes=["ReadWriteOnce"], size="1Mi")
    with dsl.ParallelFor(items=["a"]):
        task = list_data().set_caching_options(False)
        kubernetes.mount_pvc(task, pvc_name=made.outputs["name"], mount_path="/data")
