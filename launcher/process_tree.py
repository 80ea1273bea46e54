"""A task attempt's processes, owned by whoever started them: found, stopped and reaped as one tree.

The launcher is a child subreaper (`PR_SET_CHILD_SUBREAPER`): whatever the component starts and leaves behind
(a `cmd &`, a daemon that double-forks out of its process group) becomes the launcher's child when its parent
exits, instead of init's, so the launcher can still find it. The task ends when its main process ends: what
is left of the tree is killed then, as a pod's remaining processes are when its container exits. The fork
server is a subreaper too, so the tree of a launcher killed outright (SIGKILL) is still found and killed.

Linux only; without /proc or prctl (elsewhere) only the component's process group is reached.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37


def become_subreaper(enable: bool = True) -> None:
    """Orphaned descendants of this process are re-parented to it, not to init (`enable=False`: no longer,
    for a process started to outlive this one)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, int(enable))


def is_subreaper() -> bool:
    """Whether orphaned descendants of this process are re-parented to it."""
    flag = ctypes.c_int(0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag))
    return bool(flag.value)


def _parents() -> dict[int, int]:
    """Every live process's parent, from /proc (the kernel here has no /proc/PID/task/TID/children)."""
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if fields[0] != b"Z":  # a zombie is dead already: it only waits to be reaped
                parents[int(entry)] = int(fields[1])
    return parents


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    return [child for child, parent in _parents().items() if parent == pid]


def descendants(pid: int, *, sparing: frozenset[int] = frozenset()) -> list[int]:
    """The live processes below `pid`, parents before their children; `sparing` and everything below them
    left out."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    queue = [child for child in children.get(pid, []) if child not in sparing]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(child for child in children.get(current, []) if child not in sparing)
    return found


def other_children() -> frozenset[int]:
    """The children this process has before it starts a component (none in a launcher, a fresh fork; a Ray
    worker's or a test's own): spared, with what they start, when the component's tree is stopped."""
    found: set[int] = set()
    # Each thread's children (Linux's proc "children" files): read, nothing reaped, no /proc scan.
    for listing in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.update(int(pid) for pid in listing.read_text().split())
    return frozenset(found)


def signal_tree(*, group: int | None, root: int, signum: int, spare: frozenset[int] = frozenset()) -> None:
    """Send `signum` to process group `group` and to every descendant of `root` but `spare` and theirs."""
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signum)
    for pid in descendants(root, sparing=spare):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def kill_tree(*, group: int | None, root: int, spare: frozenset[int] = frozenset()) -> None:
    """SIGKILL the group and the descendants of `root` (but `spare` and theirs), again until none is left.

    `root` is this process (a subreaper): when it has no child left, it has no descendant either, which
    spares the /proc scan in the common case of a component that left nothing behind."""
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    if root == os.getpid() and not spare and not _has_children():
        return
    for _ in range(50):  # a process may fork between the scan and the kill: scan again
        signal_tree(group=group, root=root, signum=signal.SIGKILL, spare=spare)
        reap_exited(sparing=spare)
        if not descendants(root, sparing=spare):
            return


def _has_children() -> bool:
    """Whether this process still has a child after collecting those that exited."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def reap_exited(*, sparing: frozenset[int] = frozenset()) -> None:
    """Collect every child that has exited (orphans handed to this subreaper included), without waiting;
    with `sparing`, only children not in it (the others are their owners' to collect)."""
    if sparing:
        me = os.getpid()
        for pid in [pid for pid, parent in _parents().items() if parent == me and pid not in sparing]:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        return
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
