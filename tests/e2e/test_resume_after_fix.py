"""`--resume RUN FILE` after a fix (tests/pipelines/resume_fix.py), as a user does it: the run fails in
`validate`; the user replays a task on the side, fixes the component, recompiles over the same file and
resumes. Unchanged tasks are kept, the fixed and the changed ones run from the file given, the rest runs; the
run ends with one row per task, no failure block, the replay not counted; resuming it again changes nothing.
A task still failing after repeated resumes has one row and one failure block."""

from __future__ import annotations

import importlib.util
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED
from tests.cli import run_cli
from tests.conftest import PIPELINES_DIR
from tests.e2e.finished_run import CompilePipeline

TASKS = ["prepare", "describe", "validate", "report"]


def _compile_fixed(target: Path) -> None:
    from kfp import compiler

    module_spec = importlib.util.spec_from_file_location("tests_pipelines_resume_fix_fixed",
                                                         PIPELINES_DIR / "resume_fix.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Compiling to JSON is deprecated", DeprecationWarning)
        compiler.Compiler().compile(module.make_pipeline(fixed=True), str(target))


@dataclass
class Session:
    home: Path
    package: Path
    first: str
    resumed: str
    journal_after_resume: bytes
    again: str
    again_status: int
    journal_after_again: bytes


def _summary_rows(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["TASK", "STATE"])
    rows = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        rows.append(line.split()[:2])
    return rows


@pytest.fixture(scope="module")
def session(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> Session:
    home = tmp_path_factory.mktemp("resume-fix")
    package = home.parent / "pipeline.json"
    shutil.copy(compile_pipeline("resume_fix"), package)
    first = run_cli("driver", str(package), "-p", "n=41", "--run-id", "fix-me", home=home)
    assert first.returncode == 1, first.stdout + first.stderr
    replay = run_cli("launcher", "replay", "--run", "last", "--task", "prepare", home=home)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    _compile_fixed(package)  # the user fixed the component and compiled over the same file
    resumed = run_cli("driver", "--resume", "last", str(package), home=home)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    journal = home / "ledger" / "runs" / "fix-me.jsonl"
    after_resume = journal.read_bytes()
    again = run_cli("driver", "--resume", "fix-me", home=home)
    return Session(home=home, package=package, first=first.stdout, resumed=resumed.stdout,
                   journal_after_resume=after_resume, again=again.stdout + again.stderr,
                   again_status=again.returncode, journal_after_again=journal.read_bytes())


def test_unchanged_tasks_are_kept_and_the_fixed_and_changed_ones_run_from_the_file(session: Session) -> None:
    assert "[validate] ValueError: bug: cannot validate 42" in session.first
    assert f"resuming: pipeline 'resume-fix' from {session.package}" in session.resumed
    assert "[lpl] prepare already COMPLETE" in session.resumed
    assert "[prepare] prepared" not in session.resumed
    assert "[validate] validated 42" in session.resumed  # the fixed code
    assert "[describe] describe v2" in session.resumed  # its definition changed: it ran again
    assert "[report] report 42 v2:42" in session.resumed  # never reached before the fix


def test_the_resumed_run_ends_with_one_row_per_task_and_no_failure(session: Session) -> None:
    assert _summary_rows(session.resumed) == [[task, COMPLETE] for task in TASKS]
    assert "failed task:" not in session.resumed
    runs = json.loads(run_cli("ledger", "runs", "--json", home=session.home).stdout)["runs"]
    assert runs[0]["state"] == COMPLETE
    assert runs[0]["task_counts"] == {COMPLETE: 4}  # neither the superseded FAILED nor the replay
    shown = run_cli("ledger", "show", "fix-me", home=session.home).stdout
    rows = [line.split()[:2] for line in shown.splitlines() if line.split()[:1] in ([t] for t in TASKS)]
    assert rows == [[task, COMPLETE] for task in TASKS], shown  # one line per task, the current execution
    assert FAILED not in shown


def test_resuming_a_finished_run_says_so_and_changes_nothing(session: Session) -> None:
    assert session.again_status == 0
    assert "already COMPLETE: nothing to resume" in session.again
    assert "prepare" not in session.again
    assert session.journal_after_again == session.journal_after_resume  # not even its duration


def test_repeated_resumes_of_a_still_failing_task_leave_one_row_and_one_failure_block(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = str(compile_pipeline("resume_fix"))
    assert run_cli("driver", package, "-p", "n=1", "--run-id", "stuck", home=lpl_home).returncode == 1
    for _ in range(2):
        resumed = run_cli("driver", "--resume", "stuck", package, home=lpl_home)
        assert resumed.returncode == 1
    rows = _summary_rows(resumed.stdout)
    assert rows == [["prepare", COMPLETE], ["describe", COMPLETE], ["validate", FAILED]]
    assert resumed.stdout.count("failed task: validate") == 1
    runs = json.loads(run_cli("ledger", "runs", "--json", home=lpl_home).stdout)["runs"]
    assert runs[0]["task_counts"] == {COMPLETE: 2, FAILED: 1}


def test_explain_from_the_run_shows_the_pipeline_it_last_ran(session: Session) -> None:
    explained = run_cli("driver", "--explain", "--from-run", "fix-me", "--task", "describe", "--json",
                        home=session.home)

    assert explained.returncode == 0, explained.stdout + explained.stderr
    assert "describe v2" in explained.stdout  # the fixed file's code, as the resume ran it
    assert "describe v1" not in explained.stdout
