"""Covers: `--runner ray` when the node running an attempt is lost: the task asks for the custom resource
`spare` and has one retry. Its first attempt writes `<marker_dir>/first` and then holds (the test kills the
node under it); a later attempt finds the marker and succeeds."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def fragile(marker_dir: str) -> str:
    import os
    import time

    marker = os.path.join(marker_dir, "first")
    if os.path.exists(marker):
        print("second attempt: done")
        return "survived"
    with open(marker, "w"):
        pass
    print("first attempt: holding", flush=True)
    time.sleep(300)
    return "never"


@dsl.pipeline(name="ray-node-loss")
def pipeline(marker_dir: str):
    fragile(marker_dir=marker_dir).set_caching_options(False).set_accelerator_type("spare").set_accelerator_limit(
        1
    ).set_retry(num_retries=1, backoff_duration="0s")
