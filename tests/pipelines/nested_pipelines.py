"""Covers: nested pipelines two levels deep with the DAG driver's null/default rule (an omitted optional input
takes its default, or null when it has none, and a null bound to an optional component input is dropped so the
component's own default applies), outputs passed up through two levels, and a dsl.OneOf returned as a nested
pipeline's output."""

from typing import Optional

from kfp import dsl


@dsl.component(base_image="python:3.11")
def show(tag: str, text: str = "component-default", maybe: Optional[str] = None, number: int = 0) -> str:
    import json

    print("PROBE " + json.dumps({"tag": tag, "text": text, "maybe": maybe, "number": number,
                                 "number_type": type(number).__name__}))
    return f"{tag}:{text}:{maybe}:{number}"


@dsl.pipeline
def leaf(text: str, maybe: Optional[str] = None, number: int = 3) -> str:
    return show(tag="leaf", text=text, maybe=maybe, number=number).output


@dsl.pipeline
def middle(text: str = "middle-default", maybe: Optional[str] = None) -> str:
    return leaf(text=text, maybe=maybe).output


@dsl.pipeline
def choose(mode: str) -> str:
    with dsl.If(mode == "a"):
        a = show(tag="choose-a", text="from-a")
    with dsl.Else():
        other = show(tag="choose-else", text="from-else")
    return dsl.OneOf(a.output, other.output)


@dsl.pipeline(name="nested-pipelines")
def pipeline(mode: str = "z"):
    defaulted = middle()
    show(tag="after-defaulted", text=defaulted.output)
    given = middle(text="given", maybe="present")
    show(tag="after-given", text=given.output)
    chosen = choose(mode=mode)
    show(tag="after-choose", text=chosen.output)
