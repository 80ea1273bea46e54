"""What runs on a Ray node for one task attempt: the host runner's work, inside one Ray task.

The environment is built on the node from the same install lines, in the node's own env cache; the
component runs as the host runner runs it; its output travels back as the items of a streaming generator:

    ("node", {"node_id", "address", "hostname"})   first: where Ray placed the attempt
    ("out", bytes)                                   output, a few lines at a time
    ("error", message)                               the attempt could not run (nothing of the node's own)
    ("exit", code)                                   last: the component's exit code

Outputs are written where the launcher reads them (the shared pipeline root and task directory); nothing
here touches the ledger. Imported by the Ray worker, so every node needs this package installed.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from launcher.environment import release_environments
from launcher.runners.base import Attempt, Started
from launcher.runners.host import HostRunner, HostStarted
from spec.errors import LplError

CHUNK_BYTES = 64 * 1024
STOP_GRACE_SECONDS = 8.0
DRAIN_SECONDS = 1.0  # output still arriving after the component ended (as the launcher allows)
# A failed exit is reported only once this worker has outlived its component by this long: see `_stream`.
FAILED_EXIT_GRACE_SECONDS = 2.0


def attempt_on_node(attempt: Attempt, shared: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """The Ray task's body (a generator); `shared` are the directories every node must see."""
    import ray

    yield "node", {
        "node_id": ray.get_runtime_context().get_node_id(),
        "address": ray.util.get_node_ip_address(),  # type: ignore[no-untyped-call]  # unannotated in Ray
        "hostname": socket.gethostname(),
    }
    missing = [path for path in shared if not os.path.isdir(path)]
    if missing:
        yield "error", (
            f"this Ray node does not see {missing[0]}: the pipeline root and the home must be one shared"
            " directory, mounted at the same path on every node"
        )
        return
    runner = HostRunner()
    log = io.BytesIO()
    try:
        prepared = runner.prepare(attempt, log=log)
    except LplError as exc:
        yield "out", log.getvalue()
        yield "error", str(exc)
        return
    if log.getvalue():
        yield "out", log.getvalue()  # the environment build's output
    if prepared.task is not None and prepared.task.driver_pid:
        # A warm interpreter lives as long as the process it is started for: on a node that is this Ray
        # worker (the driver may run on another machine), which Ray stops when the run's gateway leaves.
        prepared = prepared.but(task=replace(prepared.task, driver_pid=os.getpid()))
    try:
        started = runner.start(prepared)
    except LplError as exc:
        release_environments()
        yield "error", str(exc)
        return
    _watch(started)
    try:
        yield from _stream(started)
    finally:
        release_environments()  # a Ray worker outlives the attempt: the environment is free for prune again


# When a node's raylet dies its workers go, and each worker's component with it (it dies with its parent),
# but what the component started would be handed to init. A watchdog per attempt kills the component's
# process group once the worker is gone, and leaves when the group is empty. It is not the worker's child
# (it forks once and its first process exits): Ray kills an exiting worker's children before they can act.
_WATCHDOG = """
import os, signal, sys, time
group, worker = int(sys.argv[1]), int(sys.argv[2])
def started(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None
birth = started(worker)
if os.fork():
    os._exit(0)
while True:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        sys.exit(0)
    if started(worker) != birth:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(0)
    time.sleep(0.2)
"""


def _watch(started: Started) -> None:
    if isinstance(started, HostStarted):
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(started.child.pid), str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
            start_new_session=True,  # nor in the worker's session: Ray stops those too
        )


def _stream(started: Started) -> Iterator[tuple[str, Any]]:
    """Output chunks until it ends, then the exit code. As in the launcher, the output is read on a thread
    and the component's end is waited for on another: what it left behind may hold its output open."""
    lines: queue.Queue[bytes | None] = queue.Queue()
    reader = threading.Thread(target=_read_into, args=(started, lines), daemon=True)
    reader.start()
    codes: list[int] = []
    waiter = threading.Thread(target=lambda: codes.append(started.wait()), daemon=True)
    waiter.start()
    try:
        drain_until: float | None = None
        while True:
            chunk = _next_chunk(lines)
            if chunk is None:
                break
            if chunk:
                yield "out", chunk
            elif not waiter.is_alive():
                drain_until = drain_until or time.monotonic() + DRAIN_SECONDS
                if time.monotonic() > drain_until:
                    break
        waiter.join()
        if codes[0] != 0:
            # A node going down kills its processes in no set order: its component may die (a signal, or a
            # shell's 137) just before this worker does. Reported at once, that would read as the component's
            # failure; held for a moment, a lost node takes this worker too and the gateway says it was lost.
            time.sleep(FAILED_EXIT_GRACE_SECONDS)
        yield "exit", codes[0]
    except BaseException:  # Ray's cancellation (KeyboardInterrupt or TaskCancelledError): stop the component
        _stop(started, waiter)
        raise


def _read_into(started: Started, lines: queue.Queue[bytes | None]) -> None:
    try:
        for line in started.output():
            lines.put(line)
    finally:
        lines.put(None)


def _next_chunk(lines: queue.Queue[bytes | None]) -> bytes | None:
    """The lines available within a moment, joined (b"" when none came); None once the output ended.

    Short waits, not one long one: Ray's cancellation arrives as an exception raised between bytecodes."""
    try:
        first = lines.get(timeout=0.1)
    except queue.Empty:
        return b""
    if first is None:
        return None
    chunk = [first]
    size = len(first)
    while size < CHUNK_BYTES:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is None:
            lines.put(None)  # seen again by the next call, which then ends the stream
            break
        chunk.append(line)
        size += len(line)
    return b"".join(chunk)


def _stop(started: Started, waiter: threading.Thread) -> None:
    """SIGTERM, then SIGKILL after the runner's grace; wait for its end: the worker leaves nothing behind."""
    with contextlib.suppress(Exception):
        started.stop()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while waiter.is_alive() and time.monotonic() < deadline:
        waiter.join(0.1)
