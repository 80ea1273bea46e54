"""Covers: `--runner docker` running each task in its own image: a container component whose tool exists
only in its image (`lpl-only-tool` in lpl-test/shell:1), the task's env vars, cpu and memory limits seen
from inside the container, and a lightweight Python component whose import (`tabulate`) exists only in its
base image (lpl-test/python:3.11, Debian's python3-tabulate). The images are built by scripts/test-images.

`image_tool` prints `PROBE {"tag": "tool", ...}` with the tool's words and the env var; `limits` prints the
container's cgroup cpu quota and memory limit; `tabulated` returns a table rendered by tabulate.
"""

from kfp import dsl
from kfp.dsl import OutputPath

SHELL_IMAGE = "lpl-test/shell:1"
PYTHON_IMAGE = "lpl-test/python:3.11"


@dsl.container_component
def image_tool(word: str, said: OutputPath(str)):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c"],
        args=[
            'out=$(lpl-only-tool "$0") && echo "PROBE {\\"tag\\": \\"tool\\", \\"out\\": \\"$out\\",'
            ' \\"greeting\\": \\"$GREETING\\"}" && mkdir -p "$(dirname "$1")" && printf %s "$out" > "$1"',
            word,
            said,
        ],
    )


# cgroup v1 paths first, then v2 (`cpu.max` is "QUOTA PERIOD"; "max" means no limit).
LIMITS_SCRIPT = """
q=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max)
p=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cut -d' ' -f2 /sys/fs/cgroup/cpu.max)
m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)
echo "PROBE {\\"tag\\": \\"limits\\", \\"quota\\": \\"$q\\", \\"period\\": \\"$p\\", \\"memory\\": \\"$m\\"}"
"""


@dsl.container_component
def limits():
    return dsl.ContainerSpec(image=SHELL_IMAGE, command=["sh", "-c"], args=[LIMITS_SCRIPT])


@dsl.component(base_image=PYTHON_IMAGE)
def tabulated(said: str) -> str:
    import json

    from tabulate import tabulate  # in the image only: the host runner's environment lacks it

    table = tabulate([[said]], headers=["said"], tablefmt="plain")
    print("PROBE " + json.dumps({"tag": "tabulated", "table": table}))
    return table


@dsl.pipeline(name="docker-images")
def pipeline(word: str = "hello", memory: str = "64Mi"):
    tool = image_tool(word=word)
    tool.set_env_variable("GREETING", "from-the-task")
    tool.set_caching_options(False)
    limited = limits()
    limited.set_cpu_limit("500m")
    limited.set_memory_limit(memory)  # from a pipeline input: a placeholder the driver resolves
    limited.set_caching_options(False)
    tabulated(said=tool.outputs["said"])
