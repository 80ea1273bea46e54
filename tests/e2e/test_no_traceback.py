"""Option and environment failures get one clear line, never a traceback, never a run left RUNNING (issue 15,
item 3): `--home`, `--workspace` or `--pipeline-root` naming a file (exit 2, nothing recorded); a home or a
pipeline root on a full disk during a run (one line, the run recorded FAILED where the ledger can still be
written, and `--resume` finishes it once there is room); an unreadable journal; `launcher replay` of a task
whose `executor_input.json` is damaged; `ledger report -o` into a directory. The input-file cases of item 3
(`1e999`, NaN, `.nan`, a 5,000-character task key) are in test_hostile_files.py and test_path_safety.py.

A full disk is a small tmpfs mounted in a private mount namespace (`unshare -m`), so nothing outside the
test's process tree sees it and it disappears with the namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED
from ledger.store import Ledger
from tests.cli import REPO_ROOT, RunCli
from tests.e2e.finished_run import CompilePipeline, run_driver
from tests.e2e.test_bad_input import assert_nothing_recorded


def _one_line(completed: subprocess.CompletedProcess[str], *, status: int) -> str:
    output = completed.stdout + completed.stderr
    assert completed.returncode == status, output
    assert "Traceback" not in output
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    return lines[0]


@pytest.mark.parametrize("option", ["--home", "--workspace", "--pipeline-root"])
def test_an_option_naming_a_file_where_a_directory_belongs_is_refused(
    run_cli: RunCli, compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, option: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    args = [str(compile_pipeline("hello")), option, str(a_file)]
    home = lpl_home if option != "--home" else tmp_path / "unused"

    completed = run_cli("driver", *args, home=home) if option != "--home" else _driver(*args)

    line = _one_line(completed, status=2)
    assert option in line and str(a_file) in line
    assert_nothing_recorded(lpl_home)


def _driver(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driver", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


# CI runs as root, where `unshare -m` works: there a missing namespace fails the tests instead of hiding them.
needs_mount_namespace = pytest.mark.skipif(
    os.environ.get("CI") != "true" and not _namespaces_available(),
    reason="a full disk is a tmpfs in a mount namespace (unshare -m)",
)

# Runs inside `unshare -m`: a 400 KB tmpfs on $1, the driver run (tests/pipelines/signals.py) with its home
# ($2) or pipeline root ($3) on it, filled up once the first task has started, then released.
FULL_DISK_SCRIPT = """
set -u
mount -t tmpfs -o size=400k tmpfs "$1"
"$PYTHON" -m driver "$PACKAGE" --home "$2" --pipeline-root "$3" --run-id full --no-cache \\
    -p release="$RELEASE" >"$OUT" 2>"$ERR" &
