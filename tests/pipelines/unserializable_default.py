"""Covers: a pipeline the DSL accepts but kfp cannot compile (a float default of NaN, which has no JSON
form): `run_pipeline` raises `PipelineInputError` naming the pipeline, not kfp's own exception."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def take(x: float) -> str:
    return str(x)


@dsl.pipeline(name="unserializable")
def pipeline(x: float = float("nan")) -> str:
    return take(x=x).output
