"""One environment per Python and install lines (issue 23): `python`, `python3`, the `lpl` command and a
second venv of the same base Python all run a pipeline's lightweight component in the same cached
environment, built once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from spec.command import base_interpreter
from tests.cli import REPO_ROOT
from tests.e2e.finished_run import CompilePipeline


def _second_venv(tmp_path: Path) -> Path:
    """A venv of the same base Python that sees this project and its dependencies (a `.pth` file, as a
    second project environment holding the same install would)."""
    venv = tmp_path / "second-venv"
    subprocess.run([base_interpreter(), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "this-project.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{REPO_ROOT}\n")
    return venv / "bin" / "python"


def test_every_spelling_of_one_python_shares_one_environment(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    package = str(compile_pipeline("hello"))
    bin_dir = Path(sys.executable).parent
    cache = tmp_path / "cache"
    commands = {
        "python": [str(bin_dir / "python"), "-m", "driver", package],
        "python3": [str(bin_dir / "python3"), "-m", "driver", package],
        "lpl": [str(bin_dir / "lpl"), "run", package],
        "second venv": [str(_second_venv(tmp_path)), "-m", "driver", package],
    }
    for name, command in commands.items():
        completed = subprocess.run(
            [*command, "--home", str(tmp_path / name.replace(" ", "-"))], cwd=tmp_path,
            env={**os.environ, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True, timeout=300,
        )
        assert completed.returncode == 0, (name, completed.stdout + completed.stderr)
        assert "Output='Hello, world!'" in completed.stdout, (name, completed.stdout)

    environments = [path for path in (cache / "local-pipelines" / "envs").iterdir() if path.is_dir()]
    assert len(environments) == 1, environments


def test_an_environment_build_is_said_once_and_quiet_silences_it(
    compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    package = str(compile_pipeline("hello"))
    cache = tmp_path / "cache"

    def run(home: str, *flags: str) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "driver", package, "--home", str(tmp_path / home), *flags], cwd=REPO_ROOT,
            env={**os.environ, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True, timeout=300,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        return completed.stdout

    quiet = run("quiet", "-q")
    assert "building the Python environment" not in quiet
    shutil.rmtree(cache)
    first, again = run("first"), run("again")
    building = [line for line in first.splitlines() if "building the Python environment" in line]
    assert len(building) == 1 and building[0].startswith("[say-hello] [launcher]"), first
    assert "kfp==" in building[0] and "environment ready in" in first
    assert "building the Python environment" not in again  # built once, reused


def test_a_long_install_step_is_said_to_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from launcher import environment

    monkeypatch.setattr(environment, "HEARTBEAT_SECONDS", 0.1)
    said: list[str] = []
    environment._run(["sleep", "0.35"], log=[], say=said.append)
    assert len(said) >= 2 and all(line.startswith("still installing (") for line in said), said
