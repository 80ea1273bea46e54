"""`python -m ledger` end to end, on runs `python -m driver` recorded from tests/pipelines/ledger_inspect.py.

Run `a` succeeds; run `b` changes the text and fails on purpose, with the loop's tasks taken from the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.tiers import slow_fixture


@pytest.fixture(scope="module")
@slow_fixture
def home(compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding runs `a` and `b` of the ledger_inspect pipeline."""
    home = tmp_path_factory.mktemp("ledger-cli")
    pipeline = str(compile_pipeline("ledger_inspect"))
    first = run_cli("driver", pipeline, "--run-id", "a", home=home)
    assert first.returncode == 0, first.stderr
    second = run_cli("driver", pipeline, "--run-id", "b", "-p", "text=bye", "-p", "fail_run=true", home=home)
    assert second.returncode == 1, second.stderr
    return home


def ledger(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("ledger", *args, home=home, timeout=60)


def ledger_json(home: Path, *args: str) -> Any:
    completed = ledger(home, *args, "--json")
    assert completed.returncode in (0, 1), completed.stderr
    return json.loads(completed.stdout)


def by_label(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {execution["label"]: execution for execution in document["executions"]}


def assert_one_line_error(completed: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in completed.stderr


def test_runs_lists_runs_newest_first_with_state_and_task_counts(home: Path) -> None:
    document = ledger_json(home, "runs")

    assert [(r["run_id"], r["pipeline_name"], r["state"]) for r in document["runs"]] == [
        ("b", "ledger-inspect", "FAILED"), ("a", "ledger-inspect", "COMPLETE")]
    run_a = document["runs"][1]
    assert run_a["task_counts"]["COMPLETE"] >= 4
    assert run_a["duration"] > 0 and run_a["created"].endswith("Z")
    assert document["runs"][0]["task_counts"]["FAILED"] >= 1
    text = ledger(home, "runs").stdout
    assert text.index("\nb ") < text.index("\na ")


def test_json_and_home_are_accepted_before_or_after_the_command(home: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ledger", "--json", "runs", "--home", str(home)],
        capture_output=True, text=True, check=False, timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert {r["run_id"] for r in json.loads(completed.stdout)["runs"]} == {"a", "b"}


def test_home_defaults_to_lpl_home(home: Path, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ledger", "runs"], cwd=tmp_path, env={**os.environ, "LPL_HOME": str(home)},
        capture_output=True, text=True, check=False, timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert "ledger-inspect" in completed.stdout


def test_show_json_lists_every_execution_with_states_values_and_artifacts(home: Path) -> None:
    document = ledger_json(home, "show", "a")

    assert document["run"]["run_id"] == "a"
    assert document["run"]["parameters"] == {"text": "hello", "fail_run": False}
    assert "pipeline_spec" not in document["run"]
    executions = by_label(document)
    for execution in document["executions"]:
        for key in ("id", "type", "task_name", "display_name", "state", "inputs", "outputs", "parent_dag_id",
                    "iteration_index", "attempts", "log", "error", "input_artifacts", "output_artifacts",
                    "start_time", "end_time", "duration"):
            assert key in execution, key
    write, read = executions["write-text"], executions["read-text"]
    assert (write["state"], write["inputs"]) == ("COMPLETE", {"text": "hello"})
    [data] = [a for a in write["output_artifacts"] if a["name"] == "data"]
    assert (data["type"], data["metadata"]) == ("system.Dataset", {"characters": 5})
    assert Path(data["uri"]).read_text() == "hello"
    assert [a["id"] for a in read["input_artifacts"]] == [data["id"]]
    assert read["outputs"] == {"Output": "hello"}
    assert read["attempts"][0]["exit_code"] == 0 and read["duration"] > 0


def test_show_labels_loop_iterations_with_their_index(home: Path) -> None:
    executions = by_label(ledger_json(home, "show", "a"))

    loop = next(label for label, e in executions.items() if e["kind"] == "loop")
    assert executions[f"{loop}[0]"]["iteration_index"] == 0
    assert executions[f"{loop}[0]/square"]["outputs"] == {"Output": 1}
    assert executions[f"{loop}[1]/square"]["outputs"] == {"Output": 4}
    text = ledger(home, "show", "a").stdout
    assert f"{loop}[1]/square" in text and "COMPLETE" in text and "Output=4" in text


def test_show_of_the_failed_run_gives_the_error_and_the_cache_hits(home: Path) -> None:
    executions = by_label(ledger_json(home, "show", "b"))

    [failed] = [e for e in executions.values() if e["task_name"] == "fail"]
    assert failed["state"] == "FAILED"
    assert "asked to fail" in failed["error"]
    assert failed["attempts"][-1]["exit_code"] != 0
    cached = [e for e in executions.values() if e["task_name"] == "square"]
    assert {e["state"] for e in cached} == {"CACHED"}
    assert all(e["cached_execution_id"] is not None for e in cached)


def test_execution_shows_the_executor_input_the_task_received(home: Path) -> None:
    document = ledger_json(home, "execution", "a", "read-text")

    assert document["task_name"] == "read-text"
    artifacts = document["executor_input"]["inputs"]["artifacts"]["data"]["artifacts"]
    assert artifacts[0]["uri"].endswith("/data")
    assert Path(document["executor_input_path"]).name == "executor_input.json"
    text = ledger(home, "exec", "a", str(document["id"])).stdout
    assert "ExecutorInput" in text and '"outputFile"' in text


def test_log_prints_the_task_log_found_by_label_path_or_id(home: Path) -> None:
    show = by_label(ledger_json(home, "show", "a"))
    loop = next(label for label, e in show.items() if e["kind"] == "loop")

    assert "square of 2" in ledger(home, "log", "a", f"{loop}[1]/square").stdout
    assert "square of 1" in ledger(home, "log", "a", f"{loop}/square[0]").stdout  # as the console names it
    assert "square of 1" in ledger(home, "log", "a", str(show[f"{loop}[0]/square"]["id"])).stdout
    failed = ledger(home, "log", "b", "fail")
    assert failed.returncode == 0 and "RuntimeError: asked to fail" in failed.stdout


def test_log_of_a_cache_hit_is_the_log_of_the_execution_it_reused(home: Path) -> None:
    loop = next(e["label"] for e in ledger_json(home, "show", "b")["executions"] if e["kind"] == "loop")

    assert "square of 2" in ledger(home, "log", "b", f"{loop}[1]/square").stdout


def test_a_task_key_that_names_several_iterations_is_ambiguous(home: Path) -> None:
    assert_one_line_error(ledger(home, "log", "a", "square"), "ambiguous", "square[0]", "square[1]")


def test_diff_reports_changed_values_states_and_tasks_only_in_one_run(home: Path) -> None:
    completed = ledger(home, "diff", "a", "b", "--json")
    document = json.loads(completed.stdout)

    assert completed.returncode == 1
    changed = {entry["task"]: entry["fields"] for entry in document["changed"]}
    assert changed["write-text"]["inputs"] == {"a": {"text": "hello"}, "b": {"text": "bye"}}
    assert "cache_fingerprint" in changed["write-text"]
    assert changed["read-text"]["outputs"] == {"a": {"Output": "hello"}, "b": {"Output": "bye"}}
    assert [e for e in changed if e.endswith("/square")] and all(
        changed[e] == {"state": {"a": "COMPLETE", "b": "CACHED"}} for e in changed if e.endswith("/square"))
    assert [label.endswith("/fail") for label in document["only_in_b"]] == [True]
    assert document["only_in_a"] == []
    text = ledger(home, "diff", "a", "b").stdout
    assert "inputs.text: hello -> bye" in text


def test_diff_of_a_run_with_itself_finds_nothing(home: Path) -> None:
    completed = ledger(home, "diff", "a", "a", "--json")

    assert completed.returncode == 0
    assert json.loads(completed.stdout)["changed"] == []


def test_an_unknown_run_is_one_line_and_exit_2(home: Path) -> None:
    assert_one_line_error(ledger(home, "show", "nope"), "no run 'nope'")
    assert_one_line_error(ledger(home, "execution", "a", "no-such-task"), "no-such-task")


def test_a_missing_home_is_reported_not_created(tmp_path: Path) -> None:
    assert_one_line_error(ledger(tmp_path / "absent", "runs"), "no ledger")
    assert not (tmp_path / "absent").exists()


def test_a_damaged_journal_is_reported_with_file_and_line(home: Path, tmp_path: Path) -> None:
    shutil.copytree(home / "ledger", tmp_path / "ledger")
    journal = tmp_path / "ledger" / "runs" / "a.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    lines[2] = "{damaged\n"
    journal.write_text("".join(lines))

    assert_one_line_error(ledger(tmp_path, "show", "a"), f"{journal}:3")
    assert ledger(tmp_path, "show", "b").returncode == 0


def test_a_damaged_run_index_is_reported_with_file_and_line(home: Path, tmp_path: Path) -> None:
    shutil.copytree(home / "ledger", tmp_path / "ledger")
    index = tmp_path / "ledger" / "runs.jsonl"
    index.write_text("\x00\x00\n" + index.read_text())

    listed = ledger(tmp_path, "runs", "--json")
    assert listed.returncode == 2
    assert listed.stderr.splitlines() == [f"python -m ledger: {index}:1: ledger damaged: not a JSON record"]
    lpl = "import sys; from driver.lpl import main; sys.exit(main())"
    as_lpl = subprocess.run([sys.executable, "-c", lpl, "runs", "--home", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    # Under `lpl`, the line names `lpl`.
    assert as_lpl.stderr.splitlines() == [f"lpl: {index}:1: ledger damaged: not a JSON record"]
    # Issue 15 item 6: the rest of the store stays readable, each run listed from its own journal.
    assert sorted(run["run_id"] for run in json.loads(listed.stdout)["runs"]) == ["a", "b"]


def test_a_unique_run_id_prefix_is_accepted_and_an_ambiguous_one_refused(home: Path, tmp_path: Path) -> None:
    shutil.copytree(home / "ledger", tmp_path / "ledger")
    runs = tmp_path / "ledger" / "runs"
    shutil.copy(runs / "a.jsonl", runs / "abd-456.jsonl")
    (runs / "a.jsonl").rename(runs / "abc-123.jsonl")

    assert ledger_json(tmp_path, "show", "abc")["run"]["run_id"] == "abc-123"
    assert_one_line_error(ledger(tmp_path, "show", "ab"), "ambiguous", "abc-123", "abd-456")
