"""`python -m launcher replay`: a recorded task runs again as a new execution linked to the original."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import COMPLETE, FAILED, Execution, RunView
from ledger.store import Ledger
from tests.cli import RunCli, run_cli
from tests.tiers import slow_fixture

RUN_ID = "recorded"


def record(package: Path, home: Path) -> RunView:
    completed = run_cli("driver", str(package), "--run-id", RUN_ID, home=home)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return read(home)


def read(home: Path) -> RunView:
    return Ledger(home).open_run(RUN_ID).view()


def replays_of(view: RunView, original: Execution) -> list[Execution]:
    return [e for e in view.executions.values() if e.properties.get("replay_of") == original.id]


def only(view: RunView, task_path: str, iteration: int | None = None) -> Execution:
    (found,) = [
        e
        for e in view.executions.values()
        if e.properties.get("task_path") == task_path
        and e.properties.get("parent_iteration_index") == iteration
        and "replay_of" not in e.properties
    ]
    return found


@pytest.fixture(scope="module")
@slow_fixture
def loop_home(compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("replay-loops")
    assert record(compile_pipeline("loop_condition"), home).state == COMPLETE
    return home


@pytest.fixture(scope="module")
@slow_fixture
def failed_home(compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("replay-failure")
    assert record(compile_pipeline("exit_failure"), home).state == FAILED
    return home


def test_replay_records_a_new_execution_linked_to_the_original(loop_home: Path, run_cli: RunCli) -> None:
    original = only(read(loop_home), "make-items")
    original_input = (Path(original.properties["task_dir"]) / "executor_input.json").read_text()

    completed = run_cli("launcher", "replay", "--run", RUN_ID, "--task", "make-items", home=loop_home)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Got executor_input" not in completed.stdout  # the executor's boilerplate stays in the log
    view = read(loop_home)
    (replayed,) = replays_of(view, original)
    assert "Got executor_input" in Path(replayed.properties["log"]).read_text()
    assert (replayed.state, replayed.type, replayed.task_name) == (
        COMPLETE,
        original.type,
        original.task_name,
    )
    assert replayed.parent_dag_id == original.parent_dag_id
    assert replayed.properties["outputs"] == original.properties["outputs"] == {"Output": [0, 1, 2]}
    assert replayed.properties["inputs"] == original.properties["inputs"]
    for name in ("task_dir", "task_root", "log"):
        assert replayed.properties[name] != original.properties[name]
    replay_input = json.loads((Path(replayed.properties["task_dir"]) / "executor_input.json").read_text())
    assert replay_input["inputs"] == json.loads(original_input)["inputs"]
    assert replayed.properties["task_root"] in replay_input["outputs"]["outputFile"]
    # The original's files are untouched, and the replay feeds no cache entry.
    assert (Path(original.properties["task_dir"]) / "executor_input.json").read_text() == original_input
    entries = Ledger(loop_home).lookup_cache("loop-condition", original.properties["cache_fingerprint"])
    assert [entry.execution_id for entry in entries] == [original.id]
    assert view.state == COMPLETE


def test_replay_of_a_failing_task_exits_1_and_records_it_failed(failed_home: Path, run_cli: RunCli) -> None:
    original = only(read(failed_home), "exit-handler-1/fail")

    completed = run_cli(
        "launcher", "replay", "--run", RUN_ID, "--task", "exit-handler-1/fail", home=failed_home
    )

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "[exit-handler-1/fail] ValueError: boom" in completed.stdout
    assert "FAILED" in completed.stderr
    view = read(failed_home)
    (replayed,) = replays_of(view, original)
    assert replayed.state == FAILED
    assert "ValueError: boom" in replayed.properties["error"]
    assert replayed.parent_dag_id == original.parent_dag_id
    assert view.state == FAILED


def test_replay_in_a_loop_asks_for_the_iteration(loop_home: Path, run_cli: RunCli) -> None:
    ambiguous = run_cli("launcher", "replay", "--run", RUN_ID, "--task", "square", home=loop_home)
    completed = run_cli(
        "launcher",
        "replay",
        "--run",
        RUN_ID,
        "--task",
        "for-loop-1/square",
        "--iteration",
        "2",
        home=loop_home,
    )

    assert ambiguous.returncode == 2
    assert "3 tasks match (square[0], square[1], square[2])" in ambiguous.stderr
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "[for-loop-1[2]/square] square of 2 is 4" in completed.stdout
    view = read(loop_home)
    (replayed,) = replays_of(view, only(view, "for-loop-1/square", iteration=2))
    assert replayed.properties["parent_iteration_index"] == 2
    assert (replayed.properties["inputs"], replayed.properties["outputs"]) == ({"x": 2}, {"Output": 4})


def test_replay_takes_an_execution_id(loop_home: Path, run_cli: RunCli) -> None:
    original = only(read(loop_home), "total")

    completed = run_cli(
        "launcher",
        "--home",
        str(loop_home),
        "replay",
        "--run",
        RUN_ID,
        "--task",
        str(original.id),
        home=loop_home,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    (replayed,) = replays_of(read(loop_home), original)
    assert replayed.properties["outputs"] == {"Output": 5}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", RUN_ID, "--task", "greet-2"], "no task 'greet-2' in the container tasks that ran"),
        (["--run", RUN_ID, "--task", "for-loop-1"], "no task 'for-loop-1' in the container tasks that ran"),
        (["--run", RUN_ID, "--task", "total", "--iteration", "4"], "ran in run recorded (iteration 4)"),
        (["--run", "missing", "--task", "total"], "no run 'missing'"),
    ],
)
def test_replay_refuses_what_it_cannot_replay(
    loop_home: Path, run_cli: RunCli, args: list[str], message: str
) -> None:
    before = len(read(loop_home).executions)

    completed = run_cli("launcher", "replay", *args, home=loop_home)

    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and message in completed.stderr, completed.stderr
    assert len(read(loop_home).executions) == before


def test_replay_without_a_ledger_creates_no_home(run_cli: RunCli, tmp_path: Path) -> None:
    completed = run_cli("launcher", "replay", "--run", RUN_ID, "--task", "total", home=tmp_path / "absent")

    assert completed.returncode == 2
    assert "no ledger" in completed.stderr
    assert not (tmp_path / "absent").exists()


def test_a_replay_does_not_stand_for_the_task_in_later_reads_of_the_run(
    compile_pipeline: Callable[[str], Path], failed_home: Path, run_cli: RunCli
) -> None:
    original = only(read(failed_home), "exit-handler-1/fail")
    assert (
        run_cli(
            "launcher", "replay", "--run", RUN_ID, "--task", str(original.id), home=failed_home
        ).returncode
        == 1
    )

    completed = run_cli(
        "driver",
        str(compile_pipeline("exit_failure")),
        "--explain",
        "--json",
        "--from-run",
        RUN_ID,
        "--task",
        "exit-handler-1/fail",
        home=failed_home,
    )

    assert completed.returncode == 0, completed.stderr
    (entry,) = json.loads(completed.stdout)["tasks"]
    assert entry["recorded"] == {"executionId": original.id, "state": FAILED}
