"""Covers: stopping a run (SIGKILL, SIGINT, SIGTERM to the driver) and resuming it: a quick first task, a
task that holds until a release file exists (it writes `<release>.started` once it runs, and waits in a
child shell of its own, so a stopped component leaves a grandchild behind unless its whole process group is
stopped), and a last task after it."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def step(tag: str) -> str:
    import json

    print("PROBE " + json.dumps({"tag": tag}))
    return tag


@dsl.component(base_image="python:3.11")
def hold(release: str) -> str:
    import json
    import subprocess

    print("PROBE " + json.dumps({"tag": "hold"}), flush=True)
    with open(release + ".started", "w"):
        pass
    subprocess.run(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.05; done', "sh", release], check=True)
    return "released"


@dsl.pipeline(name="signals")
def pipeline(release: str):
    first = step(tag="first")
    held = hold(release=release).after(first)
    step(tag="last").after(held)
