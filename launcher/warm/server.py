"""A warm interpreter for one cached environment: it has imported what every lightweight component imports,
and forks each attempt's component from there (issue 22, design decision 11).

It runs in the environment's own `bin/python3`, started by `launcher.warm.client` as

    python3 -c BOOTSTRAP lpl-warm-server SERVER_FILE SOCKET LOCK DRIVER_PID IDLE KEY_ENV_JSON

and imports nothing of this project but this file and `launcher/process_tree.py`, loaded by path and kept
out of `sys.modules` (the component must not see them). Per connection on its Unix socket it forks a
*keeper*: a subreaper that receives the request (the program's arguments, the task's environment and
working directory, and the launcher's output pipe by SCM_RIGHTS), forks the component, answers
`pid PID KEEPER_PID`, then `exit CODE` once the component ended and what it left behind was killed. The
keeper is the component's parent (what `os.getppid()` shows), the per-attempt process the cold start's
`sh -ec` stands for. When the launcher's end of the connection closes before the component ended (a killed
launcher) the keeper kills the component's tree. The server exits once the driver that started it is gone,
or after IDLE seconds with no attempt running.

In the forked component, `serve` returns a `Job` to the bootstrap, whose `run` redoes what a fresh
`python3 -m kfp.dsl.executor_main` would have: environment, working directory, `sys.argv`, `sys.path[0]`,
signal dispositions, random state, the program file in a fresh `mktemp -d` directory, then `runpy`. The
interpreter then ends as a fresh one would (atexit handlers, non-daemon threads, the exit status).
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import gc
import importlib.util
import io
import json
import os
import random
import runpy
import select
import signal
import socket
import string
import struct
import sys
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from types import ModuleType
from typing import Any

MARKER = "lpl-warm-server"  # its argv[1], by which the fork server's orphan reaper spares it
EXECUTOR_MODULE = "kfp.dsl.executor_main"
# What the executor imports as it runs a component (kfp 2.17: `shutil` and the compression modules it pulls
# in, `locale`), none of which reads the environment or holds random state as it is imported.
RUNTIME_MODULES = ("shutil", "locale", "bz2", "lzma", "zlib")
# Imported once the first attempt is forked, when the environment installs them. numpy: each component
# reseeds its global random state (`_reset_process`), its OpenBLAS pool is not inherited (OpenBLAS stops it
# around a fork; the component starts its own as a fresh one would), and the variables its libraries read
# with getenv as they load (OPENBLAS_*, OMP_*, ...) key the warm interpreter
# (`launcher.warm.client.startup_environment`).
HEAVY_MODULES = ("numpy", "numpy.random")
_HEADER = struct.Struct("!Q")
_FILE_BASE: type = io.IOBase.__mro__[1]  # `_io._IOBase`: a C type, checked fast against every object
_PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


class Job:
    """One component to run in this (forked) interpreter, as the compiled `sh -ec` program would: its
    module ("$0" of the program), what follows `--component_module_path FILE` ("$@"), its environment
    (`_KFP_RUNTIME=true` included when the program sets it) and working directory. (Not a dataclass: this
    module is loaded by path, outside `sys.modules`, where `dataclasses` cannot resolve its annotations.)"""

    def __init__(self, *, source: str, args: list[str], env: dict[str, str], cwd: str) -> None:
        self.source = source
        self.args = args
        self.env = env
        self.cwd = cwd

    def run(self) -> None:
        _reset_process(self.env, cwd=self.cwd)
        try:
            module_path = _write_program(self.source)
        except OSError as exc:  # as `sh -e` ends when `mktemp -d` fails (a TMPDIR that does not exist)
            message = f"mktemp: failed to create directory via template {exc.filename!r}: {exc.strerror}\n"
            os.write(2, message.encode())
            os._exit(1)
        argv = ["--component_module_path", module_path, *self.args]
        sys.argv = ["-m", *argv]  # runpy puts the module's path in argv[0], as `python -m` does
        with contextlib.suppress(AttributeError):
            sys.orig_argv = ["python3", "-m", EXECUTOR_MODULE, *argv]
        if not getattr(sys.flags, "safe_path", False):  # Python 3.11+
            sys.path[0] = os.getcwd()  # `-c` put "" there; `-m` puts the working directory
        interrupted = False
        try:
            runpy.run_module(EXECUTOR_MODULE, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = _system_exit_code(exc)
        except BaseException as exc:  # reported as the interpreter reports an uncaught one
            _print_uncaught(exc)
            code, interrupted = 1, isinstance(exc, KeyboardInterrupt)
        _end(code, interrupted=interrupted)


def _system_exit_code(exc: SystemExit) -> int:
    """The status a fresh interpreter exits with for an uncaught SystemExit (a non-integer is printed)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    _write_stderr(f"{exc.code}\n")
    return 1


