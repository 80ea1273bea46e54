"""Covers: every parameter type (str, int, float, bool, dict, list, Optional, defaults) into and out of
components.

The components check the exact Python type of every value they receive and raise when one is wrong, so a run
that succeeds proves the values arrived intact: whole numbers nested inside dicts and lists arrive as `int`,
never `float` (the protojson rule `kfp.local` breaks). `echo_all` hands each value back as a NamedTuple
output, `check_all` receives those outputs downstream, and `make_list`'s single `list` output flows to
`check_list`.
"""

from typing import NamedTuple, Optional

from kfp import dsl


@dsl.component(base_image="python:3.11")
def echo_all(
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    config: dict,
    items: list,
    maybe: Optional[str] = None,
    fallback: str = "component-default",
) -> NamedTuple(
    "Outputs", text=str, count=int, ratio=float, flag=bool, config=dict, items=list, fallback=str
):
    def check_ints(value, where):
        # A whole number must never have become a float on its way here.
        if isinstance(value, float) and value.is_integer():
            raise TypeError(f"{where}: the whole number {value!r} arrived as a float")
        if isinstance(value, dict):
            for key, item in value.items():
                check_ints(item, f"{where}[{key!r}]")
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_ints(item, f"{where}[{index}]")

    received = {"text": text, "count": count, "ratio": ratio, "flag": flag, "config": config, "items": items,
                "maybe": maybe, "fallback": fallback}
    print(f"received={received!r}")
    expected_types = {"text": (str,), "count": (int,), "ratio": (float,), "flag": (bool,), "config": (dict,),
                      "items": (list,), "maybe": (str, type(None)), "fallback": (str,)}
    for name, expected in expected_types.items():
        if type(received[name]) not in expected:
            raise TypeError(f"{name}: expected {expected}, got {type(received[name]).__name__}")
    check_ints(config, "config")
    check_ints(items, "items")
    outputs = NamedTuple("Outputs", text=str, count=int, ratio=float, flag=bool, config=dict, items=list,
                         fallback=str)
    return outputs(text, count, ratio, flag, config, items, fallback)


@dsl.component(base_image="python:3.11")
def check_all(text: str, count: int, ratio: float, flag: bool, config: dict, items: list, fallback: str):
    def check_ints(value, where):
        if isinstance(value, float) and value.is_integer():
            raise TypeError(f"{where}: the whole number {value!r} arrived as a float")
        if isinstance(value, dict):
            for key, item in value.items():
                check_ints(item, f"{where}[{key!r}]")
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_ints(item, f"{where}[{index}]")

    received = {"text": text, "count": count, "ratio": ratio, "flag": flag, "config": config, "items": items,
                "fallback": fallback}
    print(f"downstream={received!r}")
    expected_types = {"text": str, "count": int, "ratio": float, "flag": bool, "config": dict, "items": list,
                      "fallback": str}
    for name, expected in expected_types.items():
        if type(received[name]) is not expected:
            raise TypeError(f"{name}: expected {expected.__name__}, got {type(received[name]).__name__}")
    check_ints(config, "config")
    check_ints(items, "items")


@dsl.component(base_image="python:3.11")
def make_list() -> list:
    return [1, {"two": 2, "half": 0.5}, [3]]


@dsl.component(base_image="python:3.11")
def check_list(values: list):
    if values != [1, {"two": 2, "half": 0.5}, [3]]:
        raise ValueError(f"unexpected list {values!r}")
    if type(values[0]) is not int or type(values[1]["two"]) is not int or type(values[2][0]) is not int:
        raise TypeError(f"whole numbers became floats: {values!r}")


@dsl.pipeline(name="parameter-types")
def pipeline(
    text: str = "hello",
    count: int = 3,
    ratio: float = 0.25,
    flag: bool = True,
    config: dict = {"name": "cfg", "nested": {"whole": 2, "half": 0.5}, "levels": [1, 2]},
    items: list = [1, 2, {"three": 3}],
    maybe: Optional[str] = None,
):
    echoed = echo_all(text=text, count=count, ratio=ratio, flag=flag, config=config, items=items, maybe=maybe)
    check_all(
        text=echoed.outputs["text"],
        count=echoed.outputs["count"],
        ratio=echoed.outputs["ratio"],
        flag=echoed.outputs["flag"],
        config=echoed.outputs["config"],
        items=echoed.outputs["items"],
        fallback=echoed.outputs["fallback"],
    )
    check_list(values=make_list().output)
