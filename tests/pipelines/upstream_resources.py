"""Covers: resources taken from values known only at run time, in runs and in `--explain`: a cpu limit and
request from an upstream task's output, a memory limit and request from a pipeline parameter, an accelerator
type from a pipeline parameter and its count from an upstream output, a `dsl.TaskConfig` handed resources
from an upstream output, and a node selector (kfp-kubernetes `add_node_selector_json`) from an upstream
output.

`quota` (a shell container component) writes the cpu quantity and the accelerator count; `limits` prints its
container's cgroup cpu quota and memory limit as `PROBE {"tag": "limits", ...}` (meaningful under `--runner
docker`); `read_task_config` returns the resources its TaskConfig was handed; `accelerated` asks for an
accelerator (ignored on the host runner). Shell components use lpl-test/shell:1, the Python one
lpl-test/python:3.11 (scripts/test-images)."""

from kfp import dsl, kubernetes
from kfp.dsl import OutputPath

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings (the node selector) only into YAML
SHELL_IMAGE = "lpl-test/shell:1"
PYTHON_IMAGE = "lpl-test/python:3.11"

# cgroup v1 paths first, then v2 (`cpu.max` is "QUOTA PERIOD"; "max" means no limit).
LIMITS_SCRIPT = """
q=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max)
p=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cut -d' ' -f2 /sys/fs/cgroup/cpu.max)
m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)
echo "PROBE {\\"tag\\": \\"limits\\", \\"quota\\": \\"$q\\", \\"period\\": \\"$p\\", \\"memory\\": \\"$m\\"}"
"""


@dsl.container_component
def quota(cpu: OutputPath(str), count: OutputPath(str)):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c", 'mkdir -p "$(dirname "$0")" && printf 250m > "$0" && printf 1 > "$1"'],
        args=[cpu, count],
    )


@dsl.container_component
def limits():
    return dsl.ContainerSpec(image=SHELL_IMAGE, command=["sh", "-c"], args=[LIMITS_SCRIPT])


@dsl.container_component
def accelerated():
    return dsl.ContainerSpec(image=SHELL_IMAGE, command=["sh", "-c", "echo accelerated"])


@dsl.component(base_image=PYTHON_IMAGE)
def selector() -> dict:
    return {"disk": "ssd"}


@dsl.component(base_image=PYTHON_IMAGE, task_config_passthroughs=[dsl.TaskConfigField.RESOURCES])
def read_task_config(task_config: dsl.TaskConfig) -> str:
    import json

    print("PROBE " + json.dumps({"tag": "task-config", "resources": task_config.resources}))
    return json.dumps(task_config.resources, sort_keys=True)


@dsl.pipeline(name="upstream-resources")
def pipeline(memory: str = "96Mi", accelerator: str = "example.com/tpu"):
    cpu = quota().set_caching_options(False)
    limited = limits().set_caching_options(False)
    limited.set_cpu_limit(cpu.outputs["cpu"]).set_cpu_request(cpu.outputs["cpu"])
    limited.set_memory_limit(memory).set_memory_request(memory)
    kubernetes.add_node_selector_json(limited, selector().output)
    configured = read_task_config().set_caching_options(False)
    configured.set_cpu_limit(cpu.outputs["cpu"]).set_memory_limit(memory)
    accelerated().set_accelerator_type(accelerator).set_accelerator_limit(cpu.outputs["count"])
