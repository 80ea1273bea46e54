"""Naming a task as the console prints it, or briefly (issue 23): the label, the label without its outer
groups, `NAME[i]`, and a unique key work in `ledger exec/log`, `launcher replay --task`, `--explain --task`
and `RunResult.task()`; an ambiguous name lists the candidates and an unknown one names the closest."""

from __future__ import annotations

import json
import re

import pytest

from driver import read_run
from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def sweep(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(compile_pipeline("sweep"), home=tmp_path_factory.mktemp("home"), run_id="sweep")
    assert run.returncode == 0, run.output
    return run


def _console_label(run: FinishedRun, index: int) -> str:
    """The label the console printed for iteration `index` of train-model."""
    labels = set(re.findall(r"^\[lpl\] (\S+train-model) started", run.completed.stdout, re.MULTILINE))
    (label,) = [label for label in labels if f"[{index}]/" in label]
    return label


def test_the_console_label_its_tail_and_the_short_form_name_one_task(
    sweep: FinishedRun, run_cli: RunCli
) -> None:
    label = _console_label(sweep, 2)
    assert label.startswith("exit-handler-1/")
    tail = label.split("/", 1)[1]  # `for-loop-N[2]/train-model`, as the user typed it
    for ref in (label, tail, "train-model[2]"):
        shown = run_cli("ledger", "--json", "exec", "last", ref, home=sweep.home)
        assert shown.returncode == 0, (ref, shown.stderr)
        assert json.loads(shown.stdout)["inputs"] == {"lr": 0.3}, ref
        logged = run_cli("ledger", "log", "last", ref, home=sweep.home)
        assert logged.returncode == 0 and "training with lr=0.3" in logged.stdout, (ref, logged.stderr)


def test_a_unique_key_names_its_task_and_an_ambiguous_one_lists_the_candidates(
    sweep: FinishedRun, run_cli: RunCli
) -> None:
    assert run_cli("ledger", "log", "last", "pick-best", home=sweep.home).returncode == 0
    ambiguous = run_cli("ledger", "log", "last", "train-model", home=sweep.home)
    assert ambiguous.returncode == 2
    assert "3 tasks match (train-model[0], train-model[1], train-model[2])" in ambiguous.stderr
    unknown = run_cli("ledger", "log", "last", "train-modle", home=sweep.home)
    assert unknown.returncode == 2 and "did you mean 'train-model'" in unknown.stderr, unknown.stderr


def test_replay_and_explain_take_the_short_form(sweep: FinishedRun, run_cli: RunCli) -> None:
    replayed = run_cli("launcher", "replay", "--run", "last", "--task", "train-model[1]", home=sweep.home)
    assert replayed.returncode == 0, replayed.stderr
    assert "training with lr=0.2" in replayed.stdout
    explained = run_cli("driver", "--explain", "--json", "--from-run", "last", "--task", "train-model[1]",
                        home=sweep.home)
    assert explained.returncode == 0, explained.stderr
    (entry,) = json.loads(explained.stdout)["tasks"]
    assert entry["label"] == _console_label(sweep, 1)


def test_run_result_task_takes_every_form(sweep: FinishedRun) -> None:
    result = read_run("sweep", home=sweep.home)
    assert result.task("train-model[0]").inputs == {"lr": 0.1}
    assert result.task(_console_label(sweep, 0)) is result.task("train-model[0]")
    # 1.0 reaches the component as protojson writes it (`1`), as on the backend (design decision 1).
    assert result.task("publish").outputs["Output"] == "published 1"
    with pytest.raises(KeyError, match=r"train-model\[0\], train-model\[1\]"):
        result.task("train-model")
