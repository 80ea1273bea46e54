"""Covers: root parameters without defaults (required), used by the bad-input tests to be refused before
anything runs: unknown, missing and mistyped `-p` values and bad `--params-file` files.
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def use_all(count: int, items: list, text: str) -> str:
    return f"{text}:{count}:{len(items)}"


@dsl.pipeline(name="required-parameters")
def pipeline(count: int, items: list, text: str):
    use_all(count=count, items=items, text=text)
