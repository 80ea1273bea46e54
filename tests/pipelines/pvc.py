"""Covers: kfp-kubernetes CreatePVC and DeletePVC on the host: a PVC is the directory <home>/volumes/<name>,
its name (a fresh uuid plus the suffix) an output read downstream, deleted by a later task; or named by a
pipeline parameter and kept, so that a later run shares it."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML


@dsl.component(base_image="python:3.11")
def show_name(name: str):
    import json

    print("PROBE " + json.dumps({"tag": "pvc", "name": name}))


@dsl.pipeline(name="pvc")
def pipeline(pvc_name: str = "", delete: bool = True):
    with dsl.If(pvc_name == ""):
        made = kubernetes.CreatePVC(
            pvc_name_suffix="-scratch",
            access_modes=["ReadWriteOnce"],
            size="1Mi",
            storage_class_name="standard",
        )
        shown = show_name(name=made.outputs["name"]).set_caching_options(False)
        kubernetes.DeletePVC(pvc_name=made.outputs["name"]).after(shown)
    with dsl.Else():
        kubernetes.CreatePVC(pvc_name=pvc_name, access_modes=["ReadWriteOnce"], size="1Mi")
