"""Covers: container lifetime under `--runner docker`: a cacheable task (a cache hit starts no container),
a task that sleeps the first time it runs (its container must not outlive a killed driver, and `--resume`
then completes it) and, in `missing_image_pipeline`, a task whose image is nowhere to be had.

`sleeper` touches MARKER (a path under the pipeline root, which the container sees at the same path) and
sleeps; when the marker exists it finishes at once.
"""

from kfp import dsl

SHELL_IMAGE = "lpl-test/shell:1"


@dsl.container_component
def greet(name: str, greeting: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && echo "hello $0" | tee "$1"'],
        args=[name, greeting],
    )


@dsl.container_component
def sleeper(marker: str, seconds: int):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=[
            "sh",
            "-c",
            'if [ -e "$0" ]; then echo "woke"; else touch "$0"; echo "sleeping"; sleep "$1"; fi',
        ],
        args=[marker, seconds],
    )


@dsl.pipeline(name="docker-lifecycle")
def pipeline(marker: str, seconds: int = 1):
    greet(name="world")
    sleeper(marker=marker, seconds=seconds).set_caching_options(False)
