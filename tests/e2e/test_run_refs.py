"""Run references (tests/pipelines/hello.py): every command that takes a run id also takes a unique prefix of
one and `last`, the newest run; an ambiguous prefix is refused naming the candidates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import RunCli, run_cli
from tests.e2e.finished_run import CompilePipeline

RUNS = ("alpha-1", "alpha-2", "beta")


@pytest.fixture(scope="module")
def home(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("refs")
    package = str(compile_pipeline("hello"))
    for run_id, name in zip(RUNS, ("one", "two", "three"), strict=True):
        completed = run_cli(
            "driver", package, "--run-id", run_id, "-p", f"name={name}", "--no-cache", home=home
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return home


def _shown_run(run_cli: RunCli, home: Path, ref: str) -> str:
    completed = run_cli("ledger", "show", ref, "--json", home=home)
    assert completed.returncode == 0, completed.stderr
    return str(json.loads(completed.stdout)["run"]["run_id"])


@pytest.mark.parametrize(("ref", "run_id"), [("last", "beta"), ("alpha-2", "alpha-2"), ("b", "beta")])
def test_ledger_commands_take_last_and_prefixes(home: Path, run_cli: RunCli, ref: str, run_id: str) -> None:
    assert _shown_run(run_cli, home, ref) == run_id
    assert run_cli("ledger", "log", ref, "say-hello", home=home).returncode == 0


def test_an_ambiguous_prefix_is_refused_with_the_candidates(home: Path, run_cli: RunCli) -> None:
    completed = run_cli("ledger", "show", "alpha", home=home)
    assert completed.returncode == 2
    assert "ambiguous" in completed.stderr and "alpha-1" in completed.stderr and "alpha-2" in completed.stderr
    resumed = run_cli("driver", "--resume", "alpha", home=home)
    assert resumed.returncode == 2 and "ambiguous" in resumed.stderr


def test_explain_from_run_takes_a_prefix(
    home: Path, compile_pipeline: CompilePipeline, run_cli: RunCli
) -> None:
    package = str(compile_pipeline("hello"))
    completed = run_cli("driver", package, "--explain", "--from-run", "alpha-", home=home)
    assert completed.returncode == 2 and "ambiguous" in completed.stderr
    completed = run_cli("driver", package, "--explain", "--from-run", "be", "--json", home=home)
    assert completed.returncode == 0, completed.stderr
    assert "beta" in completed.stdout


def test_replay_takes_last(home: Path, run_cli: RunCli) -> None:
    completed = run_cli("launcher", "replay", "--run", "last", "--task", "say-hello", home=home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "of run beta" in completed.stderr
    assert "[say-hello] Hello, three!" in completed.stdout


def test_resume_takes_a_prefix(home: Path, run_cli: RunCli) -> None:
    completed = run_cli("driver", "--resume", "alpha-1", home=home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "alpha-1" in completed.stdout
    completed = run_cli("driver", "--resume", "nope", home=home)
    assert completed.returncode == 2 and "no run 'nope'" in completed.stderr
