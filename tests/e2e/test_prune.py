"""`python -m ledger prune` (tests/pipelines/hello.py): runs by count and by age, each with its journal, task
files and artifacts, saying what it frees; a dry run removes nothing; environments not used for a while go
from the cache (a task run marks its environment used), and the next run builds them again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ledger.store import Ledger
from tests.cli import REPO_ROOT, RunCli
from tests.e2e.finished_run import CompilePipeline

DAY = 86400.0


def _run(run_cli: RunCli, package: Path, home: Path, run_id: str, **kwargs: Path) -> None:
    completed = run_cli("driver", str(package), "--run-id", run_id, "-q", "--no-cache", home=home, **kwargs)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _prune(run_cli: RunCli, home: Path, *args: str, **kwargs: Path) -> dict[str, object]:
    completed = run_cli("ledger", "prune", *args, "--json", home=home, **kwargs)
    assert completed.returncode == 0, completed.stderr
    document: dict[str, object] = json.loads(completed.stdout)
    return document


def test_prune_runs_by_count_and_age(
    compile_pipeline: CompilePipeline, lpl_home: Path, run_cli: RunCli
) -> None:
    package = compile_pipeline("hello")
    for run_id in ("one", "two", "three"):
        _run(run_cli, package, lpl_home, run_id)
    one_dirs = [lpl_home / "runs" / "one", lpl_home / "pipeline_root" / "hello" / "one"]
    assert all(path.is_dir() for path in one_dirs)

    dry = _prune(run_cli, lpl_home, "--keep", "1", "--dry-run")
    assert [item["name"] for item in dry["removed"]] == ["two", "one"]  # type: ignore[index]
    assert all(path.is_dir() for path in one_dirs)

    assert _prune(run_cli, lpl_home, "--keep", "1", "--older-than", "1h")["removed"] == []  # all too young
    two_dirs = [lpl_home / "runs" / "two", lpl_home / "pipeline_root" / "hello" / "two"]
    on_disk = sum(_du(path) for path in [*one_dirs, *two_dirs])
    text = run_cli("ledger", "prune", "--keep", "1", home=lpl_home).stdout
    assert "removed run one (hello, COMPLETE" in text and "removed run two" in text
    last = text.splitlines()[-1]
    assert last.startswith("freed ") and last.endswith("2 run(s), 0 environment(s)")
    assert not any(path.exists() for path in one_dirs)
    freed = float(last.split()[1]) * {"B": 1, "kB": 1e3, "MB": 1e6}[last.split()[2].rstrip(":")]
    assert freed >= on_disk * 0.95, (freed, on_disk)  # what left the disk, as `du` counts it (journals too)
    assert sorted(p.name for p in (lpl_home / "ledger" / "runs").iterdir()) == [
        "three.jsonl", "three.lock", "three.tasks.lock"
    ]  # no lock file of a pruned run is left behind
    assert [run.run_id for run in Ledger(lpl_home).list_runs()] == ["three"]
    assert run_cli("ledger", "show", "one", home=lpl_home).returncode == 2

    removed = _prune(run_cli, lpl_home, "--older-than", "0s")["removed"]
    assert [item["name"] for item in removed] == ["three"]  # type: ignore[attr-defined]
    assert Ledger(lpl_home).list_runs() == []


def test_prune_environments_unused_for_a_while(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    package = compile_pipeline("hello")
    cache = tmp_path / "cache"
    _run(run_cli, package, lpl_home, "build", cache_home=cache)
    (env_dir,) = [path for path in (cache / "local-pipelines" / "envs").iterdir() if path.is_dir()]
    marker = env_dir / ".lpl-ready"
    month_ago = time.time() - 40 * DAY
    os.utime(marker, (month_ago, month_ago))
    _run(run_cli, package, lpl_home, "use", cache_home=cache)  # using it marks it used
    assert marker.stat().st_mtime > month_ago + DAY
    assert _prune(run_cli, lpl_home, "--envs-unused-for", "30d", cache_home=cache)["removed"] == []

    os.utime(marker, (month_ago, month_ago))
    pruned = _prune(run_cli, lpl_home, "--envs-unused-for", "30d", cache_home=cache)
    (item,) = pruned["removed"]  # type: ignore[misc]
    assert item["kind"] == "environment" and item["name"] == str(env_dir) and item["bytes"] > 1_000_000
    assert pruned["freed_bytes"] == item["bytes"]
    assert not env_dir.exists()
    _run(run_cli, package, lpl_home, "rebuilt", cache_home=cache)  # the next run builds it again


def test_prune_needs_to_be_told_what_to_remove(lpl_home: Path, run_cli: RunCli) -> None:
    completed = run_cli("ledger", "prune", home=lpl_home)
    assert completed.returncode == 2
    assert "--keep N, --older-than AGE and/or --envs-unused-for AGE" in completed.stderr
    assert run_cli("ledger", "prune", "--older-than", "soon", home=lpl_home).returncode == 2


def _du(path: Path) -> int:
    """Disk usage of a tree as `du -s --block-size=1` counts it."""
    return int(subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def test_prune_leaves_a_run_being_replayed_and_the_environment_it_runs_in(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    cache, release = tmp_path / "cache", tmp_path / "release"
    release.touch()  # the recorded run's `hold` ends at once; its replay waits for the file again
    recorded = run_cli("driver", str(compile_pipeline("signals")), "--run-id", "held",
                       "-p", f"release={release}", home=lpl_home, cache_home=cache)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    release.unlink()
    started = tmp_path / "release.started"
    started.unlink()
    replay = subprocess.Popen(
        [sys.executable, "-m", "launcher", "replay", "--home", str(lpl_home), "--run", "held",
         "--task", "hold"],
        cwd=REPO_ROOT, env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert replay.poll() is None and time.monotonic() < deadline, replay.communicate()
            time.sleep(0.02)

        busy = _prune(run_cli, lpl_home, "--keep", "0", "--envs-unused-for", "0s", cache_home=cache)

        assert busy["removed"] == [] and busy["kept_busy"] == ["held"], busy
        release.touch()
        _, err = replay.communicate(timeout=60)
        assert replay.returncode == 0 and "Traceback" not in err, err
    finally:
        release.touch()
        if replay.poll() is None:
            replay.kill()
    view = Ledger(lpl_home).open_run("held").view()  # whole, header and all
    assert view.header.run_id == "held" and len(view.executions) > 3
    idle = _prune(run_cli, lpl_home, "--keep", "0", "--envs-unused-for", "0s", cache_home=cache)
    assert sorted(item["kind"] for item in idle["removed"]) == ["environment", "run"], idle  # type: ignore[union-attr]


def test_prune_keeps_a_run_whose_outputs_a_running_run_took_from_the_cache(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    package = compile_pipeline("cache_reuse_hold")
    first_release = tmp_path / "first"
    first_release.touch()
    first = run_cli("driver", str(package), "--run-id", "first", "-p", f"release={first_release}",
                    home=lpl_home)
    assert first.returncode == 0, first.stdout + first.stderr
    release = tmp_path / "second"
    second = subprocess.Popen(
        [sys.executable, "-m", "driver", str(package), "--home", str(lpl_home), "--run-id", "second",
         "-p", f"release={release}"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not release.with_name("second.started").exists():
            assert second.poll() is None and time.monotonic() < deadline, second.communicate()
            time.sleep(0.02)

        pruned = _prune(run_cli, lpl_home, "--keep", "0")

        kept = pruned["kept_busy"]
        assert pruned["removed"] == [] and sorted(kept) == ["first", "second"], pruned  # type: ignore[arg-type]
        release.touch()
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 0, output
        assert "produce CACHED" in output and "Output='made once'" in output
    finally:
        release.touch()
        if second.poll() is None:
            second.kill()
    removed = _prune(run_cli, lpl_home, "--keep", "0")["removed"]
    assert [item["name"] for item in removed] == ["second", "first"]  # type: ignore[attr-defined]
