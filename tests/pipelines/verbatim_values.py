"""Covers: a parameter value full of shell metacharacters reaches components verbatim and runs nothing: a
lightweight component (its value travels inside the ExecutorInput) and a container component run on the
host (its value is one argv word, alone and inside a string with the placeholder). The two `show_argv` tasks
see the same value, so caching is off for them: otherwise the second could be a hit on the first."""

from kfp import dsl

SHOW_ARGV = "import json, sys; print('PROBE ' + json.dumps({'tag': 'argv', 'argv': sys.argv[1:]}))"


@dsl.component(base_image="python:3.11")
def show_value(value: str) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "python", "value": value}))
    return value


@dsl.container_component
def show_argv(value: str):
    return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c", SHOW_ARGV],
                             args=[value, f"prefix:{value}"])


@dsl.pipeline(name="verbatim-values")
def pipeline(value: str):
    shown = show_value(value=value)
    show_argv(value=value).set_caching_options(False)
    show_argv(value=shown.output).set_display_name("from-an-output").set_caching_options(False)
