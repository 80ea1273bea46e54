"""Files a user names on the command line (a pipeline, a parameters file, secret and config-map sources),
read only when they are regular files of a bounded size.

A FIFO, a device (`/dev/zero`), a socket or a file past its limit is refused before anything is read from
it: a source that never ends would otherwise hang the run (or fill the memory) before its first task.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_PIPELINE_BYTES = 256 * 2**20
MAX_PARAMS_BYTES = 64 * 2**20
MAX_SOURCE_BYTES = 16 * 2**20  # one secret or config-map file (Kubernetes allows 1 MiB per object)


class SourceError(OSError):
    """A named file that is not a regular file of a bounded size; `strerror` says why."""


def read_bounded(path: Path, *, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; a `SourceError` for anything else."""
    # O_NONBLOCK: opening a FIFO with no writer must not wait; a regular file ignores the flag.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        check_regular(os.fstat(descriptor), path=path, limit=limit)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:  # it grew while being read
        raise _too_big(path, limit)
    return data


def check_source(path: Path, *, limit: int) -> None:
    """`path` is a regular file within `limit`, or a directory whose visible entries all are."""
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        check_regular(info, path=path, limit=limit)
        return
    for entry in sorted(path.iterdir()):
        if not entry.name.startswith("."):
            check_regular(os.stat(entry), path=entry, limit=limit)


def check_regular(info: os.stat_result, *, path: Path, limit: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(22, f"is not a regular file (a {_kind(info.st_mode)})", str(path))
    if info.st_size > limit:
        raise _too_big(path, limit)


def _too_big(path: Path, limit: int) -> SourceError:
    return SourceError(27, f"is larger than {limit // 2**20} MiB", str(path))


def _kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "FIFO", stat.S_ISCHR: "character device", stat.S_ISBLK: "block device",
             stat.S_ISSOCK: "socket"}
    return next((name for test, name in kinds.items() if test(mode)), "special file")
