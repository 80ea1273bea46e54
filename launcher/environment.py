"""Cached virtual environments for lightweight Python components, built once per set of install lines."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from launcher import legacy_paths
from spec.command import ENVIRONMENT_READY as READY
from spec.command import PythonPlan, base_interpreter, environment_dir, environment_root
from spec.errors import EnvironmentBuildError

# pip options that take a value, and how uv spells them (None: uv has no equivalent; drop it).
_VALUE_OPTIONS = {
    "--index-url": "--index-url",
    "-i": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--allow-insecure-host",
    "--find-links": "--find-links",
    "-f": "--find-links",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-r": "--requirement",
    "--requirement": "--requirement",
}
_DROPPED_FLAGS = {
    "--quiet",
    "-q",
    "--no-warn-script-location",
    "--disable-pip-version-check",
    "--user",
    "--no-cache-dir",
    "--upgrade",
    "-U",
    "--force-reinstall",
}


def cache_root() -> Path:
    return environment_root()


Say = Callable[[str], None] | None  # told how a build goes (launcher.runners.base.Progress.line)
HEARTBEAT_SECONDS = 10.0

# The environments this process runs in, each held by a shared lock until the process exits, so that
# `ledger prune --envs-unused-for` (which takes the lock exclusively) never removes one in use.
_IN_USE: list[int] = []


def ensure_environment(plan: PythonPlan, *, log: list[str], say: Say = None) -> Path:
    """The environment for `plan`, built under a lock the first time (no installer runs when it is ready),
    and held (shared) for the rest of this launcher's life. `say` hears, once per build, that it is being
    built and for which packages, how a long install goes, and when it is ready."""
    env_dir = environment_dir(plan)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(env_dir.parent / f"{plan.key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(lock, fcntl.LOCK_SH)
    if not _mark_used(env_dir):  # not built yet, or removed by prune before this lock was had
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env_dir / READY).exists():
            started = time.monotonic()
            _say(say, f"building the Python environment for {_packages(plan)} (once per Python and packages)")
            shutil.rmtree(env_dir, ignore_errors=True)
            _build(plan, env_dir, log=log, say=say)
            (env_dir / READY).write_text(json.dumps({"installs": plan.installs}) + "\n")
            _say(say, f"environment ready in {time.monotonic() - started:.1f}s")
        fcntl.flock(lock, fcntl.LOCK_SH)
    _IN_USE.append(lock)
    return env_dir


def release_environments() -> None:
    """Let go of the environments this process ran in (a long-lived Ray worker, between attempts)."""
    while _IN_USE:
        os.close(_IN_USE.pop())


def _mark_used(env_dir: Path) -> bool:
    """Whether the environment is ready; if so its ready marker's mtime becomes now, the time it was last
    used, which `python -m ledger prune --envs-unused-for AGE` goes by."""
    try:
        os.utime(env_dir / READY)
    except FileNotFoundError:
        return False
    except OSError:
        pass  # a read-only cache is still usable
    return True


def uv_binary() -> str | None:
    """uv on PATH, else the binary of the `uv` package; None means fall back to venv + pip."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def _say(say: Say, text: str) -> None:
    if say is not None:
        say(text)


def _packages(plan: PythonPlan) -> str:
    """What the install lines name, options left out: `kfp==2.17.3, numpy`."""
    named = [token for install in plan.installs for token in install if not token.startswith("-")]
    return ", ".join(dict.fromkeys(named)) or "its install lines"


def _build(plan: PythonPlan, env_dir: Path, *, log: list[str], say: Say = None) -> None:
    uv = uv_binary()
    python = str(env_dir / "bin" / "python")
    if uv is not None:
        _run([uv, "venv", "--quiet", "--python", base_interpreter(), str(env_dir)], log=log)
        for install in plan.installs:
            _run(
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    python,
                    *_uv_args(install),
                ],
                log=log,
                say=say,
            )
    else:
        _run([base_interpreter(), "-m", "venv", str(env_dir)], log=log)
        for install in plan.installs:
            _run(
                [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install],
                log=log,
                say=say,
            )
    _install_legacy_support(plan, env_dir, python=python, uv=uv, log=log)


def _install_legacy_support(
    plan: PythonPlan, env_dir: Path, *, python: str, uv: str | None, log: list[str]
) -> None:
    version = plan.kfp_version()
    if version is None or not legacy_paths.needs_local_path_shim(version):
        return
    if sys.version_info >= (3, 12):  # kfp < 2.5 imports distutils, which setuptools now provides
        installer = (
            [uv, "pip", "install", "--quiet", "--python", python] if uv else [python, "-m", "pip", "install"]
        )
        _run([*installer, "setuptools"], log=log)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    legacy_paths.install_local_path_shim(site)


def _uv_args(install: tuple[str, ...]) -> list[str]:
    args: list[str] = []
    items = iter(install)
    for token in items:
        if token in _DROPPED_FLAGS:
            continue
        if token in _VALUE_OPTIONS:
            args += [_VALUE_OPTIONS[token], next(items, "")]
        elif token.startswith("--trusted-host="):
            args.append("--allow-insecure-host=" + token.split("=", 1)[1])
        else:
            args.append(token)
    return args


def _run(argv: list[str], *, log: list[str], say: Say = None) -> None:
    """Run one build step; a step that takes long is said to be going on every HEARTBEAT_SECONDS."""
    log.append("$ " + shlex.join(argv))
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while True:
        try:
            output = process.communicate(timeout=HEARTBEAT_SECONDS)[0].strip()
            break
        except subprocess.TimeoutExpired:
            _say(say, f"still installing ({time.monotonic() - started:.0f}s): {shlex.join(argv[:3])} …")
    if output:
        log.append(output)
    if process.returncode != 0:
        raise EnvironmentBuildError(
            f"{shlex.join(argv[:3])} … failed (exit {process.returncode}): "
            f"{output.splitlines()[-1] if output else 'no output'}"
        )
