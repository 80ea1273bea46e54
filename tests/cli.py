"""Run one of the project's entry points (`python -m driver|launcher|ledger`) as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

REPO_ROOT = Path(__file__).resolve().parent.parent


class RunCli(Protocol):
    """The type of `run_cli`, for annotating the fixture of the same name."""

    def __call__(
        self,
        module: str,
        *args: str,
        home: Path,
        env: dict[str, str] | None = None,
        cache_home: Path | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]: ...


def run_cli(
    module: str,
    *args: str,
    home: Path,
    env: dict[str, str] | None = None,
    cache_home: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m <module> --home <home> <args...>` from the repository root; never raises on failure.

    `env` adds variables to this process's environment; `cache_home`, when given, becomes the child's
    `XDG_CACHE_HOME`, so by default the child reuses the environments cached in the user's cache directory.
    """
    child_env = {**os.environ, **(env or {})}
    if cache_home is not None:
        child_env["XDG_CACHE_HOME"] = str(cache_home)
    return subprocess.run(
        [sys.executable, "-m", module, "--home", str(home), *args],
        cwd=REPO_ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
