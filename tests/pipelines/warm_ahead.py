"""Covers: the warm interpreter of an environment already built is started ahead of the run's first task
(issue 22, `driver/run/warm_ahead.py`). `where` prints whether its keeper's parent, the warm interpreter, was
started ahead (its last argument is `ahead`) and whether numpy was already imported in it; `plain` has no
packages, so its environment differs from `where`'s. Caching is off."""

from kfp import dsl


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def where(tag: str):
    import json
    import os
    import sys

    preloaded = "numpy" in sys.modules
    with open(f"/proc/{os.getppid()}/stat") as handle:  # the keeper's parent: the warm interpreter
        server = int(handle.read().rsplit(")", 1)[1].split()[1])
    with open(f"/proc/{server}/cmdline", "rb") as handle:
        arguments = handle.read().split(b"\0")
    print("PROBE " + json.dumps({
        "tag": tag,
        "ahead": arguments[-2:] == [b"ahead", b""],
        "warm": b"lpl-warm-server" in arguments,
        "numpy_preloaded": preloaded,
    }))


@dsl.component(base_image="python:3.11")
def plain():
    print("plain")


@dsl.pipeline(name="warm-ahead")
def pipeline():
    where(tag="first").set_caching_options(False)
    plain().set_caching_options(False)
