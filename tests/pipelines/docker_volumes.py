"""Covers: kfp-kubernetes settings on `--runner docker`: a named PVC (`mount_pvc`) shared by two tasks of a
run and kept across runs (`<home>/volumes/shared-data`), a secret as environment variables and as a volume
of key files, and an empty dir. All tasks use the busybox image lpl-test/shell:1 (scripts/test-images).

`writer` lists what the volume held before (a second run sees the first run's file) and writes
`<run_name>.txt`; `reader`, after it, prints what it finds; `secret_user` prints the secret's `user` key from
its variable and from its file, and writes into the empty dir; it also prints the mode of the key file.
"""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML
SHELL_IMAGE = "lpl-test/shell:1"
PROBE = 'echo "PROBE {\\"tag\\": \\"$0\\", \\"value\\": \\"$1\\"}"'


@dsl.container_component
def writer(run_name: str):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c"],
        args=[
            'before=$(ls /data | tr "\\n" " "); echo "written by $1" > "/data/$1.txt"; '
            + PROBE.replace("$1", "$before"),
            "before",
            run_name,
        ],
    )


@dsl.container_component
def reader(run_name: str):
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c"],
        args=['content=$(cat "/data/$1.txt"); ' + PROBE.replace("$1", "$content"), "read", run_name],
    )


@dsl.container_component
def secret_user():
    return dsl.ContainerSpec(
        image=SHELL_IMAGE,
        command=["sh", "-c"],
        args=[
            'echo scratch > /scratch/file && value="$CRED_USER/$(cat /secrets/user)/$(cat /scratch/file)"; '
            + PROBE.replace("$1", "$value")
            + '; modes="$(stat -L -c %a /secrets/user)"; '
            + PROBE.replace("$0", "modes").replace("$1", "$modes"),
            "secret",
        ],
    )


@dsl.pipeline(name="docker-volumes")
def pipeline(run_name: str):
    first = writer(run_name=run_name).set_caching_options(False)
    second = reader(run_name=run_name).after(first).set_caching_options(False)
    for task in (first, second):
        kubernetes.mount_pvc(task, pvc_name="shared-data", mount_path="/data")
    secret = secret_user().set_caching_options(False)
    kubernetes.use_secret_as_env(secret, secret_name="creds", secret_key_to_env={"user": "CRED_USER"})
    kubernetes.use_secret_as_volume(secret, secret_name="creds", mount_path="/secrets")
    kubernetes.empty_dir_mount(secret, volume_name="scratch", mount_path="/scratch")
