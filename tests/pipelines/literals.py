"""Covers: conformance point 39, a value outside an input's `literals` fails the task. kfp 2.17.3 has no DSL
for `literals` (a `Literal[...]` hint is taken for an artifact type), so the test adds them by hand to the
compiled JSON: `["a", "b"]` on `pick`'s input `choice` and on the root parameter `mode`.

`emit` (a host /bin/sh container component) outputs its `value` ("c" by default); `pick` receives it (outside
the literals: fails) and `pick-2` receives the root parameter `mode` (inside them: the control case).
"""

from kfp import dsl
from kfp.dsl import OutputPath


@dsl.container_component
def emit(value: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="python:3.11",
        command=["sh", "-c", 'mkdir -p "$(dirname "$2")" && printf %s "$1" > "$2"', "emit"],
        args=[value, out],
    )


@dsl.container_component
def pick(choice: str):
    return dsl.ContainerSpec(
        image="python:3.11",
        command=["sh", "-c", 'printf \'PROBE {"tag": "pick", "choice": "%s"}\\n\' "$1"', "pick"],
        args=[choice],
    )


@dsl.pipeline(name="literals")
def pipeline(mode: str = "a", value: str = "c"):
    emitted = emit(value=value)
    pick(choice=emitted.output)
    pick(choice=mode)