def _print_uncaught(exc: BaseException) -> None:
    """As the interpreter prints an uncaught exception: `sys.last_*` set, `sys.excepthook` called, from the
    frame below this module's (the traceback starts where the executor's module starts)."""
    traceback = exc.__traceback__
    if traceback is not None and traceback.tb_frame.f_code.co_filename == __file__:
        traceback = traceback.tb_next
    exc = exc.with_traceback(traceback)
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, traceback
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    try:
        sys.excepthook(type(exc), exc, traceback)
    except BaseException as hook_error:  # the interpreter falls back to its own printer
        _write_stderr("Error in sys.excepthook:\n" + "".join(_format_exception(hook_error)))
        _write_stderr("\nOriginal exception was:\n" + "".join(_format_exception(exc)))


def _end(code: int, *, interrupted: bool) -> None:
    """End this forked interpreter as a fresh one ends (`Py_FinalizeEx`): non-daemon threads joined, atexit
    handlers run, standard streams flushed (a failure exits 120), unreachable objects collected; files the
    component opened and still holds are flushed, as a fresh interpreter's teardown of its modules would.
    That teardown itself is skipped (`os._exit`): it would write to nearly every page this process shares
    with the warm interpreter (measured: 2,000 page copies and 4-10 ms per task). An uncaught
    KeyboardInterrupt ends the process by SIGINT, as Python does."""
    threading: Any = sys.modules.get("threading")
    if threading is not None:
        _unraisable_on_error(threading._shutdown, threading)
    atexit: Any = sys.modules.get("atexit")
    if atexit is not None:
        atexit._run_exitfuncs()
    if not _flush_standard_streams():
        code = 120
    gc.collect()
    for found in gc.get_objects():  # objects created since the fork (the warm interpreter froze its own)
        if isinstance(found, _FILE_BASE) and found is not sys.stdout and found is not sys.stderr:
            stream: Any = found
            with contextlib.suppress(Exception):
                if not stream.closed:
                    stream.flush()
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 128 + signal.SIGINT
    os._exit(code)


def _flush_standard_streams() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None or getattr(stream, "closed", False):
            continue
        try:
            stream.flush()
        except Exception as exc:  # reported as the interpreter reports it, then exit 120
            ok = False
            if stream is sys.stdout:
                text = "".join(_format_exception(exc, frames=False))
                _write_stderr(f"Exception ignored in: {stream!r}\n{text}")
    return ok


def _unraisable_on_error(call: Callable[[], Any], owner: object) -> None:
    try:
        call()
    except Exception as exc:  # as PyErr_WriteUnraisable reports it
        _write_stderr(f"Exception ignored in: {owner!r}\n" + "".join(_format_exception(exc)))


def _format_exception(exc: BaseException, *, frames: bool = True) -> list[str]:
    import traceback  # only on this rare path, once the component has ended

    if not frames:  # raised by C code, which has no frames to show
        return traceback.format_exception_only(type(exc), exc)
    return traceback.format_exception(type(exc), exc, exc.__traceback__)


def _write_stderr(text: str) -> None:
    stream = sys.stderr
    try:
        if stream is None or stream.closed:
            raise OSError
        stream.write(text)
        stream.flush()
    except Exception:  # sys.stderr gone or broken: the descriptor, as the interpreter falls back
        with contextlib.suppress(OSError):
            os.write(2, text.encode(errors="backslashreplace"))


