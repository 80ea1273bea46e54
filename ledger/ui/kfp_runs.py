"""Runs of the KFP REST API as drivers of the home: start `python -m driver` in a session of its own, reap it,
stop it with SIGINT (as Ctrl-C), resume it, and tell whether a driver still holds a run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import journal
from ledger.ui.kfp_store import ApiStore

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LOG_TAIL_BYTES = 4000


def python_module(module: str) -> list[str]:
    """`python -m MODULE`, safe from the working directory (as `driver.entry.python_module`, which the ledger
    package may not import: `-P` on 3.11+, `-c` with sys.path's first entry removed on 3.10)."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    run = f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", f"import runpy, sys; del sys.path[0]; {run}"]


def write_pipeline_file(
    home: Path, *, pipeline_spec: dict[str, Any], platform_spec: dict[str, Any] | None
) -> Path:
    """`<home>/pipelines/<name>-<digest>.json` (or `.yaml` with a second `platforms` document when the
    pipeline carries a platform spec): the file the driver runs, named by its content."""
    name = str((pipeline_spec.get("pipelineInfo") or {}).get("name") or "pipeline")
    safe = _NAME_UNSAFE.sub("-", name).strip("-.")[:80] or "pipeline"
    if platform_spec:
        import yaml  # only a pipeline with platform settings pays for it

        text = yaml.safe_dump_all([pipeline_spec, platform_spec], sort_keys=True)
        suffix = ".yaml"
    else:
        text, suffix = json.dumps(pipeline_spec, indent=2, sort_keys=True) + "\n", ".json"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = home / "pipelines" / f"{safe}-{digest}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(text)
        os.replace(temporary, path)
    return path


def parameter_arguments(parameters: dict[str, Any]) -> list[str]:
    """`-p name=value` per parameter: a string verbatim, anything else as JSON (the driver parses each by its
    declared type: numbers, `true`/`false`, lists and structs as JSON)."""
    arguments: list[str] = []
    for name, value in parameters.items():
        text = value if isinstance(value, str) else json.dumps(value)
        arguments += ["-p", f"{name}={text}"]
    return arguments


@dataclass(frozen=True)
class DriverStart:
    """What a new run's driver is started with."""

    run_id: str
    pipeline_file: Path
    run_name: str
    parameters: dict[str, Any]
    pipeline_root: str
    no_cache: bool


class Drivers:
    """The drivers this server started (a reaper thread waits for each), and probes of those it did not."""

    def __init__(self, home: Path, store: ApiStore) -> None:
        self.home = home
        self.store = store
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._guard = threading.Lock()

    def log_path(self, run_id: str) -> Path:
        return self.home / "api-runs" / f"{run_id}.log"

    def start(self, start: DriverStart) -> None:
        argv = [
            *python_module("driver"),
            str(start.pipeline_file),
            "--home",
            str(self.home),
            "--run-id",
            start.run_id,
            "--run-name",
            start.run_name,
            *parameter_arguments(start.parameters),
        ]
        if start.pipeline_root:
            argv += ["--pipeline-root", start.pipeline_root]
        if start.no_cache:
            argv.append("--no-cache")
        self._launch(start.run_id, argv)

    def resume(self, run_id: str) -> None:
        """`python -m driver --resume RUN`: completed tasks are kept, failed and stopped ones run again."""
        self._launch(run_id, [*python_module("driver"), "--resume", run_id, "--home", str(self.home)])

    def _launch(self, run_id: str, argv: list[str]) -> None:
        log = self.log_path(run_id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as output:
            output.write(f"$ {' '.join(argv)}\n".encode())
            output.flush()
            # A session of its own: Ctrl-C on the server reaches none of its runs, and terminate reaches the
            # driver and every process it started (launchers, components) through one process group.
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.home,
            )
        self.store.update("runs", run_id, {"pid": process.pid, "exit_code": None, "started": time.time()})
        with self._guard:
            self._processes[run_id] = process
        threading.Thread(
            target=self._reap, args=(run_id, process), daemon=True, name=f"reap-{run_id}"
        ).start()

    def _reap(self, run_id: str, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        with contextlib.suppress(Exception):  # a home removed under the server: nothing left to record
            self.store.update("runs", run_id, {"exit_code": code, "pid": None})
        with self._guard:
            if self._processes.get(run_id) is process:
                del self._processes[run_id]

    def running(self, run_id: str, record: dict[str, Any], *, recorded: bool = True) -> bool:
        """Whether a driver is at work on the run: one of ours still running, or (a run started by an earlier
        server or from a shell) a process holding the run's driver lock; before the driver recorded the run,
        its recorded pid alive."""
        with self._guard:
            process = self._processes.get(run_id)
        if process is not None:
            return process.poll() is None
        if holds_run_lock(self.home, run_id):
            return True
        pid = record.get("pid")
        return not recorded and isinstance(pid, int) and record.get("exit_code") is None and _pid_alive(pid)

    def interrupt(self, run_id: str, record: dict[str, Any]) -> bool:
        """SIGINT to the driver's process group, as Ctrl-C in its terminal; False when none is known."""
        pid = record.get("pid")
        if not isinstance(pid, int) or not self.running(run_id, record) or not _drives(pid, run_id):
            return False
        try:
            os.killpg(pid, signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    def log_tail(self, run_id: str) -> str:
        try:
            with open(self.log_path(run_id), "rb") as file:
                file.seek(max(0, file.seek(0, 2) - _LOG_TAIL_BYTES))
                return file.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return ""


def holds_run_lock(home: Path, run_id: str) -> bool:
    """Whether a driver holds `runs/<run_id>.lock` (an flock the kernel drops when the driver dies).

    Probing takes the lock for an instant when nobody holds it; a driver starting a `--resume` of the same run
    in that instant is refused as busy and can be started again.
    """
    path = home / "ledger" / "runs" / f"{run_id}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        return not journal.try_lock(fd)
    finally:
        os.close(fd)  # releases the probe's lock, if it took one


def _drives(pid: int, run_id: str) -> bool:
    """Whether process `pid` is a driver of the run (its command line names the run), so that a recorded pid
    the system has since given to another process is never signalled; True where /proc cannot tell."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return run_id.encode() in argv


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
