"""The installed commands: `lpl` and `python -m driver|ledger`, run from a user's project directory whose
own modules (`spec.py`, `launcher.py`) would shadow this project's packages if the directory came first."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

LPL = Path(sys.executable).parent / "lpl"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A user's project directory holding modules named like ours, each failing loudly when imported."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("spec", "launcher"):
        (project / f"{name}.py").write_text(f"raise SystemExit('the project has its own {name}.py')\n")
    return project


def _run(command: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _run_ids(completed: subprocess.CompletedProcess[str]) -> list[str]:
    assert completed.returncode == 0, completed.stderr
    return [run["run_id"] for run in json.loads(completed.stdout)["runs"]]


@pytest.mark.slow  # runs a pipeline
def test_python_m_driver_and_ledger_ignore_a_spec_py_in_the_working_directory(
    compile_pipeline: Callable[[str], Path], project_dir: Path, lpl_home: Path
) -> None:
    pipeline = compile_pipeline("hello")

    run = _run([sys.executable, "-m", "driver", str(pipeline), "--home", str(lpl_home), "--run-id", "r1"],
               cwd=project_dir)
    listed = _run([sys.executable, "-m", "ledger", "--home", str(lpl_home), "runs", "--json"],
                  cwd=project_dir)

    assert run.returncode == 0, run.stderr
    assert _run_ids(listed) == ["r1"]


@pytest.mark.slow  # runs a pipeline
def test_lpl_runs_the_driver_and_reads_the_ledger(
    compile_pipeline: Callable[[str], Path], project_dir: Path, lpl_home: Path
) -> None:
    pipeline = compile_pipeline("hello")

    run = _run([str(LPL), "run", str(pipeline), "--home", str(lpl_home), "--run-id", "r1", "-p", "name=lpl"],
               cwd=project_dir)
    listed = _run([str(LPL), "runs", "--home", str(lpl_home), "--json"], cwd=project_dir)
    shown = _run([str(LPL), "show", "r1", "--home", str(lpl_home)], cwd=project_dir)

    assert run.returncode == 0, run.stderr
    assert _run_ids(listed) == ["r1"]
    assert "Hello, lpl!" in shown.stdout
    unknown = _run([str(LPL), "show", "nope", "--home", str(lpl_home)], cwd=project_dir)
    assert unknown.returncode == 2 and unknown.stderr.startswith("lpl: no run 'nope'"), unknown.stderr


def test_lpl_without_a_command_prints_its_usage_and_exits_2(project_dir: Path) -> None:
    completed = _run([str(LPL)], cwd=project_dir)

    assert completed.returncode == 2
    assert "lpl run PIPELINE" in completed.stdout


@pytest.mark.slow  # runs a pipeline
def test_the_driver_starts_the_launcher_fork_server_before_its_heavy_imports(
    compile_pipeline: Callable[[str], Path], lpl_home: Path
) -> None:
    """The fork server's start-up (~90 ms) runs beside the driver's imports only if nothing heavy precedes
    it: `python -m driver` must not have imported asyncio or protobuf when it starts the server."""
    script = """
import json, sys
import driver.__main__ as entry
from driver.run import server_process

seen = []

class Recording(server_process.ServerProcess):
    @classmethod
    def start(cls, home, **options):
        seen.append(sorted(m for m in ("asyncio", "google.protobuf") if m in sys.modules))
        return super().start(home, **options)

server_process.ServerProcess = Recording
code = entry.main([sys.argv[1], "--home", sys.argv[2]])
print(json.dumps({"code": code, "seen": seen}))
"""
    completed = subprocess.run(
        [sys.executable, "-c", script, str(compile_pipeline("hello")), str(lpl_home)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result == {"code": 0, "seen": [[]]}, result


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--run-id", "x", "--execution-id", "1", "--task-dir", "{tmp}"],
         "--task-dir {tmp}: no task written there"),
        (["--serve", "99"], "--serve 99: not an open file descriptor"),
    ],
    ids=["no-task-files", "closed-control-fd"],
)
def test_the_launcher_started_by_hand_without_a_driver_says_why_in_one_line(
    tmp_path: Path, arguments: list[str], expected: str
) -> None:
    argv = [part.replace("{tmp}", str(tmp_path)) for part in arguments]
    completed = subprocess.run(
        [sys.executable, "-m", "launcher", "--home", str(tmp_path / "home"), *argv],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 2, completed.stderr
    [line] = completed.stderr.splitlines()
    assert line.startswith("error: python -m launcher: ") and expected.replace("{tmp}", str(tmp_path)) in line
    assert not (tmp_path / "home").exists()
