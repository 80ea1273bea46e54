"""The launcher's side of a warm start: find (or start) the warm interpreter of the task's environment, hand
it the attempt, and own the component it forks as the host runner owns a process it started itself.

One warm interpreter (`launcher/warm/server.py`) per cached environment, values of the variables Python reads
at start-up (`PYTHON*`, `LC_*`, `LANG`, `LANGUAGE`, `HOME`, `VIRTUAL_ENV`; and those numpy's libraries read)
and driver; its socket lives in a private runtime directory (`$XDG_RUNTIME_DIR/lpl-warm`, else
`/tmp/lpl-warm-UID`, mode 0700, ours). Whenever a warm start is not possible (no such program, the
interpreter cannot start, a variable it read differs), the attempt starts cold, as before.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from launcher import process_tree
from launcher.warm.server import _HEADER, BOOTSTRAP, MARKER
from spec.command import ExecutorProgram

__all__ = ["WarmStarted", "is_warm_server", "start_ahead", "start_warm"]

IDLE_SECONDS = 60.0
KILL_GRACE_SECONDS = 5.0
SERVER_START_SECONDS = 60.0
_SERVER_FILE = Path(__file__).with_name("server.py")
_STARTUP_NAMES = ("LANG", "LANGUAGE", "HOME", "VIRTUAL_ENV")
# Read with getenv as a preloaded library loads (server.HEAVY_MODULES: numpy's, OpenBLAS's, OpenMP's, MKL's).
_STARTUP_PREFIXES = ("PYTHON", "LC_", "NPY_", "NUMPY_", "OPENBLAS_", "GOTO", "OMP_", "MKL_", "KMP_")


def startup_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables Python reads as it starts (hash seed, paths, locale, flags), and those the preloaded
    libraries read as they load: a warm interpreter serves only the tasks whose values it started with."""
    return {
        name: value
        for name, value in sorted(env.items())
        if name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES
    }