def _reset_process(env: Mapping[str, str], *, cwd: str) -> None:
    """What a fresh process would have: the task's environment (read by whatever the component imports),
    its working directory, default signal dispositions, its own random state and local time."""
    environ: MutableMapping[str, str] = os.environ
    environ.clear()
    environ.update(env)
    os.chdir(cwd)
    _default_signals()
    time.tzset()  # `time` read TZ when this interpreter started
    random.seed()  # forked interpreters share the state they inherited; a fresh one seeds from the OS
    numpy_random: Any = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()  # the global RandomState, from the OS as numpy seeds it on import
    tempfile: Any = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None  # read TMPDIR again


def _default_signals() -> None:
    """Dispositions as a fresh interpreter sets them: SIG_DFL but SIGINT (KeyboardInterrupt) and SIGPIPE,
    SIGXFSZ (ignored); nothing blocked."""
    for signum in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for ignored in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(ignored, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _write_program(source: str) -> str:
    """`program_path=$(mktemp -d); printf "%s" "$0" > "$program_path/ephemeral_component.py"`."""
    base = os.environ.get("TMPDIR") or "/tmp"
    letters = string.ascii_letters + string.digits
    while True:
        directory = os.path.join(base, "tmp." + "".join(random.SystemRandom().choices(letters, k=10)))
        try:
            os.mkdir(directory, 0o700)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, os.path.join(base, "tmp.XXXXXXXXXX")) from None
    path = os.path.join(directory, "ephemeral_component.py")
    with open(path, "wb") as handle:
        handle.write(os.fsencode(source))
    return path


# --- the server -------------------------------------------------------------------------------------------


class _Settings:
    def __init__(self, argv: list[str]) -> None:
        self.socket_path = argv[1]
        self.lock_path = argv[2]
        self.driver_pid = int(argv[3])
        self.idle_seconds = float(argv[4])
        self.key_env: dict[str, str] = json.loads(argv[5])
        # Started ahead of the run's first task (`client.start_ahead`): nobody waits, preload everything now.
        self.ahead = argv[6:7] == ["ahead"]


