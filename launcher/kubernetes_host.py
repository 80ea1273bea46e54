"""The host runner's meaning of a task's kfp-kubernetes settings: environment variables from secrets,
config maps and field paths; volumes refused, naming the runner that can mount them.

A process on the host shares the machine's file system: it cannot be given its own `/data` without root
and without writing outside the home, so a task that mounts anything (a PVC, a secret or config map as
files, an empty dir) fails with one line that says to use `--runner docker`, where the same settings
become real mounts (`<home>/volumes/<name>` for a PVC).
"""

from __future__ import annotations

import socket

from spec.contracts import LauncherTask
from spec.kubernetes import LocalSourceError, PodFacts, TaskKubernetes, task_env


def pod_facts(task: LauncherTask) -> PodFacts:
    """The pod the task would run in, as the downward API would describe it."""
    return PodFacts(
        name=f"{task.job_resource_name or task.run_id}-{task.task_key}",
        uid=task.task_uuid,
        node_name=socket.gethostname(),
    )


def host_environment(task: LauncherTask) -> dict[str, str]:
    """The variables the task's settings add on the host; LocalSourceError for what the host cannot do."""
    if not task.kubernetes:
        return {}
    settings = TaskKubernetes.from_json(task.kubernetes)
    if settings.volumes:
        volume = settings.volumes[0]
        raise LocalSourceError(
            f"the task mounts {volume.kind} {volume.name!r} at {volume.mount_path}: a process on the host "
            "cannot have its own mount there; run it with --runner docker"
        )
    return task_env(settings, sources=task.local_sources, pod=pod_facts(task))
