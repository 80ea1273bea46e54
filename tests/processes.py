"""Finding the processes a test started, by a token in their environment or command line, and waiting for
them (or given pids) to be gone: what the process-ownership tests (signals, process tree, warm starts) share.

A test puts a fresh token in the driver's environment under TOKEN_VARIABLE; every process of the run inherits
it (the launchers, the components, a warm interpreter started for the run)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.cli import REPO_ROOT

TOKEN_VARIABLE = "LPL_SIGNALS_TEST_TOKEN"
GONE_WITHIN = 5.0  # seconds for every process of a stopped run to be gone


def processes_with(token: str) -> list[str]:
    """Live processes (not zombies) whose environment or command line holds the token, as `PID: COMMAND`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            proc = Path("/proc") / entry
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            environ, cmdline = (proc / "environ").read_bytes(), (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if token.encode() in environ or token.encode() in cmdline:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry}: {command}")
    return found


def leftovers(token: str, *, within: float = GONE_WITHIN) -> list[str]:
    """What still runs `within` seconds from now (or nothing, as soon as nothing does)."""
    deadline = time.monotonic() + within
    while (found := processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def kill_leftovers(token: str) -> None:
    """Clean up after a failed test: the processes this test started, by their ids."""
    for line in processes_with(token):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after `seconds` (or none, as soon as none is)."""
    deadline = time.monotonic() + seconds
    while (running := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return running


@contextlib.contextmanager
def driver_in_background(
    *args: str, token: str, release: Path, console: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m driver ARGS` running with `token` in its environment (its output in `console`, else
    dropped). On leaving: `release` is touched (what the run's held component waits for), the driver killed if
    it still runs, and every process holding the token killed."""
    with open(console or os.devnull, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "driver", *args],
            cwd=REPO_ROOT,
            env={**os.environ, TOKEN_VARIABLE: token},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        release.touch()
        if process.poll() is None:
            process.kill()
            process.wait()
        kill_leftovers(token)
