"""Covers: kfp-kubernetes `set_timeout` (activeDeadlineSeconds): a component that runs past its timeout is
stopped and its task fails saying so; a quick one under the same timeout completes."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML


@dsl.component(base_image="python:3.11")
def nap(seconds: int):
    import time

    time.sleep(seconds)


@dsl.pipeline(name="task-timeout")
def pipeline():
    slow = nap(seconds=60).set_caching_options(False).set_display_name("slow")
    kubernetes.set_timeout(slow, 2)
    quick = nap(seconds=0).set_caching_options(False).set_display_name("quick")
    kubernetes.set_timeout(quick, 30)
