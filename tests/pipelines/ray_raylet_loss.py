"""Covers: `--runner ray` when a node's raylet is killed under a running task: the task (pinned to the node by
the custom resource `lonely`) starts a child of its own (`sleep 300`, in its process group), writes the
child's pid to `<marker_dir>/child` and holds; nothing of the task may outlive its node. With
`<marker_dir>/first` present it returns at once (the host run that builds its environment)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def abandon(marker_dir: str) -> str:
    import os
    import subprocess
    import time

    if os.path.exists(os.path.join(marker_dir, "first")):
        return "prebuilt"
    child = subprocess.Popen(["sleep", "300"])
    with open(os.path.join(marker_dir, "child.tmp"), "w") as handle:
        handle.write(str(child.pid))
    os.rename(os.path.join(marker_dir, "child.tmp"), os.path.join(marker_dir, "child"))
    time.sleep(300)
    return "never"


@dsl.pipeline(name="ray-raylet-loss")
def pipeline(marker_dir: str):
    abandon(marker_dir=marker_dir).set_caching_options(False).set_accelerator_type("lonely").set_accelerator_limit(
        1
    )
