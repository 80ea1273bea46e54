"""Damage is never shown as emptiness (issue 15, item 6): a damaged or missing part of the store is named
with its file and line, the rest of the store stays readable, and a damaged cache partition is reported and
bypassed rather than stopping the run. Runs of tests/pipelines/hello.py and signals.py are damaged by hand."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from ledger.model import COMPLETE
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline, run_driver
from tests.e2e.test_signals import KILL_POINTS, StartedRun, started

__all__ = ["started"]


def _one_line(completed: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def two_runs(compile_pipeline: CompilePipeline, lpl_home: Path) -> Path:
    for run_id in ("kept", "damaged"):
        assert run_driver(compile_pipeline("hello"), home=lpl_home, run_id=run_id).returncode == 0
    return lpl_home


@pytest.mark.parametrize("damage", ["emptied", "headerless"])
def test_a_journal_without_its_header_is_named_not_shown_as_an_empty_run(
    run_cli: RunCli, two_runs: Path, damage: str
) -> None:
    journal = two_runs / "ledger" / "runs" / "damaged.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("" if damage == "emptied" else "".join(lines[1:]))

    _one_line(run_cli("ledger", "show", "damaged", home=two_runs), f"{journal}:1", "run header")
    _one_line(run_cli("driver", "--resume", "damaged", home=two_runs), f"{journal}:1")
    assert run_cli("ledger", "show", "kept", home=two_runs).returncode == 0


def test_one_damaged_unfinished_journal_leaves_every_other_run_listed(
    run_cli: RunCli, started: StartedRun
) -> None:
    started.wait_for("the held component", KILL_POINTS["while-the-component-runs"])
    assert started.stop(signal.SIGKILL) == -signal.SIGKILL  # unfinished: listed from its journal
    journal = started.home / "ledger" / "runs" / "stopped.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text(lines[0] + "{damaged\n" + "".join(lines[2:]))
    started.release.touch()

    listed = run_cli("ledger", "runs", "--json", home=started.home)

    assert listed.returncode == 2
    assert listed.stderr.strip().splitlines() == [
        f"python -m ledger: {journal}:2: ledger damaged: not a JSON record"
    ]
    [run] = json.loads(listed.stdout)["runs"]
    assert (run["run_id"], run["state"]) == ("stopped", "DAMAGED")


def test_a_damaged_cache_partition_is_reported_and_bypassed(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = compile_pipeline("hello")
    assert run_driver(package, home=lpl_home, run_id="first").returncode == 0
    assert run_driver(package, "--no-cache", home=lpl_home, run_id="second").returncode == 0
    [partition] = (lpl_home / "ledger" / "cache").glob("*/*.jsonl")
    first, *rest = partition.read_text().splitlines(keepends=True)
    partition.write_text("\x00\x00damaged\n" + first + "".join(rest))

    again = run_driver(package, home=lpl_home, run_id="third")

    assert again.returncode == 0, again.output
    assert again.execution("say-hello").state == COMPLETE
    assert f"{partition}:1: ledger damaged" in again.output and "cache bypassed" in again.output


def test_a_store_that_lost_its_header_is_reported_not_taken_for_an_empty_home(
    run_cli: RunCli, two_runs: Path, compile_pipeline: CompilePipeline
) -> None:
    header = two_runs / "ledger" / "store.json"
    header.unlink()

    _one_line(run_cli("ledger", "runs", home=two_runs), str(header), "store header missing")
    _one_line(run_cli("driver", "--resume", "kept", home=two_runs), "store header missing")
    _one_line(run_cli("driver", str(compile_pipeline("hello")), home=two_runs), "store header missing")
    assert not header.exists()
