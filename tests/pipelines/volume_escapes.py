"""Covers: PVC mounts that would leave `<home>/volumes` under `--runner docker`. `pipeline`: a first task
plants a symlink `out -> TARGET` inside the PVC, a second mounts the PVC's sub-path `out`: the sub-path
resolves outside the volume, so the second task fails and nothing is mounted. `with_sub_path(SUB_PATH)`: a
pipeline whose mount names a sub-path that climbs out (`../..`) or is absolute, refused when it is loaded.
All tasks use the busybox image lpl-test/shell:1 (scripts/test-images)."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML
SHELL_IMAGE = "lpl-test/shell:1"


@dsl.container_component
def plant_link(target: str):
    return dsl.ContainerSpec(image=SHELL_IMAGE, command=["sh", "-c"], args=['ln -s "$0" /data/out', target])


@dsl.container_component
def write_through(marker: str):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE, command=["sh", "-c"], args=['echo escaped > "/escaped/$0"', marker]
    )


@dsl.pipeline(name="volume-escapes")
def pipeline(target: str, marker: str):
    planted = plant_link(target=target).set_caching_options(False)
    kubernetes.mount_pvc(planted, pvc_name="probe", mount_path="/data")
    wrote = write_through(marker=marker).set_caching_options(False).after(planted)
    kubernetes.mount_pvc(wrote, pvc_name="probe", mount_path="/escaped", sub_path="out")


def with_sub_path(sub_path: str):
    @dsl.pipeline(name="volume-escapes")
    def escaping(marker: str):
        task = write_through(marker=marker).set_caching_options(False)
        kubernetes.mount_pvc(task, pvc_name="probe", mount_path="/escaped", sub_path=sub_path)

    return escaping
