"""Covers: a component that needs what this machine cannot give fails with a line naming it: `internet`
fetches from a host that cannot be resolved, `cluster` reads the in-cluster Kubernetes service address."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def reach_out(need: str):
    import os
    import urllib.request

    if need == "internet":
        urllib.request.urlopen("http://lpl-no-such-host.invalid/data", timeout=10)
    elif need == "cluster":
        print("connecting to", os.environ["KUBERNETES_SERVICE_HOST"])


@dsl.pipeline(name="needs")
def pipeline(need: str = "internet"):
    reach_out(need=need).set_caching_options(False)
