"""No container outlives its launcher: every container carries its launcher's identity in labels, a
watchdog removes them the moment the launcher dies (even by SIGKILL), and each Docker runner removes what
dead launchers left behind before it starts anything.

The watchdog is a fork of the launcher in its own session, holding the read end of a pipe whose write end
only the launcher holds: when the launcher ends, however it ends, the read returns end-of-file and the
watchdog removes the launcher's labelled containers. A launcher that finished removes its own containers
first, so the watchdog then finds none.
"""

from __future__ import annotations

import contextlib
import os
import signal
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
    """Remove the containers of launchers on this machine that no longer run; their names."""
    removed = []
    filters = {"label": f"{HOST_LABEL}={socket.gethostname()}"}
    for container in client.containers.list(all=True, filters=filters):
        if not _alive(container.labels):
            with contextlib.suppress(Exception):  # already gone, or being removed by its watchdog
                container.remove(force=True)
                removed.append(container.name)
    return removed


class Watchdog:
    """Started once per launcher, before its first container exists."""

    def __init__(self) -> None:
        self._write_fd: int | None = None

    def ensure(self) -> None:
        if self._write_fd is not None:
            return
        read_fd, write_fd = os.pipe()
        labels = launcher_labels()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            _watch(read_fd, labels)
        os.close(read_fd)
        self._write_fd = write_fd


def _watch(read_fd: int, labels: dict[str, str]) -> None:
    code = 0
    try:
        os.setsid()  # not in the launcher's process group: a signal to that group does not reach it
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        os.closerange(3, read_fd)
        os.closerange(read_fd + 1, 65536)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        while os.read(read_fd, 1):
            pass
        _remove_labelled(labels)
    except BaseException:
        code = 1
    os._exit(code)


def _remove_labelled(labels: dict[str, str]) -> None:
    import docker

    client = docker.from_env()
    selector: list[str] = [f"{key}={value}" for key, value in labels.items()]
    filters: dict[str, str | list[str] | bool] = {"label": selector}
    for container in client.containers.list(all=True, filters=filters):
        with contextlib.suppress(Exception):
            container.remove(force=True)