def serve(argv: list[str]) -> Job:
    """Preload, listen, detach; returns only in a forked component, with the job it runs."""
    settings = _Settings(argv)
    # Before the preload (which can take a while on a loaded machine): a driver already gone (killed as a
    # launcher started us) fails this start at once, and one that dies meanwhile is seen as soon as we listen.
    try:
        driver = os.pidfd_open(settings.driver_pid)
    except ProcessLookupError:
        sys.exit(1)  # the launcher's tasks start cold (it is being stopped too)
    read = _preload()
    coerced = os.environ.get("LC_CTYPE") if "LC_CTYPE" not in settings.key_env else None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(settings.socket_path)
    listener.bind(settings.socket_path)
    listener.listen(64)
    if os.fork():
        os._exit(0)  # the launcher that started us waits for this: the socket is ready
    os.setsid()
    for fd in (0, 1, 2):
        _to_devnull(fd)
    # Held shared while warm, as a launcher holds it: `ledger prune` does not remove an environment in use.
    lock = os.open(settings.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    _flock_shared(lock)
    tree = _process_tree()
    keeper = _Keeper(read=read, coerced_lc_ctype=coerced, tree=tree)
    # Dismissed (the fork server, at the end of the run): the socket goes with us. A keeper ignores SIGTERM.
    signal.signal(signal.SIGTERM, lambda signum, frame: _leave(settings.socket_path))
    connection = _accept_loop(
        listener, settings, driver, after_first=lambda: read.update(_preload_heavy()), now=settings.ahead
    )
    os.close(lock)
    if connection is None:
        sys.exit(0)
    return keeper.handle(connection)


def _accept_loop(
    listener: socket.socket,
    settings: _Settings,
    driver: int,
    *,
    after_first: Callable[[], None],
    now: bool,
) -> socket.socket | None:
    """Fork a keeper per connection; the keeper's connection in the keeper, None when it is time to go.
    `after_first` runs once the first keeper is forked (while its component runs, not before it), or with
    `now` as soon as no connection is waiting."""
    pending = [after_first]
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    poller.register(driver, select.POLLIN)
    keepers: set[int] = set()
    idle_since = time.monotonic()
    while True:
        events = dict(poller.poll(0 if now and pending else 1000))
        if now and pending and not events:
            pending.pop()()
            continue
        keepers -= _reaped()
        if driver in events:
            break
        if keepers:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > settings.idle_seconds:
            break
        if listener.fileno() in events:
            connection, _ = listener.accept()
            # Blocked across the fork: a signal meant for the keeper or the component it forks is held until
            # they set their own dispositions, not handled as this server's (a dismissal) or ignored.
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            pid = os.fork()
            if pid == 0:
                os.close(driver)
                listener.close()
                return connection
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            connection.close()
            keepers.add(pid)
            while pending:
                pending.pop()()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(settings.socket_path)
    listener.close()
    return None


def _leave(socket_path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(socket_path)
    os._exit(0)


def _reaped() -> set[int]:
    gone: set[int] = set()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return gone
        if pid == 0:
            return gone
        gone.add(pid)


class _Keeper:
    """One attempt: receive it, fork the component, relay its pid and exit status, clean up after it."""

    def __init__(
        self, *, read: dict[str, str | None], coerced_lc_ctype: str | None, tree: ModuleType
    ) -> None:
        self.read = read
        self.coerced_lc_ctype = coerced_lc_ctype
        self.tree = tree

    def handle(self, connection: socket.socket) -> Job:
        # The keeper stands where the cold start's `sh -ec` stands: the session and group leader, the
        # component's parent, a subreaper for what the component leaves behind.
        os.setsid()
        self.tree.become_subreaper()
        # A stop is for the component; the keeper reports it. Ignored, and still blocked (from the fork on):
        # the component inherits both, so a stop sent before it set its own dispositions stays pending
        # (Linux never discards a blocked signal) and ends it once it unblocks them (`_default_signals`).
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        request, output_fd = _receive(connection)
        env = self._environment(request)
        differing = sorted(name for name, value in self.read.items() if env.get(name) != value)
        if differing:  # something imported before the fork read them: only a fresh process sees the task's
            connection.sendall(f"cold {','.join(differing)}\n".encode())
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            _become_component(connection, output_fd)
            return Job(source=request["source"], args=request["args"], env=env, cwd=request["cwd"])
        connection.sendall(f"pid {pid} {os.getpid()}\n".encode())
        status, stopped = self._watch(connection, pid)
        code = os.waitstatus_to_exitcode(status)
        if code < 0 and not stopped:  # as `sh` reports a child's death by a signal it did not share
            code = 128 - code
            with contextlib.suppress(OSError):
                os.write(output_fd, _signal_message(status))
        os.close(output_fd)
        with contextlib.suppress(OSError):
            connection.sendall(f"exit {code}\n".encode())
        os._exit(0)

    def _environment(self, request: dict[str, Any]) -> dict[str, str]:
        env = dict(request["env"])
        if request["runtime_flag"]:
            env["_KFP_RUNTIME"] = "true"
        if self.coerced_lc_ctype is not None and "LC_CTYPE" not in env:
            env["LC_CTYPE"] = self.coerced_lc_ctype  # a fresh interpreter coerces the C locale the same way
        env.setdefault("PWD", request["cwd"])  # as `sh` exports it
        return env

    def _watch(self, connection: socket.socket, pid: int) -> tuple[int, bool]:
        """The component's wait status, and whether the launcher stopped it (it says `stop` first); its tree
        is killed once it ended, or once the launcher is gone."""
        component = os.pidfd_open(pid)
        poller = select.poll()
        poller.register(component, select.POLLIN)
        poller.register(connection.fileno(), select.POLLIN)
        stopped = False
        while True:
            events = dict(poller.poll())
            if component in events:
                break
            said = connection.recv(64)
            if said == b"":  # the launcher is gone: nobody owns this attempt any more
                self.tree.kill_tree(group=None, root=os.getpid())
                os._exit(0)
            stopped = stopped or b"stop" in said
        status = os.waitpid(pid, 0)[1]
        # The task ends when its main process ends: what it left running is killed now, as in a pod.
        self.tree.kill_tree(group=None, root=os.getpid())
        return status, stopped


def _signal_message(status: int) -> bytes:
    """What dash prints when its child dies by a signal (nothing for SIGINT and SIGPIPE)."""
    signum = os.WTERMSIG(status)
    if signum in (signal.SIGINT, signal.SIGPIPE):
        return b""
    text = signal.strsignal(signum) or f"Signal {signum}"
    return (text + (" (core dumped)" if os.WCOREDUMP(status) else "") + "\n").encode()


def _become_component(connection: socket.socket, output_fd: int) -> None:
    """In the forked component: the keeper's session and group, the launcher's pipe as stdout and stderr,
    /dev/null as stdin, no other descriptor, killed with its keeper."""
    connection.close()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _to_devnull(0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.closerange(3, 1 << 16)


def _receive(connection: socket.socket) -> tuple[dict[str, Any], int]:
    fds = array.array("i")
    data, ancillary, _, _ = connection.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    (length,) = _HEADER.unpack(data[: _HEADER.size])
    body = bytearray(data[_HEADER.size :])
    while len(body) < length:
        chunk = connection.recv(length - len(body))
        if not chunk:
            raise EOFError("the launcher closed the connection mid-request")
        body += chunk
    return json.loads(body), fds[0]


# --- preloading -------------------------------------------------------------------------------------------


def _preload() -> dict[str, str | None]:
    """Import what `python3 -m kfp.dsl.executor_main` imports (not the module itself: it runs as
    `__main__`, and runpy warns about a module already imported); the environment variables read meanwhile,
    with their values, which a forked component must share or start cold."""
    with _recording() as read:
        importlib.import_module(EXECUTOR_MODULE)
        for name in RUNTIME_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
    del sys.modules[EXECUTOR_MODULE]
    with contextlib.suppress(AttributeError):
        delattr(sys.modules["kfp.dsl"], "executor_main")
    # What is allocated so far is shared with every fork: frozen, the collector (and the interpreter's
    # finalization, half as long) leaves those pages alone instead of copying them into each component.
    gc.freeze()
    return read


def _preload_heavy() -> dict[str, str | None]:
    """The heavy modules of HEAVY_MODULES this environment installs, imported for the attempts after the
    first; the variables read meanwhile. One that fails to import leaves nothing of itself behind (a
    component importing it then fails as in a fresh process)."""
    with _recording() as read:
        for name in HEAVY_MODULES:
            if importlib.util.find_spec(name.partition(".")[0]) is None:
                continue
            before = set(sys.modules)
            try:
                importlib.import_module(name)
            except Exception:
                for added in set(sys.modules) - before:
                    del sys.modules[added]
    gc.freeze()
    return read


@contextlib.contextmanager
def _recording() -> Iterator[dict[str, str | None]]:
    """The environment variables read (through `os.environ`) within, with their values."""
    read: dict[str, str | None] = {}
    original = os._Environ.__getitem__

    def recorded(self: os._Environ[str], key: str) -> str:
        try:
            value = original(self, key)
        except KeyError:
            read[key] = None
            raise
        read[key] = value
        return value

    os._Environ.__getitem__ = recorded  # type: ignore[method-assign,assignment]  # recorded while importing
    try:
        yield read
    finally:
        os._Environ.__getitem__ = original  # type: ignore[method-assign]


def _process_tree() -> ModuleType:
    """`launcher/process_tree.py` beside this file's package, loaded by path and left out of sys.modules."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "process_tree.py")
    spec = importlib.util.spec_from_file_location("_lpl_process_tree", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flock_shared(fd: int) -> None:
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_SH)


def _to_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, fd)
    os.close(devnull)


BOOTSTRAP = (
    "import importlib.util as _u, sys as _s\n"
    "_p = _u.spec_from_file_location('_lpl_warm', _s.argv[2])\n"
    "_m = _u.module_from_spec(_p)\n"
    "_p.loader.exec_module(_m)\n"
    "_j = _m.serve(_s.argv[2:])\n"
    "del _u, _s, _p, _m\n"
    "_j.run()\n"
)
