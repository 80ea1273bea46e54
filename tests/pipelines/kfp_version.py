"""Covers: `--kfp-package SPEC` replaces the `kfp==VERSION` pin of a lightweight component's install step (as
the backend's CI installs the SDK under test): the component reports the kfp it was run with."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def report_kfp():
    import json

    import kfp

    print("PROBE " + json.dumps({"tag": "kfp", "version": kfp.__version__}))


@dsl.pipeline(name="kfp-version")
def pipeline():
    report_kfp().set_caching_options(False)
