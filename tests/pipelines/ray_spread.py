"""Covers: `--runner ray` placing a ParallelFor's iterations: four iterations of one CPU each on a cluster of
two one-CPU nodes run two at a time, one on each node; each prints where it ran, and its parent's name (a warm
start's keeper is `python3`, a cold start's is `sh`)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def where(item: int) -> int:
    import os
    import socket
    import time

    time.sleep(1.5)  # long enough that the next iteration cannot take this node's only CPU
    with open(f"/proc/{os.getppid()}/comm") as parent:
        print(f"item {item} on {socket.gethostname()} parent {parent.read().strip()}")
    return item * item


@dsl.pipeline(name="ray-spread")
def pipeline():
    with dsl.ParallelFor(items=[1, 2, 3, 4]) as item:
        where(item=item).set_caching_options(False)
