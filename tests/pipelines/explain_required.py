"""Covers: `--explain` of a pipeline whose required root parameters have no values: each stands in as
`{{pipeline.parameters['name']}}` (a string used as it is, a list a loop iterates over, a number a condition
compares), as upstream outputs do, instead of the run's refusal."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def greet(text: str) -> str:
    return f"hello {text}"


@dsl.component(base_image="python:3.11")
def shout(word: str):
    print(word.upper())


@dsl.pipeline(name="explain-required")
def pipeline(text: str, words: list, threshold: int, suffix: str = "!"):
    greet(text=text)
    with dsl.ParallelFor(words) as word:
        shout(word=word)
    with dsl.If(threshold > 3):
        greet(text=suffix)
