"""Covers: what the console shows of a component's output: two tasks that print and log (`logging.info`, which
the KFP executor's logging format prefixes like its own lines) while the executor dumps its ExecutorInput."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def shout(word: str) -> str:
    import logging

    print(f"USER-PRINT {word}")
    logging.info("USER-LOG %s", word)
    return word.upper()


@dsl.pipeline(name="console-output")
def pipeline(word: str = "hey"):
    first = shout(word=word)
    shout(word=first.output)
