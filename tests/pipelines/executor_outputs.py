"""Covers: conformance points 58, 60 and 62, what the launcher makes of a component's outputs. Three
independent container components run on the host with /bin/sh:

- `override` (58) writes "1" to its `n` output file and an executor output (at
  `PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER`) whose `parameterValues` give `n` the value
  "not-a-number": the executor output wins and is not checked against `n`'s declared integer type;
- `no_parameter` (60) declares an output parameter `note` and writes neither it nor an executor output:
  the task fails with a message naming `note`;
- `no_artifact` (62) declares an output artifact `data` and writes no file: the artifact is still recorded
  and the task completes, with a warning in its log.
"""

from kfp import dsl
from kfp.dsl import Artifact, Output, OutputPath

OVERRIDE = r"""
n="$1" out="$2"
mkdir -p "$(dirname "$n")" "$(dirname "$out")"
printf '1' > "$n"
printf '{"parameterValues":{"n":"not-a-number"}}' > "$out"
"""


@dsl.container_component
def override(n: OutputPath(int)):
    return dsl.ContainerSpec(
        image="python:3.11",
        command=["sh", "-c", OVERRIDE, "override"],
        args=[n, dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER],
    )


@dsl.container_component
def no_parameter(note: OutputPath(str)):
    return dsl.ContainerSpec(
        image="python:3.11", command=["sh", "-c", 'echo "not writing $1"', "no-parameter"], args=[note]
    )


@dsl.container_component
def no_artifact(data: Output[Artifact]):
    return dsl.ContainerSpec(
        image="python:3.11", command=["sh", "-c", 'echo "not writing $1"', "no-artifact"], args=[data.path]
    )


@dsl.pipeline(name="executor-outputs")
def pipeline():
    override()
    no_parameter()
    no_artifact()
