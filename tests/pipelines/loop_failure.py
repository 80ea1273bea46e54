"""Covers: a failure inside a loop iteration of a pipeline with a required parameter: the task's one label
(`for-loop-1[1]/check`) on the console, in the summary, the ledger, `--explain`, the report and the failure
report, whose printed `--explain` command must carry the run's parameters to reproduce what failed."""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def check(word: str, limit: int) -> str:
    print(f"checking {word} against {limit}")
    if len(word) > limit:
        raise ValueError(f"{word!r} is longer than {limit}")
    return word


@dsl.pipeline(name="loop-failure")
def pipeline(limit: int, words: List[str] = ["ok", "far-too-long"]):
    with dsl.ParallelFor(words) as word:
        check(word=word, limit=limit)
