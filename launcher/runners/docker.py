"""The Docker runner (`--runner docker`): each attempt runs in its task's image, as on a cluster.

The launcher stays a host process; this runner starts the component in a container through the Docker
Engine API (the `docker` package): the compiled command as entrypoint and the args as command, the task's
variables, the pipeline root, the run's workspace and the task directory bind-mounted at their own absolute
paths (URIs and paths are the same as under the host runner), the task's cpu and memory limits as container
limits, and the kfp-kubernetes settings given their container meaning (PVCs as `<home>/volumes/<name>`,
secrets and config maps as variables and as read-only files, empty dirs as tmpfs). Containers run with no
network unless `--docker-network host`; a lightweight Python component runs in its image with the compiled
pip preamble already applied (docker_images.py). docker_guard.py makes sure no container outlives its
launcher.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from launcher.kubernetes_host import pod_facts
from launcher.runners.base import Attempt, Progress
from launcher.runners.docker_guard import LABEL_PREFIX, launcher_labels, reap_orphans
from launcher.runners.docker_images import ensure_image, python_image
from ledger import secret_files
from spec.errors import RunnerError
from spec.kubernetes import TaskKubernetes, VolumeMount, object_values, pvc_source, task_env

KILL_GRACE_SECONDS = 5
NETWORKS = ("none", "host")


def preload() -> None:
    """What every attempt imports: the Docker SDK (no client: a connection must not cross a fork)."""
    import docker
    import docker.errors
    import docker.types  # noqa: F401 - imported for the forks


def connect() -> Any:
    """A client of this machine's Docker daemon (DOCKER_HOST, else the local socket), or a RunnerError."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise RunnerError(
            f"cannot reach the Docker daemon ({str(exc).splitlines()[0][:200]}): start it (`dockerd`, or your"
            " Docker service) and check DOCKER_HOST, or run this task with --runner host"
        ) from exc
    return client


