"""Covers: a component that ignores SIGTERM (a shell that traps it, and its `sleep` inherits that) is still
stopped when the run is interrupted: the launcher escalates to SIGKILL after a grace period."""

from kfp import dsl


@dsl.container_component
def stubborn(marker: str):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c"],
        args=["trap '' TERM INT; touch \"$0.started\"; sleep 60", marker],
    )


@dsl.pipeline(name="stubborn")
def pipeline(marker: str):
    stubborn(marker=marker).set_caching_options(False)
