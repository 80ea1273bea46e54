"""Covers: `--resume RUN FILE` after fixing a bug: `prepare` (unchanged, kept), `validate` (fails until
fixed), `describe` (succeeds, but its code changes with the fix, so it runs again) and `report` (never
reached before the fix). `make_pipeline(fixed=...)` builds either version; `pipeline` is the buggy one."""

from typing import Any

from kfp import dsl


def _validate(fixed: bool) -> Any:
    if fixed:

        @dsl.component(base_image="python:3.11")
        def validate(n: int) -> int:
            print(f"validated {n}")
            return n

    else:

        @dsl.component(base_image="python:3.11")
        def validate(n: int) -> int:
            raise ValueError(f"bug: cannot validate {n}")

    return validate


def _describe(fixed: bool) -> Any:
    if fixed:

        @dsl.component(base_image="python:3.11")
        def describe(n: int) -> str:
            print("describe v2")
            return f"v2:{n}"

    else:

        @dsl.component(base_image="python:3.11")
        def describe(n: int) -> str:
            print("describe v1")
            return f"v1:{n}"

    return describe


@dsl.component(base_image="python:3.11")
def prepare(n: int) -> int:
    print(f"prepared {n}")
    return n + 1


@dsl.component(base_image="python:3.11")
def report(n: int, text: str) -> str:
    print(f"report {n} {text}")
    return f"{n} {text}"


def make_pipeline(*, fixed: bool) -> Any:
    validate, describe = _validate(fixed), _describe(fixed)

    @dsl.pipeline(name="resume-fix")
    def resume_fix(n: int) -> str:
        prepared = prepare(n=n)
        validated = validate(n=prepared.output)
        described = describe(n=prepared.output)
        return report(n=validated.output, text=described.output).output

    return resume_fix


pipeline = make_pipeline(fixed=False)
