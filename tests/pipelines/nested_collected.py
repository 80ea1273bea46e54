"""Covers: a loop over an upstream list of dicts inside a nested pipeline, a condition on `item.a`, an inner
loop over the sub-field `item.subs` (which the SDK declares with the element type, not a list),
`dsl.Collected` across the two nested loops (a flat `List[int]`), an optional input artifact left out, and
a pipeline output."""

from typing import Dict, List, Optional

from kfp import dsl
from kfp.dsl import Dataset, Input


@dsl.component(base_image="python:3.11")
def gen() -> List[Dict[str, int]]:
    return [{"a": 1, "subs": [1, 2]}, {"a": 2, "subs": [3]}]


@dsl.component(base_image="python:3.11")
def show(x: int, tag: str = "t") -> int:
    import json

    print("PROBE " + json.dumps({"tag": tag, "x": x, "type": type(x).__name__}))
    return x * 10


@dsl.component(base_image="python:3.11")
def maybe(data: Optional[Input[Dataset]] = None) -> str:
    return "none" if data is None else "some"


@dsl.component(base_image="python:3.11")
def total(xs: List[int]) -> int:
    import json

    print("PROBE " + json.dumps({"tag": "total", "xs": xs}))
    assert all(isinstance(x, int) for x in xs), xs
    return sum(xs)


@dsl.pipeline
def inner(items: List[Dict[str, int]]) -> int:
    with dsl.ParallelFor(items) as it:
        with dsl.If(it.a > 1):
            show(x=it.a, tag="big")
        with dsl.ParallelFor(it.subs) as sub:
            each = show(x=sub, tag="sub")
    return total(xs=dsl.Collected(each.output)).output


@dsl.pipeline(name="nested-collected")
def pipeline() -> int:
    items = gen()
    absent = maybe()
    result = inner(items=items.output)
    show(x=result.output, tag=absent.output)
    return result.output
