"""Covers: `dsl.Collected` over a producer inside `ParallelFor` > `If`, for parameters and artifacts: the
iterations whose condition was false contribute nothing (the shape of the SDK's own test pipelines
conditional_producer_and_consumers and artifacts_complex), with one consumer behind a second condition."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def double(num: int, out_dataset: Output[Dataset]) -> int:
    with open(out_dataset.path, "w") as f:
        f.write(str(2 * num))
    return 2 * num


@dsl.component(base_image="python:3.11")
def add(nums: List[int]) -> int:
    import json

    print("PROBE " + json.dumps({"tag": "add", "nums": nums}))
    return sum(nums)


@dsl.component(base_image="python:3.11")
def read(datasets: Input[List[Dataset]]) -> int:
    import json

    values = []
    for dataset in datasets:
        with open(dataset.path) as f:
            values.append(int(f.read()))
    print("PROBE " + json.dumps({"tag": "read", "values": values}))
    return sum(values)


@dsl.pipeline(name="collected-condition")
def pipeline(threshold: int = 2) -> List[int]:
    with dsl.ParallelFor([1, 2, 3]) as x:  # noqa: SIM117 - nested, as KFP users write it
        with dsl.If(x >= threshold):
            t = double(num=x)
    with dsl.If(threshold == 2):
        add(nums=dsl.Collected(t.outputs["Output"]))
    read(datasets=dsl.Collected(t.outputs["out_dataset"]))
    return dsl.Collected(t.outputs["Output"])
