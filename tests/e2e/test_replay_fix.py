"""Trying a fix on one task (issue 23): `launcher replay --run RUN --task REF --pipeline FILE` runs the task's
component as FILE (recompiled, or its DSL file) defines it, with the inputs RUN recorded, recorded as a
replay that does not change the run; a component whose inputs or outputs changed is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.model import COMPLETE, FAILED
from ledger.store import Ledger
from tests.cli import RunCli

PIPELINE = '''
from kfp import dsl

@dsl.component(base_image="python:3.11")
def divide(a: float, b: float) -> float:
    {body}

@dsl.component(base_image="python:3.11")
def report(x: float) -> str:
    return f"ratio {{x}}"

@dsl.pipeline(name="fixable")
def pipeline(a: float = 1.0, b: float = 0.0) -> str:
    return report(x=divide(a=a, b=b).output).output
'''


def _write(path: Path, body: str) -> Path:
    path.write_text(PIPELINE.format(body=body))
    return path


def test_a_fix_is_tried_on_the_failed_task_with_its_recorded_inputs(
    lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    broken = _write(tmp_path / "broken.py", "return a / b")
    failed = run_cli("driver", str(broken), "--run-id", "fixable", home=lpl_home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    fixed = _write(tmp_path / "fixed.py", "return a / b if b else 0.0")

    replayed = run_cli("launcher", "replay", "--run", "last", "--task", "divide",
                       "--pipeline", str(fixed), home=lpl_home)

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    view = Ledger(lpl_home).open_run("fixable").view()
    divides = sorted((e for e in view.executions.values() if e.task_name == "divide"), key=lambda e: e.id)
    assert [e.state for e in divides] == [FAILED, COMPLETE]
    assert divides[1].properties["replay_of"] == divides[0].id
    assert divides[1].properties["replay_pipeline"] == str(fixed.resolve())
    assert divides[1].properties["inputs"] == {"a": 1.0, "b": 0.0} and divides[1].outputs == {"Output": 0.0}
    assert view.state == FAILED  # a replay is never counted as part of the run
    runs = json.loads(run_cli("ledger", "--json", "runs", home=lpl_home).stdout)["runs"]
    assert [run["state"] for run in runs] == [FAILED]


def test_a_component_whose_inputs_changed_is_refused(lpl_home: Path, tmp_path: Path, run_cli: RunCli) -> None:
    broken = _write(tmp_path / "broken.py", "return a / b")
    assert run_cli("driver", str(broken), home=lpl_home).returncode == 1
    changed = tmp_path / "changed.py"
    text = broken.read_text().replace("def divide(a: float, b: float)", "def divide(a: float, c: float)")
    changed.write_text(text.replace("divide(a=a, b=b)", "divide(a=a, c=b)").replace("a / b", "a / c"))

    refused = run_cli("launcher", "replay", "--run", "last", "--task", "divide",
                      "--pipeline", str(changed), home=lpl_home)

    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert "task 'divide' changed its inputs (b, c)" in line and "--resume RUN FILE" in line, line
