"""Covers: path safety of what a component reports back. `write_output` is a container component run on the
host with /bin/sh that writes its Artifact output and its OutputPath, then an executor output (at
`PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER`) whose artifact entry depends on `mode`:

- `inside`: the provisioned URI (the control case, which must succeed);
- `uri`: `uri` set to `target`, an absolute path outside the run;
- `dotdot`: `uri` set to `<task root>/../../../<target>`, which climbs out of the run root by `..`;
- `symlink`: `uri` set to a symlink in the task root that points at `target`;
- `custom`: the data written at `target` instead, the provisioned `uri` kept and `customPath` set to `target`
  (what `Artifact.set_path` does: the launcher copies it to the URI, as the backend uploads it from there).
"""

from kfp import dsl
from kfp.dsl import Artifact, Output, OutputPath

WRITE_OUTPUT = r"""
mode="$1" target="$2" data="$3" note="$4" out="$5"
root="$(dirname "$data")"
mkdir -p "$root" "$(dirname "$note")" "$(dirname "$out")"
printf 'note' > "$note"
uri="$data" extra=""
case "$mode" in
  inside) printf 'data' > "$data" ;;
  uri) uri="$target" ;;
  dotdot) uri="$root/../../../$target" ;;
  symlink) ln -s "$target" "$root/escape" && uri="$root/escape" ;;
  custom) printf 'data' > "$target" && extra=",\"customPath\":\"$target\"" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
printf '{"artifacts":{"data":{"artifacts":[{"name":"data","uri":"%s"%s}]}}}' "$uri" "$extra" > "$out"
echo "reported $uri"
"""


@dsl.container_component
def write_output(mode: str, target: str, data: Output[Artifact], note: OutputPath(str)):
    return dsl.ContainerSpec(
        image="python:3.11",
        command=["sh", "-c", WRITE_OUTPUT, "write-output"],
        args=[mode, target, data.path, note, dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER],
    )


@dsl.pipeline(name="path-escapes")
def pipeline(mode: str = "inside", target: str = ""):
    write_output(mode=mode, target=target)
