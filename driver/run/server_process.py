"""The launcher fork server's process, started before the driver imports anything heavy.

The server (`python -m launcher --serve FD`, launcher/forkserver.py) needs ~90 ms to import the launcher
before it can fork the first task's launcher. The driver starts it first thing, with nothing imported but
`subprocess`, so that this start-up overlaps with the driver's own imports and checks (asyncio, protobuf,
the spec: ~100 ms) instead of following them. `driver.run.launchers.ForkServer` speaks the protocol over it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from driver.entry import python_module


class ServerProcess:
    """A started fork server: the pipe its tasks go down, the pipe its answers come up."""

    def __init__(self, popen: subprocess.Popen[bytes], control_fd: int) -> None:
        self.popen = popen
        self.control_fd = control_fd
        self.used = False  # whether a task was ever sent

    @classmethod
    def start(cls, home: Path, *, runners: Iterable[str] = ()) -> ServerProcess:
        """`runners`: the runners besides the host's the run may use, imported by the server once."""
        control_read, control_write = os.pipe()
        preload = [argument for name in sorted(set(runners) - {"host"}) for argument in ("--preload", name)]
        popen = subprocess.Popen(
            [*python_module("launcher"), "--home", str(home), "--serve", str(control_write), *preload],
            stdin=subprocess.PIPE,
            pass_fds=(control_write,),
            start_new_session=True,
        )
        os.close(control_write)
        return cls(popen, control_read)

    def send(self, line: bytes) -> None:
        """One task line; OSError if the server is gone."""
        assert self.popen.stdin is not None
        self.used = True
        try:
            self.popen.stdin.write(line)
            self.popen.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise OSError("the launcher fork server is gone") from exc

    def wait(self) -> int:
        return self.popen.wait()

    def dismiss(self) -> None:
        """Stop accepting tasks; a server that never got one is stopped outright (it has done nothing)."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            if not self.used:
                self.popen.terminate()
            with contextlib.suppress(BrokenPipeError):
                self.popen.stdin.close()
        if not self.used and self.control_fd >= 0:
            self.popen.wait()
            with contextlib.suppress(OSError):
                os.close(self.control_fd)
            self.control_fd = -1  # a second dismiss must not close a descriptor opened since
