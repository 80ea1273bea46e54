"""Covers: task options: set_env_variable seen by the component, set_display_name recorded,
set_caching_options(False) running again where an identical cached task does not, and CPU/memory/accelerator
settings that have no local effect (the run works, with one warning)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def show_env(tag: str) -> str:
    import json
    import os

    print("PROBE " + json.dumps({"tag": tag, "GREETING": os.environ.get("GREETING"),
                                 "SPACED": os.environ.get("SPACED")}))
    return tag


@dsl.pipeline(name="task-options")
def pipeline():
    show_env(tag="env").set_env_variable("GREETING", "hello").set_env_variable(
        "SPACED", "a b  c").set_display_name("Show the environment")
    show_env(tag="no-cache").set_caching_options(False)
    show_env(tag="resources-1").set_cpu_request("0.5").set_cpu_limit("1").set_memory_request(
        "256M").set_memory_limit("1G")
    show_env(tag="resources-2").set_cpu_limit("2").set_accelerator_type("NVIDIA_TESLA_T4").set_accelerator_limit(1)
