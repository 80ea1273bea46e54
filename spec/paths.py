"""Host paths that a pipeline file names (PVC names and sub-paths, output URIs), kept inside their root.

Every check runs on the resolved path: `..` elements and symlinks are followed first, so a sub-path that
climbs out, an absolute one, or a symlink a component left inside a volume all count as leaving it.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from spec.errors import PathEscapeError


def is_inside(path: str | Path, root: str | Path) -> bool:
    """Whether `path`, with `..` and symlinks resolved, is `root` or below it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip("/") + "/")


def contained(root: Path, relative: str, *, what: str) -> Path:
    """`root/relative` resolved; a `PathEscapeError` naming `what` when it would leave `root`."""
    target = Path(os.path.realpath(os.path.join(os.path.realpath(root), relative)))
    if not is_inside(target, root):
        raise PathEscapeError(relative, root=root, what=what)
    return target


def sub_path_problem(text: str) -> str | None:
    """Why `text` cannot be a volume's sub-path (Kubernetes' rule: relative, no `..` element), or None."""
    if posixpath.isabs(text):
        return "must be a relative path"
    if ".." in text.split("/"):
        return "must not contain '..'"
    return None


def mount_path_problem(text: str) -> str | None:
    """Why `text` cannot be a path a volume is mounted at in a container, or None."""
    if not posixpath.isabs(text):
        return "must be an absolute path"
    if ".." in text.split("/"):
        return "must not contain '..'"
    return None
