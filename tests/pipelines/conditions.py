"""Covers: dsl.If/Elif/Else and dsl.Condition on an upstream output, a NamedTuple named output, pipeline
parameters (str, int, float, bool), a string containing a single quote, int and float comparisons, and a
nested condition; each branch task reports what it received with a PROBE line.

The SDK writes a string operand into the CEL expression between single quotes without escaping it, so a
quote in the DSL string must be written escaped for CEL (`"it\\'s"`); `condition_errors.py` covers the
unescaped form."""

from typing import NamedTuple

from kfp import dsl


@dsl.component(base_image="python:3.11")
def make_int(n: int) -> int:
    return n


@dsl.component(base_image="python:3.11")
def make_named(flag: str, score: float) -> NamedTuple("Outputs", [("flag", str), ("score", float)]):
    from collections import namedtuple

    return namedtuple("Outputs", ["flag", "score"])(flag, score)


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return text


@dsl.component(base_image="python:3.11")
def report(tag: str, value: str = "", number: int = 0, ratio: float = 0.0) -> str:
    import json

    types = [type(value).__name__, type(number).__name__, type(ratio).__name__]
    received = {"tag": tag, "value": value, "number": number, "ratio": ratio, "types": types}
    print("PROBE " + json.dumps(received))
    return tag


@dsl.pipeline(name="conditions")
def pipeline(n: int = 7, ratio: float = 0.5, word: str = "it's", flag: str = "yes", score: float = 0.9,
             go: bool = True):
    number = make_int(n=n)
    with dsl.If(number.output > 5, name="int-gt-5"):
        report(tag="int-gt-5", number=number.output)
        with dsl.If(number.output > 100):
            report(tag="nested-never")
    with dsl.Elif(number.output == 5):
        report(tag="int-eq-5", number=number.output)
    with dsl.Else():
        report(tag="int-else", number=number.output)

    named = make_named(flag=flag, score=score)
    with dsl.If(named.outputs["flag"] == "yes"):
        report(tag="flag-yes", value=named.outputs["flag"])
    with dsl.Else():
        report(tag="flag-not-yes", value=named.outputs["flag"])
    with dsl.If(named.outputs["score"] >= 0.75):
        report(tag="score-high", ratio=named.outputs["score"])

    with dsl.Condition(word == "it\\'s"):
        report(tag="quote-param", value=word)
    said = echo(text=word)
    with dsl.If(said.output == "it\\'s"):
        report(tag="quote-output", value=said.output)

    with dsl.If(ratio < 0.6):
        report(tag="ratio-low", ratio=ratio)
    with dsl.If(n > ratio):
        report(tag="int-gt-float", number=n, ratio=ratio)
    with dsl.If(go == True):  # noqa: E712  (the DSL overloads ==; `is` would not build a condition)
        report(tag="bool-true")
