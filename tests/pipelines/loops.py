"""Covers: dsl.ParallelFor over raw scalars, raw dicts (whole, and item.field sub-variables), a pipeline
parameter, an upstream output and a NamedTuple named output, nested loops (over a raw list, and over an
item's sub-list), a loop over zero items, and a condition on the loop item inside a loop; each iteration
reports the values and types it received with a PROBE line."""

from typing import List, NamedTuple

from kfp import dsl


@dsl.component(base_image="python:3.11")
def show(tag: str, text: str = "", number: int = 0, ratio: float = 0.0, flag: bool = False, other: str = ""):
    import json

    print("PROBE " + json.dumps({"tag": tag, "text": text, "number": number, "ratio": ratio, "flag": flag,
                                 "other": other, "number_type": type(number).__name__}))


@dsl.component(base_image="python:3.11")
def show_fields(tag: str, label: str, size: str, ratio: str, ok: str):
    import json

    # The SDK types item.field sub-variables as STRING: the backend's STRING coercion turns 1 into "1".
    print("PROBE " + json.dumps({"tag": tag, "label": label, "size": size, "ratio": ratio, "ok": ok}))


@dsl.component(base_image="python:3.11")
def show_struct(tag: str, data: dict):
    import json

    types = {key: type(value).__name__ for key, value in data.items()}
    print("PROBE " + json.dumps({"tag": tag, "data": data, "types": types}))


@dsl.component(base_image="python:3.11")
def make_numbers() -> List[int]:
    return [4, 5, 6]


@dsl.component(base_image="python:3.11")
def make_named() -> NamedTuple("Outputs", [("words", List[str]), ("count", int)]):
    from collections import namedtuple

    return namedtuple("Outputs", ["words", "count"])(["x", "y"], 2)


@dsl.pipeline(name="loops")
def pipeline(names: List[str] = ["ann", "bob"], nothing: List[str] = []):
    with dsl.ParallelFor([1, 2, 3]) as n:
        show(tag="raw-int", number=n)
    with dsl.ParallelFor([{"label": "a", "size": 1, "ratio": 0.5, "ok": True},
                          {"label": "b", "size": 2, "ratio": 1.5, "ok": False}]) as item:
        show_fields(tag="raw-dict", label=item.label, size=item.size, ratio=item.ratio, ok=item.ok)
        show_struct(tag="raw-dict-whole", data=item)
    with dsl.ParallelFor(names) as name:
        show(tag="param", text=name)
    numbers = make_numbers()
    with dsl.ParallelFor(numbers.output) as number:
        show(tag="upstream", number=number)
    named = make_named()
    with dsl.ParallelFor(named.outputs["words"]) as word:
        show(tag="named-output", text=word)
    with dsl.ParallelFor(nothing) as never:
        show(tag="zero-items", text=never)
    groups = [{"group": "g1", "members": ["m1", "m2"]}, {"group": "g2", "members": ["m3"]}]
    with dsl.ParallelFor(groups) as outer:
        show(tag="outer-of-sub-list", text=outer.group)
        # The SDK cannot compile outer.group used inside the inner loop (its own assertion fails).
        with dsl.ParallelFor(outer.members) as member:
            show(tag="nested-sub-list", text=member)
    with dsl.ParallelFor([1, 2, 3]) as x, dsl.If(x >= 2):
        show(tag="loop-condition", number=x)
    with dsl.ParallelFor([10, 20]) as i, dsl.ParallelFor(["p", "q"]) as j:
        show(tag="nested-raw", number=i, text=j)
