"""Covers: a loop's own limit honoured by default (issue 15, item 9): ParallelFor(parallelism=8) whose eight
iterations meet at a barrier (each writes a marker into a shared directory and waits until all eight
exist), so the run completes only if all eight ran at once."""

from kfp import dsl

WIDTH = 8


@dsl.component(base_image="python:3.11")
def meet(barrier: str, index: int, width: int) -> int:
    import json
    import os
    import time

    os.makedirs(barrier, exist_ok=True)
    open(os.path.join(barrier, str(index)), "w").close()
    deadline = time.monotonic() + 30
    while len(os.listdir(barrier)) < width and time.monotonic() < deadline:
        time.sleep(0.02)
    seen = len(os.listdir(barrier))
    print("PROBE " + json.dumps({"tag": "meet", "index": index, "seen": seen}))
    if seen < width:
        raise SystemExit(f"only {seen} of {width} iterations ran at once")
    return index


@dsl.pipeline(name="wide-loop")
def pipeline(barrier: str):
    with dsl.ParallelFor(items=list(range(WIDTH)), parallelism=WIDTH) as index:
        meet(barrier=barrier, index=index, width=WIDTH)
