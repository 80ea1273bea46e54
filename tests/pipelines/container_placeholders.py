"""Covers: a container component run on the host with /bin/sh: `ConcatPlaceholder`, `IfPresentPlaceholder`
(its input given and not given, a `Concat` nested inside it, a list of arguments in a branch), the
`PIPELINE_TASK_NAME_PLACEHOLDER` and `PIPELINE_JOB_NAME_PLACEHOLDER`, and an OutputPath written by the
command.

`describe` prints one line of `key=value` words built from its placeholders and writes the same line to its
output parameter `line`; `check_line` receives it downstream, with the job name from a constant
`{{$.pipeline_job_name}}` input, and raises unless the line is exactly as expected.
"""

from typing import Optional

from kfp import dsl
from kfp.dsl import OutputPath


@dsl.container_component
def describe(name: str, line: OutputPath(str), suffix: Optional[str] = None):
    # sh -c SCRIPT arg0 arg1 ...: "$0" is the output file, "$@" the words to write to it.
    return dsl.ContainerSpec(
        image="alpine",
        command=["/bin/sh", "-c", 'mkdir -p "$(dirname "$0")" && echo "$@" && printf "%s" "$*" > "$0"'],
        args=[
            line,
            dsl.ConcatPlaceholder(["task=", dsl.PIPELINE_TASK_NAME_PLACEHOLDER]),
            dsl.ConcatPlaceholder(["job=", dsl.PIPELINE_JOB_NAME_PLACEHOLDER]),
            dsl.ConcatPlaceholder(["name=", name, "!"]),
            dsl.IfPresentPlaceholder(
                input_name="suffix",
                then=[dsl.ConcatPlaceholder(["suffix=", suffix]), "given=yes"],
                else_=["suffix=none"],
            ),
        ],
    )


@dsl.component(base_image="python:3.11")
def check_line(line: str, job: str, name: str, expected: str):
    expected = expected.format(job=job, name=name)
    if line != expected:
        raise ValueError(f"expected {expected!r}, got {line!r}")


@dsl.pipeline(name="container-placeholders")
def pipeline(name: str = "world"):
    with_suffix = describe(name=name, suffix="s1").set_display_name("with-suffix")
    without_suffix = describe(name=name).set_display_name("without-suffix")
    check_line(line=with_suffix.outputs["line"], job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER, name=name,
               expected="task=describe job={job} name={name}! suffix=s1 given=yes")
    check_line(line=without_suffix.outputs["line"], job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER, name=name,
               expected="task=describe-2 job={job} name={name}! suffix=none")
