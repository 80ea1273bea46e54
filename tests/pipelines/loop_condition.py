"""Covers (for explain and replay): a loop over an upstream output, a loop over raw items, `dsl.Collected`
over a loop, and a `dsl.If`/`dsl.Else` on an upstream output, in one small pipeline that succeeds."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def make_items(count: int) -> list:
    return list(range(count))


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    print(f"square of {x} is {x * x}")
    return x * x


@dsl.component(base_image="python:3.11")
def total(numbers: list) -> int:
    return sum(numbers)


@dsl.component(base_image="python:3.11")
def greet(word: str, times: int = 2) -> str:
    return " ".join([word] * times)


@dsl.pipeline(name="loop-condition")
def pipeline(count: int = 3, word: str = "hi"):
    items = make_items(count=count)
    with dsl.ParallelFor(items.output) as item:
        squared = square(x=item)
    summed = total(numbers=dsl.Collected(squared.output))
    with dsl.If(summed.output > 4):
        greet(word=word).set_display_name("greet-big")
    with dsl.Else():
        greet(word="small", times=1).set_display_name("greet-small")
    with dsl.ParallelFor([10, 20]) as raw:
        square(x=raw).set_display_name("square-raw")
