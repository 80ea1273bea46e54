"""Covers: OCI model artifacts (modelcars). A component that sets its output's URI to `oci://…` has pushed an
image itself: the URI is recorded as is and nothing is copied, as the backend's launcher does. An importer of
an `oci://` URI needs an OCI registry: without `--mount oci://REGISTRY=DIR` it fails saying so; with one, the
consumer reads the local copy."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def build_model_car(model: dsl.Output[dsl.Model]):
    model.uri = "oci://registry.lpl.invalid/org/repo:v1.0"


@dsl.component(base_image="python:3.11")
def list_model(input_model: dsl.Input[dsl.Model]) -> str:
    import os

    return ",".join(sorted(os.listdir(input_model.path)))


@dsl.pipeline(name="modelcar")
def pipeline(model_uri: str = "oci://registry.lpl.invalid/modelcar:test"):
    imported = dsl.importer(artifact_uri=model_uri, artifact_class=dsl.Model)
    list_model(input_model=imported.output).set_caching_options(False)
    build_model_car().set_caching_options(False)
