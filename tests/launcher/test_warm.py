"""launcher/warm: what keys a warm interpreter, where its socket lives, and how the fork server knows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.warm import client
from launcher.warm.server import MARKER


def test_a_warm_interpreter_is_keyed_by_what_python_reads_as_it_starts() -> None:
    env = {"PYTHONHASHSEED": "1", "LC_ALL": "C", "LANG": "C.UTF-8", "HOME": "/h", "TMPDIR": "/t", "X": "1"}

    assert client.startup_environment(env) == {
        "HOME": "/h",
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
        "PYTHONHASHSEED": "1",
    }


def test_the_runtime_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))

    directory = client.runtime_dir()

    assert directory == tmp_path / "lpl-warm"
    assert directory.stat().st_mode & 0o777 == 0o700


def test_a_runtime_directory_others_can_enter_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lpl-warm").mkdir(mode=0o755)
    os.chmod(tmp_path / "lpl-warm", 0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))

    with pytest.raises(OSError, match="not a private directory"):
        client.runtime_dir()


def test_the_fork_server_tells_a_warm_interpreter_by_its_command_line() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", MARKER])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "x"])
    try:
        assert client.is_warm_server(sleeper.pid)
        assert not client.is_warm_server(other.pid)
        assert not client.is_warm_server(os.getpid())
    finally:
        for process in (sleeper, other):
            process.kill()
            process.wait()


STOPPED_BEFORE_IT_SET_ITS_SIGNALS = """
import os, signal, sys
from launcher.warm import server
# As a keeper's fork inherits them: the stop signals ignored and blocked.
signal.pthread_sigmask(signal.SIG_BLOCK, server._STOP_SIGNALS)
for signum in server._STOP_SIGNALS:
    signal.signal(signum, signal.SIG_IGN)
os.kill(os.getpid(), signal.SIGTERM)  # the launcher's stop, before the component set its dispositions
print("still here", flush=True)
server._default_signals()
print("survived the stop", flush=True)
"""


def test_a_stop_sent_as_the_component_is_forked_ends_it_once_it_sets_its_signals() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", STOPPED_BEFORE_IT_SET_ITS_SIGNALS],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert ran.stdout == "still here\n", ran.stderr
    assert ran.returncode == -15


def test_starting_a_warm_interpreter_gives_back_the_callers_subreaper_state() -> None:
    # A launcher is a subreaper and stays one; a Ray worker is not and must not become one (it never reaps
    # the orphans that would then be handed to it). The interpreter started here exits at once: its driver
    # is gone.
    script = """
import subprocess, sys
from pathlib import Path
from launcher import process_tree
from launcher.warm import client
dead = subprocess.Popen(["true"]); dead.wait()
place = client._ServerPlace(env_dir=Path(sys.prefix), env={}, driver_pid=dead.pid)
seen = []
for before in (False, True):
    process_tree.become_subreaper(enable=before)
    place.start(ahead=False)
    seen.append(process_tree.is_subreaper())
print(seen, place.failed.exists())  # this run's other tasks start cold
place.failed.unlink()
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )

    assert ran.stdout.strip() == "[False, True] True", ran.stderr