class DockerRunner:
    name = "docker"

    def __init__(self) -> None:
        self._client: Any = None
        self._scratch: list[str] = []  # private directories this attempt's mounts need (secret files)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    def prepare(self, attempt: Attempt, *, log: BinaryIO) -> Attempt:
        if not attempt.image:
            raise RunnerError("the task names no image: the Docker runner cannot run it (try --runner host)")
        reap_orphans(self.client)
        if attempt.home is not None:
            secret_files.remove_orphaned(attempt.home)
        progress = Progress.of(attempt, log=log)
        settings = _settings(attempt)
        base = ensure_image(
            self.client, attempt.image, pull_policy=settings.image_pull_policy, progress=progress
        )
        if attempt.python is None or not _has_preamble(attempt):
            return attempt
        tag = python_image(self.client, base, attempt.python, progress=progress)
        return attempt.but(image=tag, command=attempt.python.program, args=(), python=None)

    def start(self, attempt: Attempt) -> DockerStarted:
        import docker.errors

        try:
            config = self.container_config(attempt)
            container = self.client.containers.create(**config)
            container.start()
        except docker.errors.DockerException as exc:
            self._cleanup()
            raise RunnerError(f"cannot start a container from {attempt.image!r}: {_reason(exc)}") from exc
        except BaseException:  # a refused key or source: no key file outlives the attempt
            self._cleanup()
            raise
        return DockerStarted(container, cleanup=self._cleanup)

    def container_config(self, attempt: Attempt) -> dict[str, Any]:
        """The container the attempt runs in, as `containers.create` arguments (also what --explain shows)."""
        settings = _settings(attempt)
        network = str(attempt.options.get("docker_network") or "none")
        if network not in NETWORKS:
            raise RunnerError(f"--docker-network {network!r}: choose one of {', '.join(NETWORKS)}")
        volumes, tmpfs = self._volumes(attempt, settings)
        config: dict[str, Any] = {
            "image": attempt.image,
            "entrypoint": list(attempt.command) or None,
            "command": list(attempt.args),
            "environment": dict(attempt.env) | _kubernetes_env(attempt, settings) | {"PYTHONUNBUFFERED": "1"},
            "working_dir": str(attempt.cwd),
            "volumes": volumes,
            "tmpfs": tmpfs,
            "network_mode": network,
            "init": True,  # PID 1 forwards SIGTERM: `sh` as PID 1 would ignore it
            "labels": _labels(attempt, settings),
            **_resources(attempt),
        }
        if os.getuid() != 0:  # files the component writes into the run's directories stay the user's
            config["user"] = f"{os.getuid()}:{os.getgid()}"
        return config

    def _volumes(
        self, attempt: Attempt, settings: TaskKubernetes
    ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        volumes = {
            mount.source: {"bind": mount.target, "mode": "ro" if mount.read_only else "rw"}
            for mount in attempt.mounts
        }
        tmpfs: dict[str, str] = {}
        for volume in settings.volumes:
            if volume.kind == "empty dir":
                tmpfs[volume.mount_path] = ""
                continue
            source = self._volume_source(attempt, volume)
            if source is not None:
                volumes[source] = {"bind": volume.mount_path, "mode": "rw" if volume.kind == "pvc" else "ro"}
        return volumes, tmpfs

    def _volume_source(self, attempt: Attempt, volume: VolumeMount) -> str | None:
        if volume.kind == "pvc":
            if attempt.home is None:
                raise RunnerError("a PVC mount needs the launcher's home")
            directory = pvc_source(attempt.home, volume.name, volume.sub_path)
            directory.mkdir(parents=True, exist_ok=True)  # created on first use, kept across runs
            # Checked again once it exists: a symlink swapped in meanwhile must not lead the mount out.
            return str(pvc_source(attempt.home, volume.name, volume.sub_path))
        if volume.kind == "secret" or volume.kind == "config map":
            sources = attempt.task.local_sources.get(volume.kind, {}) if attempt.task else {}
            given = Path(sources[volume.name]) if volume.name in sources else None
            if given is not None and given.is_dir():
                return str(given.resolve())  # already one file per key, as Kubernetes mounts it
            values = object_values(volume.kind, volume.name, sources=sources, optional=volume.optional)
            if not values and volume.optional and given is None:
                return None
            if attempt.home is None:
                raise RunnerError(f"a {volume.kind} mount needs the launcher's home")
            directory = secret_files.write_key_files(attempt.home, values)
            self._scratch.append(str(directory))  # the container's user is this user (or root): 0700 will do
            return str(directory)
        return None

    def _cleanup(self) -> None:
        for directory in self._scratch:
            shutil.rmtree(directory, ignore_errors=True)
        self._scratch.clear()


def _settings(attempt: Attempt) -> TaskKubernetes:
    if attempt.task is None or not attempt.task.kubernetes:
        return TaskKubernetes()
    return TaskKubernetes.from_json(attempt.task.kubernetes)


def _kubernetes_env(attempt: Attempt, settings: TaskKubernetes) -> dict[str, str]:
    if attempt.task is None:
        return {}
    return task_env(settings, sources=attempt.task.local_sources, pod=pod_facts(attempt.task))


def _has_preamble(attempt: Attempt) -> bool:
    """The SDK's `sh -c '… pip install … && "$0" "$@"'`: without it the image is expected to hold kfp."""
    return (
        len(attempt.command) >= 3
        and attempt.command[:2] == ("sh", "-c")
        and "pip install" in attempt.command[2]
    )


def _labels(attempt: Attempt, settings: TaskKubernetes) -> dict[str, str]:
    labels = {LABEL_PREFIX + key: value for key, value in attempt.labels.items()}
    labels |= launcher_labels()
    labels |= {LABEL_PREFIX + "pod-label." + key: value for key, value in settings.labels.items()}
    labels |= {LABEL_PREFIX + "pod-annotation." + key: value for key, value in settings.annotations.items()}
    return labels


def _resources(attempt: Attempt) -> dict[str, Any]:
    resources = attempt.resources
    limits: dict[str, Any] = {}
    if resources.cpu_limit:
        limits["nano_cpus"] = int(resources.cpu_limit * 1e9)
    if resources.memory_limit:
        limits["mem_limit"] = resources.memory_limit
    if resources.accelerator_count:
        limits |= _accelerators(attempt)
    return limits


def _accelerators(attempt: Attempt) -> dict[str, Any]:
    import docker.types

    resources = attempt.resources
    if attempt.options.get("ignore_accelerators"):
        return {}
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        raise RunnerError(
            f"the task requests {resources.accelerator_count} accelerator(s) ({resources.accelerator_type})"
            " and this machine has no GPU Docker can use; run with --ignore-accelerators to run it without"
        )
    return {
        "device_requests": [
            docker.types.DeviceRequest(count=resources.accelerator_count, capabilities=[["gpu"]])
        ]
    }


def _reason(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class DockerStarted:
    """A running container: its output, its stop (SIGTERM, SIGKILL after a grace period), its exit code."""

    def __init__(self, container: Any, *, cleanup: Any) -> None:
        self.container = container
        self._cleanup = cleanup
        self._stopping = False

    def output(self) -> Iterator[bytes]:
        pending = b""
        with contextlib.suppress(Exception):  # the container removed under us ends the stream
            for chunk in self.container.logs(stream=True, follow=True, stdout=True, stderr=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line + b"\n"
        if pending:
            yield pending
        if _oom_killed(self.container):
            yield b"[launcher] the container was killed: out of memory (its memory limit)\n"

    def stop(self) -> None:
        # Called from a signal handler: the Engine API call goes to a thread, never inside the handler.
        if not self._stopping:
            self._stopping = True
            threading.Thread(target=self._stop, daemon=True).start()

    def _stop(self) -> None:
        with contextlib.suppress(Exception):
            self.container.stop(timeout=KILL_GRACE_SECONDS)

    def wait(self) -> int:
        try:
            return int(self.container.wait().get("StatusCode", -1))
        finally:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
            self._cleanup()


def _oom_killed(container: Any) -> bool:
    with contextlib.suppress(Exception):
        container.reload()
        return bool(container.attrs.get("State", {}).get("OOMKilled"))
    return False
