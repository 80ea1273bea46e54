"""A warm parent that forks one launcher process per task attempt, so no task pays Python's start-up.

Protocol: the driver writes one JSON task per line on the server's stdin; the server answers on a control
pipe (the descriptor given to `--serve`) with `started TOKEN PID` when it has forked the launcher for a task
and `exited PID CODE` when that launcher ends. End of stdin means no more tasks: the server exits once its
launchers have. Each forked launcher is its own session (its pid is its process group) and dies with the
server, which dies with the driver.
"""

from __future__ import annotations

import contextlib
import gc
import os
import selectors
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from launcher import process_tree
from launcher.runners import clean_after_launcher
from spec.contracts import LaunchRequest, WarmAhead, fork_server_request, warm_up
from spec.errors import LplError

WARM_EXIT_SECONDS = 1.0  # for a dismissed warm interpreter to remove its socket and exit


def serve(*, home: Path, control_fd: int, preload: tuple[str, ...] = ()) -> int:
    # Importing the launcher here, once, is the whole point: every fork starts with it loaded.
    from launcher.launch import die_with_parent, launch
    from launcher.runners import preload_runner, runner_named

    # The default runner too: the launch imports runners by name, and each fork would import this one
    # (subprocess, socket, the environment cache) again for every task. And the other runners the run
    # names (`--preload`: the Docker SDK costs a launcher ~100 ms).
    runner_named("host")
    for name in preload:
        with contextlib.suppress(ImportError, LplError):  # the launcher that needs it says why it cannot
            preload_runner(name)
    warm_up()
    die_with_parent()
    # A launcher killed outright leaves its component's processes to us, not to init: see `reap`.
    process_tree.become_subreaper()
    # Everything allocated so far is shared with every fork; frozen, the collector never touches (and so
    # never copies) those pages in the children.
    gc.freeze()
    control = os.fdopen(control_fd, "w", buffering=1)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # the wakeup fd needs a Python handler
    server = _Server(
        home=home, control=control, launch=launch, private_fds=(control_fd, wake_read, wake_write)
    )
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "task")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    while server.accepting or server.children:
        for key, _ in selector.select():
            if key.data == "task" and not server.read_tasks(sys.stdin.fileno()):
                selector.unregister(sys.stdin.fileno())
            elif key.data == "child":
                os.read(wake_read, 4096)
        server.reap()
    _dismiss_warm_interpreters()
    return 0


def _dismiss_warm_interpreters() -> None:
    """The run is over: the warm interpreters its launchers started (handed to us, a subreaper) go with it,
    before the driver exits, so that nothing of the run outlives it; SIGTERM first, to remove its socket."""
    from launcher.warm.client import is_warm_server

    warm = [pid for pid in process_tree.children_of(os.getpid()) if is_warm_server(pid)]
    for pid in warm:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + WARM_EXIT_SECONDS
    while warm and time.monotonic() < deadline:
        process_tree.reap_exited()
        warm = [pid for pid in warm if os.path.exists(f"/proc/{pid}")]
        if warm:
            time.sleep(0.005)
    process_tree.kill_tree(group=None, root=os.getpid())


class _Server:
    def __init__(self, *, home: Path, control: TextIO, launch: Any, private_fds: tuple[int, ...]) -> None:
        self.home = home
        self.control = control
        self.launch = launch
        self.private_fds = private_fds
        self.children: set[int] = set()  # launchers, whose exits the driver hears of
        self.helpers: set[int] = set()  # WarmAhead's, whose exits nobody waits for
        self.accepting = True
        self._buffer = b""

    def read_tasks(self, fd: int) -> bool:
        """Fork a launcher for every complete line read; False at end of input."""
        data = os.read(fd, 65536)
        if not data:
            self.accepting = False
            return False
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if not line.strip():
                continue
            request = fork_server_request(line)
            if isinstance(request, WarmAhead):
                self.helpers.add(self._fork_helper(request))
                continue
            pid = self._fork(request)
            self.children.add(pid)
            self.control.write(f"started {request.token} {pid}\n")
        return True

    def reap(self) -> None:
        """Collect exited launchers (and orphans handed to this subreaper); report each launcher's exit."""
        clean = True
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(status)
            if pid in self.helpers:
                self.helpers.discard(pid)
                continue
            launcher = pid in self.children
            if launcher:
                self.children.discard(pid)
                if code < 0:  # killed by a signal: what it started in an engine is still there
                    clean_after_launcher(pid)
                self.control.write(f"exited {pid} {code}\n")
            # A launcher that exits 0 has stopped its own tree; after anything else, look for leftovers.
            clean = clean and launcher and code == 0
        if not clean:
            self._kill_orphans()

    def _kill_orphans(self) -> None:
        """Processes re-parented to this subreaper belong to a launcher that died without stopping them
        (SIGKILL): no task owns them any more, so they go, with whatever they started. A warm interpreter
        handed to us by the launcher that started it stays: it serves the run's other launchers, and its
        per-attempt keepers stop a component whose launcher is gone (launcher/warm/server.py)."""
        from launcher.warm.client import is_warm_server

        for orphan in process_tree.children_of(os.getpid()):
            if orphan not in self.children and not is_warm_server(orphan):
                process_tree.signal_tree(group=None, root=orphan, signum=signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(orphan, signal.SIGKILL)

    def _fork(self, request: LaunchRequest) -> int:
        server_pid = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:
            self._become_launcher(server_pid)
            code = self.launch(
                home=self.home,
                run_id=request.run_id,
                execution_id=request.execution_id,
                task_dir=Path(request.task_dir),
                attempt=request.attempt,
                parent_pid=server_pid,
            )
        except (LplError, OSError) as exc:  # the store cannot be written (a full disk): one line
            print(f"[launcher] error: {exc}", file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _fork_helper(self, request: WarmAhead) -> int:
        server_pid = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        try:
            from launcher.runners.host import warm_ahead  # imported by `serve`, with the host runner

            self._become_launcher(server_pid)
            warm_ahead(request)
        except BaseException:  # best effort: the tasks start their warm interpreter themselves
            pass
        finally:
            os._exit(0)

    def _become_launcher(self, server_pid: int) -> None:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        for fd in self.private_fds:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
