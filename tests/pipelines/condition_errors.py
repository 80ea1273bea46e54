"""Covers: a condition that cannot be evaluated. The SDK writes `word == "it's"` as the CEL expression
`... == 'it's'` (the quote unescaped), which is not valid CEL: the condition task must fail naming the
expression, never be skipped silently. Tests also edit the compiled expression into other bad forms."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def report(tag: str):
    import json

    print("PROBE " + json.dumps({"tag": tag}))


@dsl.pipeline(name="condition-errors")
def pipeline(word: str = "it's"):
    with dsl.If(word == "it's"):
        report(tag="guarded")
