"""Covers: the smallest pipeline, one lightweight component without packages that prints and returns."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def say_hello(name: str) -> str:
    greeting = f"Hello, {name}!"
    print(greeting)
    return greeting


@dsl.pipeline(name="hello")
def pipeline(name: str = "world") -> str:
    return say_hello(name=name).output
