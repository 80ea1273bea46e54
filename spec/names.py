"""Names from the IR that become file or directory names: a pipeline's name, task keys, output names.

Each must be one path segment that cannot climb out of where it is placed: not empty, not `.` or `..`, no
`/`, `\\` or NUL, and short enough to be a file name with the suffixes added to it (a task directory is
`<task key>-<12 hex digits>`; most file systems allow 255 bytes).
"""

from __future__ import annotations

import posixpath

MAX_NAME_BYTES = 200


def path_segment_problem(name: str) -> str | None:
    """Why `name` cannot be used as one path segment, or None when it can."""
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f"{name!r} would name a directory, not a new entry in it"
    for character, described in (("/", "'/'"), ("\\", "'\\'"), ("\0", "a NUL character")):
        if character in name:
            return f"{_short(name)} holds {described}: it becomes a path and must not leave its directory"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        return f"{_short(name)} is {size} bytes long; a name that becomes a path has at most {MAX_NAME_BYTES}"
    return None


def _short(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:57] + "...")


def under_mount(relative: str) -> str | None:
    """`relative` (the part of a URI after its mount prefix) normalised, or None if it climbs out."""
    parts = relative.lstrip("/")
    normal = posixpath.normpath(parts) if parts else ""
    if normal == ".":
        return ""
    if normal == ".." or normal.startswith("../") or "\0" in normal:
        return None
    return normal