def runtime_dir() -> Path:
    """The private directory of the warm interpreters' sockets: created 0700, refused unless ours alone."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    shared = Path(f"/tmp/lpl-warm-{os.getuid()}")
    directory = Path(base) / "lpl-warm" if base and os.path.isdir(base) else shared
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{directory} is not a private directory of this user")
    return directory


def is_warm_server(pid: int) -> bool:
    """Whether `pid` is a warm interpreter (which the fork server's orphan reaper leaves alone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            arguments = handle.read().split(b"\0")
    except OSError:
        return False
    return len(arguments) > 3 and arguments[3] == MARKER.encode()


def start_warm(
    program: ExecutorProgram, *, env_dir: Path, env: Mapping[str, str], cwd: Path, driver_pid: int
) -> WarmStarted | None:
    """The component forked by the environment's warm interpreter; None: start it cold."""
    try:
        if program.runtime_flag:  # as the program sets it: what the executor imports depends on it
            env = {**env, "_KFP_RUNTIME": "true"}
        connection = _connect(env_dir=env_dir, env=env, driver_pid=driver_pid)
        if connection is None:
            return None
        return _request(connection, program=program, env=env, cwd=cwd)
    except (OSError, ValueError):
        return None


def start_ahead(program: ExecutorProgram, *, env_dir: Path, env: Mapping[str, str], driver_pid: int) -> None:
    """Start the environment's warm interpreter for this driver now, unless it is already there (the
    fork server, for `spec.contracts.WarmAhead`). Started ahead, it imports the heavy modules at once instead
    of after its first fork: no component is waiting."""
    try:
        if program.runtime_flag:
            env = {**env, "_KFP_RUNTIME": "true"}
        server = _ServerPlace(env_dir=env_dir, env=env, driver_pid=driver_pid)
        with server.locked():
            if not server.path.exists() and not server.failed.exists():
                server.start(ahead=True)
    except OSError:
        return


def _connect(*, env_dir: Path, env: Mapping[str, str], driver_pid: int) -> socket.socket | None:
    server = _ServerPlace(env_dir=env_dir, env=env, driver_pid=driver_pid)
    connection = _try_connect(server.path)
    if connection is not None or server.failed.exists():
        return connection  # None after a warm interpreter failed to start: this run's tasks start cold
    with server.locked():  # one launcher starts it; the others wait and connect
        connection = _try_connect(server.path)
        if connection is None:
            server.start(ahead=False)
            connection = _try_connect(server.path)
    return connection


class _ServerPlace:
    """Where the warm interpreter of an environment, start-up variables and driver listens, and the lock
    under which one process starts it."""

    def __init__(self, *, env_dir: Path, env: Mapping[str, str], driver_pid: int) -> None:
        self.env_dir = env_dir
        self.env = env
        self.driver_pid = driver_pid
        self.key_env = startup_environment(env)
        identity = json.dumps([str(env_dir), self.key_env, env.get("_KFP_RUNTIME")])
        directory = runtime_dir()
        self.path = directory / f"{_digest(identity, driver_pid)}.sock"
        self.failed = self.path.with_suffix(".failed")
        # One lock per environment and start-up variables, whatever the driver: their number stays bounded.
        self.lock_path = directory / f"{_digest(identity)}.lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def start(self, *, ahead: bool) -> None:
        """Start the warm interpreter; it detaches once it listens. Not as our child's child: this process
        stops being a subreaper meanwhile (and is one again after, if it was), so the interpreter is handed to
        the fork server (which spares it) or init, never to a launcher's tree, which is killed when the
        attempt ends. One that cannot start (an old kfp, no pidfd) makes this run's tasks start cold, unless
        it was started ahead: a task's launcher then tries again itself."""
        lock = self.env_dir.parent / f"{self.env_dir.name}.lock"
        settings = [str(self.driver_pid), str(IDLE_SECONDS), json.dumps(self.key_env)]
        arguments = [str(self.path), str(lock), *settings]
        python = str(self.env_dir / "bin" / "python3")
        command = [python, "-c", BOOTSTRAP, MARKER, str(_SERVER_FILE), *arguments]
        subreaper = process_tree.is_subreaper()  # a launcher is; a Ray worker is not, and must stay so
        process_tree.become_subreaper(enable=False)
        try:
            started = subprocess.run(
                [*command, *(["ahead"] if ahead else [])],
                env=dict(self.env),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=SERVER_START_SECONDS,
                check=False,
            )
            if started.returncode != 0 and not ahead:
                self.failed.touch()
        finally:
            process_tree.become_subreaper(enable=subreaper)


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def _try_connect(path: Path) -> socket.socket | None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        return None
    return connection


def _request(
    connection: socket.socket, *, program: ExecutorProgram, env: Mapping[str, str], cwd: Path
) -> WarmStarted | None:
    body = json.dumps(
        {
            "source": program.source,
            "args": list(program.args),
            "env": dict(env),
            "cwd": str(cwd),
            "runtime_flag": program.runtime_flag,
        }
    ).encode()
    data = _HEADER.pack(len(body)) + body
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        sent = connection.sendmsg(
            [data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [write_end]))]
        )
        connection.sendall(data[sent:])
    finally:
        os.close(write_end)  # the component holds it now: the output ends when it (and its children) end
    answers = connection.makefile("rb")
    answer = answers.readline().decode().split()
    if len(answer) != 3 or answer[0] != "pid":
        os.close(read_end)
        connection.close()
        return None
    return WarmStarted(
        connection=connection, answers=answers, output_fd=read_end, pid=int(answer[1]), keeper=int(answer[2])
    )


class WarmStarted:
    """The component forked by a warm interpreter: its tree below its keeper."""

    def __init__(
        self, *, connection: socket.socket, answers: BinaryIO, output_fd: int, pid: int, keeper: int
    ) -> None:
        self.connection = connection
        self.answers = answers
        self.output_fd = output_fd
        self.pid = pid
        self.keeper = keeper

    def output(self) -> Iterator[bytes]:
        with os.fdopen(self.output_fd, "rb") as lines:
            yield from lines

    def wait(self) -> int:
        """Its exit code as the cold start's `sh -ec` would have ended: 128 + N for a death by signal N,
        unless the launcher stopped it (then -N, the shell having died of the same signal)."""
        line = self.answers.readline().decode().split()
        code = int(line[1]) if len(line) == 2 and line[0] == "exit" else -signal.SIGKILL
        self.connection.close()
        return code

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(b"stop\n")  # the keeper then reports a death by signal as a stop's
        self._signal(signal.SIGTERM)
        # A component that ignores SIGTERM must not hold its launcher (and the run) forever.
        timer = threading.Timer(KILL_GRACE_SECONDS, self._signal, args=(signal.SIGKILL,))
        timer.daemon = True
        timer.start()

    def _signal(self, signum: int) -> None:
        # Not by process group: the keeper leads it, as the cold start's shell does; every process of the
        # attempt is below the keeper (a subreaper), whatever session it moved to.
        process_tree.signal_tree(group=None, root=self.keeper, signum=signum, spare=frozenset({self.keeper}))
