"""No container outlives its launcher: every container carries its launcher's identity in labels.

- A launcher that ends (or is stopped: SIGTERM, SIGINT, its driver killed) stops and removes its container.
- A launcher killed outright (SIGKILL) cannot: the fork server, which collects every launcher, removes the
  containers labelled with that launcher's pid as soon as it sees it die (`remove_containers_of`).
- Should both be gone at once, the next Docker attempt on this machine removes the containers of every
  launcher that no longer runs (`reap_orphans`) before it starts anything.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

LABEL_PREFIX = "io.local-pipelines."
HOST_LABEL = LABEL_PREFIX + "host"
PID_LABEL = LABEL_PREFIX + "launcher-pid"
START_LABEL = LABEL_PREFIX + "launcher-start"


def process_start(pid: int) -> str:
    """The start time of process `pid` (clock ticks since boot), so a reused pid is not taken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def launcher_labels() -> dict[str, str]:
    """The labels that tie a container to this launcher process."""
    pid = os.getpid()
    return {HOST_LABEL: socket.gethostname(), PID_LABEL: str(pid), START_LABEL: process_start(pid)}


def _alive(labels: dict[str, str]) -> bool:
    pid = labels.get(PID_LABEL, "")
    return pid.isdigit() and process_start(int(pid)) == labels.get(START_LABEL)


def reap_orphans(client: Any) -> list[str]:
    """Remove the containers of launchers on this machine that no longer run; their ids."""
    return _remove_dead(client, [f"{HOST_LABEL}={socket.gethostname()}"])


def _remove_dead(client: Any, selector: list[str]) -> list[str]:
    """Remove the containers matching the label selector whose launcher is gone; their ids."""
    removed = []
    # The low-level list: one call with the labels, no inspect per container to race with a removal.
    for container in client.api.containers(all=True, filters={"label": selector}):
        if not _alive(container.get("Labels") or {}):
            with contextlib.suppress(Exception):  # already gone, or being removed meanwhile
                client.api.remove_container(container["Id"], force=True)
                removed.append(str(container["Id"]))
    return removed


def remove_containers_of(pid: int) -> list[str]:
    """Remove the containers launcher `pid` (on this machine) started; called by the fork server when that
    launcher died without removing them itself (SIGKILL). Nothing is imported or asked when no Docker
    daemon is configured here."""
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return []
    removed: list[str] = []
    with contextlib.suppress(Exception):  # no daemon, or it went away: the next runner's reap catches up
        import docker

        client = docker.from_env(timeout=10)
        # _alive: a newer process that took the same pid keeps its containers.
        removed = _remove_dead(client, [f"{HOST_LABEL}={socket.gethostname()}", f"{PID_LABEL}={pid}"])
    return removed
