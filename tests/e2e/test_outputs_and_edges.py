"""Conformance points without tests elsewhere, end to end: executor outputs (58, 60, 62), an importer's
`dependentTasks` (22), `literals` (39) and an `artifactIterator` (42, run as the SDK intends). The last three
hand-edit the compiled JSON where the DSL cannot express the case."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, FAILED, IMPORTER_EXECUTION
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of, attempt_interval


def _edited(package: Path, directory: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a compiled pipeline with `edit` applied to its JSON."""
    spec = json.loads(package.read_text())
    edit(spec)
    edited = directory / f"edited-{package.name}"
    edited.write_text(json.dumps(spec))
    return edited


def _no_traceback(run: FinishedRun) -> None:
    assert "Traceback" not in run.output, run.output


# --- 58, 60, 62: executor outputs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    home = tmp_path_factory.mktemp("outputs") / "lpl-home"
    home.mkdir()
    return run_driver(compile_pipeline("executor_outputs"), home=home)


def test_executor_output_parameter_values_override_the_files_unchecked(outputs_run: FinishedRun) -> None:
    """58: the file says 1, the executor output "not-a-number" for an integer output; the latter is kept."""
    execution = outputs_run.execution("override")
    assert execution.state == COMPLETE, outputs_run.output
    assert execution.properties["outputs"] == {"n": "not-a-number"}


def test_an_output_parameter_with_no_value_and_no_file_fails_the_task(outputs_run: FinishedRun) -> None:
    """60."""
    assert outputs_run.returncode == 1, outputs_run.output
    execution = outputs_run.execution("no-parameter")
    assert execution.state == FAILED
    error = execution.properties["error"]
    assert "output parameter 'note' was not written" in error
    assert error in outputs_run.output
    assert not execution.properties.get("outputs")
    _no_traceback(outputs_run)


def test_an_output_artifact_with_no_file_is_recorded_with_a_warning(outputs_run: FinishedRun) -> None:
    """62: COMPLETE, the artifact in the ledger with an OUTPUT event, the warning in the task's log."""
    execution = outputs_run.execution("no-artifact")
    assert execution.state == COMPLETE, outputs_run.output
    data = artifacts_of(outputs_run, execution, "OUTPUT")["data"]
    assert len(data) == 1
    uri = data[0]["uri"]
    assert not Path(uri).exists()
    log = Path(execution.properties["log"]).read_text()
    assert f"warning: output artifact 'data' has no file at {uri}" in log


# --- 22: an importer's dependentTasks -------------------------------------------------------------------


def test_an_importer_waits_for_its_dependent_tasks(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    package = compile_pipeline("importer_after")
    tasks = json.loads(package.read_text())["root"]["dag"]["tasks"]
    assert tasks["importer"]["dependentTasks"] == ["nap"]  # what `.after(nap)` compiles to
    data = tmp_path / "data.txt"
    data.write_text("data")
    run = run_driver(package, "-p", f"data_uri={data}", home=lpl_home)

    assert run.returncode == 0, run.output
    _, nap_end = attempt_interval(run.execution("nap"))
    importer = run.execution("importer", type=IMPORTER_EXECUTION)
    assert importer.state == COMPLETE
    assert importer.create_time >= nap_end, (importer.create_time, nap_end)


# --- 39: literals ---------------------------------------------------------------------------------------


def _with_literals(spec: dict[str, Any]) -> None:
    for component in ("comp-pick", "comp-pick-2"):
        spec["components"][component]["inputDefinitions"]["parameters"]["choice"]["literals"] = ["a", "b"]
    spec["root"]["inputDefinitions"]["parameters"]["mode"]["literals"] = ["a", "b"]


def test_a_value_outside_the_literals_fails_the_task(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    package = _edited(compile_pipeline("literals"), tmp_path, _with_literals)
    run = run_driver(package, home=lpl_home)

    assert run.returncode == 1, run.output
    picked = run.execution("pick")
    assert picked.state == FAILED
    error = picked.properties["error"]
    assert "input parameter 'choice': 'c' is not one of [a, b]" in error
    assert error in run.output
    assert picked.attempts == []  # refused before a launcher started
    assert run.execution("pick-2").state == COMPLETE
    assert run.probe("pick")["choice"] == "a"  # only the control ran
    _no_traceback(run)


def test_a_root_parameter_outside_its_literals_is_refused(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    package = _edited(compile_pipeline("literals"), tmp_path, _with_literals)
    run = run_driver(package, "-p", "mode=z", home=lpl_home)

    assert run.returncode == 2, run.output
    assert "parameter 'mode' must be one of [a, b]" in run.completed.stderr
    _no_traceback(run)
    assert run.executions() == []


# --- 42: artifactIterator -------------------------------------------------------------------------------


def _with_artifact_iterator(spec: dict[str, Any]) -> None:
    loop = spec["root"]["dag"]["tasks"]["for-loop-2"]
    item = loop.pop("parameterIterator")["itemInput"]
    del spec["components"]["comp-for-loop-2"]["inputDefinitions"]["parameters"][item]
    loop["artifactIterator"] = {"items": {"inputArtifact": "pipelinechannel--make-data"},
                                "itemInput": "pipelinechannel--make-data-loop-item"}


def test_an_artifact_iterator_runs_one_iteration_per_artifact_and_warns_once(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    # Not copied (design decision 10): the backend rejects an artifactIterator; the SDK compiles one for a
    # ParallelFor over a list of artifacts, so each artifact of the list gets an iteration
    # (tests/e2e/test_backend_fidelity.py runs the DSL form).
    package = _edited(compile_pipeline("artifact_loop"), tmp_path, _with_artifact_iterator)
    run = run_driver(package, home=lpl_home)

    _no_traceback(run)
    assert run.returncode == 0, run.output
    (loop,) = [e for e in run.executions("for-loop-2") if e.iteration_index is None]
    assert (loop.state, loop.properties["iteration_count"]) == (COMPLETE, 1)
    assert [e.state for e in run.executions("show")] == [COMPLETE]
    assert run.output.count("rejects this pipeline at submission") == 1, run.output