driver=$!
while [ ! -e "$RELEASE.started" ] && kill -0 $driver 2>/dev/null; do sleep 0.02; done
head -c 100000000 /dev/zero >"$1/filler" 2>/dev/null
touch "$RELEASE"
wait $driver
echo $? >"$STATUS"
rm -f "$1/filler"
"$PYTHON" -m ledger --home "$2" show full --json >"$SHOWN" 2>>"$ERR"
rm -f "$RELEASE.started"
"$PYTHON" -m driver --resume full --home "$2" >"$RESUMED" 2>&1
echo $? >>"$STATUS"
"$PYTHON" -m ledger --home "$2" show full --json >"$FINAL"
"""


@needs_mount_namespace
@pytest.mark.parametrize("full", ["home", "pipeline-root"])
def test_a_full_disk_during_a_run_is_one_line_and_a_resumable_failed_run(
    compile_pipeline: CompilePipeline, tmp_path: Path, full: str
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    home = disk / "home" if full == "home" else tmp_path / "home"
    root = disk / "root" if full == "pipeline-root" else tmp_path / "root"
    files = {name: tmp_path / name for name in ("OUT", "ERR", "STATUS", "SHOWN", "RESUMED", "FINAL")}
    env = {
        "PYTHON": sys.executable,
        "PACKAGE": str(compile_pipeline("signals")),
        "RELEASE": str(tmp_path / "release"),
        **{name: str(path) for name, path in files.items()},
    }
    subprocess.run(
        ["unshare", "-m", "sh", "-c", FULL_DISK_SCRIPT, "sh", str(disk), str(home), str(root)],
        cwd=REPO_ROOT, env={**_environ(), **env}, timeout=300, check=True,
    )

    console = files["OUT"].read_text() + files["ERR"].read_text()
    first, resumed = files["STATUS"].read_text().split()
    assert first == "1", console
    ours = [line for line in console.splitlines() if not line.startswith(("[step]", "[hold]", "  "))]
    assert not [line for line in ours if "Traceback" in line], console  # a component's own may be there
    shown = json.loads(files["SHOWN"].read_text())
    stopped = [line for line in console.splitlines() if line.startswith("error: run full stopped")]
    if full == "pipeline-root":  # the ledger has room: the task and the run are recorded FAILED
        assert shown["run"]["state"] == FAILED, console
        assert "No space left on device" in console
    else:  # the ledger's own write failed: one line, and the run recorded FAILED if the room left allowed it
        assert len(stopped) == 1, console
        assert "disk full" in stopped[0] or "No space left on device" in stopped[0]
        recorded = shown["run"]["state"] == FAILED
        assert ("recorded FAILED" in stopped[0]) == recorded, (stopped[0], shown["run"]["state"])
        assert recorded or "could not be recorded" in stopped[0]
    assert resumed == "0", files["RESUMED"].read_text()
    assert json.loads(files["FINAL"].read_text())["run"]["state"] == COMPLETE


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_an_unreadable_run_journal_is_one_line_and_the_other_runs_stay_readable(
    run_cli: RunCli, compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    for run_id in ("kept", "broken"):
        assert run_driver(compile_pipeline("hello"), home=lpl_home, run_id=run_id).returncode == 0
    journal = lpl_home / "ledger" / "runs" / "broken.jsonl"
    journal.unlink()
    journal.mkdir()  # unreadable as a file, whoever runs the test (root reads any file)

    line = _one_line(run_cli("ledger", "show", "broken", home=lpl_home), status=2)
    assert str(journal) in line

    assert run_cli("ledger", "show", "kept", home=lpl_home).returncode == 0
    listed = run_cli("ledger", "runs", "--json", home=lpl_home)
    assert {run["run_id"] for run in json.loads(listed.stdout)["runs"]} == {"kept", "broken"}
    assert "Traceback" not in listed.stderr  # the listing reads the index only: the finished run is there


def test_replay_of_a_task_whose_executor_input_is_damaged_is_one_line(
    run_cli: RunCli, compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("hello"), home=lpl_home, run_id="damaged")
    assert run.returncode == 0, run.output
    task_dir = Path(run.execution("say-hello").properties["task_dir"])
    (task_dir / "executor_input.json").write_text("{damaged")

    completed = run_cli("launcher", "replay", "--run", "damaged", "--task", "say-hello", home=lpl_home)

    assert str(task_dir) in _one_line(completed, status=2)


def test_a_report_written_into_a_directory_is_one_line(
    run_cli: RunCli, compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    assert run_driver(compile_pipeline("hello"), home=lpl_home, run_id="shown").returncode == 0

    completed = run_cli("ledger", "report", "shown", "-o", str(tmp_path), home=lpl_home)

    assert str(tmp_path) in _one_line(completed, status=2)


def test_a_cache_record_of_the_wrong_type_is_bypassed_with_one_warning(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = compile_pipeline("hello")
    assert run_driver(package, home=lpl_home, run_id="first").returncode == 0
    [partition] = (lpl_home / "ledger" / "cache").glob("*/*.jsonl")
    record = json.loads(partition.read_text())
    partition.write_text(json.dumps({**record, "execution_id": {"not": "an id"}}) + "\n")

    again = run_driver(package, home=lpl_home, run_id="second")

    assert again.returncode == 0, again.output
    assert "Traceback" not in again.output
    assert again.execution("say-hello").state == COMPLETE  # ran, not a cache hit
    assert f"{partition}:1" in again.output and "cache bypassed" in again.output
    assert Ledger(lpl_home).open_run("second").view().state == COMPLETE
