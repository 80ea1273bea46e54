"""Secret and config-map keys as files for a container mount, readable by this user only.

They live in `<home>/runtime/secrets/<launcher pid>-<random>/` (directory 0700, files 0600, never
world-readable), are removed when the attempt ends, and a directory whose launcher died without removing
it (SIGKILL) is removed by the next attempt of the home or by `ledger prune`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from spec.kubernetes import LocalSourceError

SECRETS_DIR = Path("runtime") / "secrets"


def write_key_files(home: Path, values: dict[str, str]) -> Path:
    """A new private directory holding one file per key; nothing is left behind when a key is refused."""
    for key in values:
        if "/" in key or key in ("", ".", ".."):
            raise LocalSourceError(f"key {key!r} cannot be a file name")
    parent = home / SECRETS_DIR
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))  # mode 0700
    try:
        for key, value in values.items():
            descriptor = os.open(directory / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(value)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory


def remove_orphaned(home: Path) -> list[Path]:
    """Remove the key directories of launchers that are gone; the directories removed."""
    parent = home / SECRETS_DIR
    removed = []
    for directory in sorted(parent.iterdir()) if parent.is_dir() else []:
        pid = directory.name.split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(directory)
    return removed


def _alive(pid: int) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 0)
        return True
    return False
