"""Covers: set_retry: a task that fails on its first attempts and then succeeds (one execution, all attempts
recorded, output URIs identical across attempts), exponential backoff, a retry count that runs out, a
backoff_max_duration that stops retries early, and a retry policy on a nested pipeline task inherited by the
tasks inside it. Attempts are counted with marker files in `marker_dir`, a fresh directory per test."""

from kfp import dsl
from kfp.dsl import Dataset, Output


@dsl.component(base_image="python:3.11")
def flaky(marker_dir: str, name: str, failures: int, out: Output[Dataset]) -> int:
    import json
    import os

    os.makedirs(marker_dir, exist_ok=True)
    attempt = len([f for f in os.listdir(marker_dir) if f.startswith(name + ".")]) + 1
    open(os.path.join(marker_dir, f"{name}.{attempt}"), "w").close()
    print("PROBE " + json.dumps({"tag": name, "attempt": attempt, "out_uri": out.uri}))
    if attempt <= failures:
        raise RuntimeError(f"{name}: failing attempt {attempt} on purpose")
    with open(out.path, "w") as f:
        f.write(f"attempt {attempt}")
    return attempt


@dsl.pipeline
def inner(marker_dir: str) -> int:
    task = flaky(marker_dir=marker_dir, name="inherited", failures=1).set_caching_options(False)
    return task.outputs["Output"]


@dsl.pipeline(name="retries")
def pipeline(marker_dir: str):
    flaky(marker_dir=marker_dir, name="backoff", failures=2).set_caching_options(False).set_retry(
        num_retries=3, backoff_duration="1s", backoff_factor=1.5)
    flaky(marker_dir=marker_dir, name="exhausted", failures=5).set_caching_options(False).set_retry(
        num_retries=1, backoff_duration="0s")
    flaky(marker_dir=marker_dir, name="window", failures=5).set_caching_options(False).set_retry(
        num_retries=5, backoff_duration="1s", backoff_factor=2.0, backoff_max_duration="2s")
    inner(marker_dir=marker_dir).set_retry(num_retries=2, backoff_duration="0s")
