"""Path safety end to end: an executor output whose artifact URI leaves the run root (an
absolute path elsewhere, `..`, a symlink out) fails its task with a message naming the path, output names
that would climb out of the task root are refused, and parameter values never pass through a shell of ours."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, FAILED
from tests.cli import run_cli
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver
from tests.e2e.recorded import artifacts_of
from tests.e2e.test_bad_input import assert_nothing_recorded

TASK = "write-output"


def _run_root(run: FinishedRun) -> Path:
    return run.home / "pipeline_root" / "path-escapes" / run.run_id


def _write_output(package: Path, home: Path, *, mode: str, target: str) -> FinishedRun:
    return run_driver(package, "-p", f"mode={mode}", "-p", f"target={target}", home=home, run_id=mode)


def test_an_artifact_at_its_provisioned_uri_is_accepted(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = _write_output(compile_pipeline("path_escapes"), lpl_home, mode="inside", target="")
    assert run.returncode == 0, run.output
    data = artifacts_of(run, run.execution(TASK), "OUTPUT")["data"]
    assert [Path(a["uri"]).read_text() for a in data] == ["data"]
    assert Path(data[0]["uri"]).is_relative_to(_run_root(run))


def test_an_artifact_written_at_a_custom_path_is_copied_to_its_uri(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "chosen-by-the-component"
    run = _write_output(compile_pipeline("path_escapes"), lpl_home, mode="custom", target=str(target))
    assert run.returncode == 0, run.output
    data = artifacts_of(run, run.execution(TASK), "OUTPUT")["data"]
    assert Path(data[0]["uri"]).is_relative_to(_run_root(run))  # the record keeps the provisioned URI
    assert Path(data[0]["uri"]).read_text() == "data" == target.read_text()


# mode → (target, given the test's outside directory; the path the message must name, given the task root)
ESCAPES: dict[str, tuple[Callable[[Path], str], Callable[[Path, str], str]]] = {
    "uri": (lambda outside: str(outside / "elsewhere"), lambda root, target: target),
    "dotdot": (lambda outside: "other-run/data", lambda root, target: f"{root}/../../../{target}"),
    "symlink": (lambda outside: str(outside), lambda root, target: f"{root}/escape"),
}


@pytest.mark.parametrize("mode", list(ESCAPES))
def test_an_executor_output_path_outside_the_run_root_fails_the_task(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, mode: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    make_target, named_path = ESCAPES[mode]
    target = make_target(outside)
    run = _write_output(compile_pipeline("path_escapes"), lpl_home, mode=mode, target=target)

    assert run.returncode == 1, run.output
    execution = run.execution(TASK)
    assert execution.state == FAILED
    path = named_path(execution.properties["task_root"], target)
    error = execution.properties["error"]
    assert f"{path!r} escapes {_run_root(run)}" in error
    assert "URI of output artifact 'data'" in error
    assert error in run.output  # the user sees it
    # Nothing recorded points outside: the failed task has its log and no output artifact.
    assert set(artifacts_of(run, execution, "OUTPUT")) == {"executor-logs"}
    assert not execution.properties.get("outputs")
    assert all(Path(a.uri).is_relative_to(_run_root(run)) for a in run.view.artifacts.values())
    assert list(outside.iterdir()) == []


def _renamed_output(package: Path, directory: Path, *, kind: str, old: str, new: str, argument: int) -> Path:
    """The compiled pipeline with one output of write_output renamed by hand, in its spec and placeholder."""
    spec = json.loads(package.read_text())
    outputs = spec["components"]["comp-write-output"]["outputDefinitions"][kind]
    outputs[new] = outputs.pop(old)
    args = spec["deploymentSpec"]["executors"]["exec-write-output"]["container"]["args"]
    args[argument] = args[argument].replace(f"['{old}']", f"['{new}']")
    edited = directory / f"renamed-{kind}.json"
    edited.write_text(json.dumps(spec))
    return edited


@pytest.mark.parametrize(
    ("kind", "old", "new", "argument"),
    # Joined to the task root (artifacts) or the task's outputs directory (parameters), both names land
    # outside the run: in the pipeline's directory of runs, and in <home>/runs.
    [("artifacts", "data", "../../../escape", 2), ("parameters", "note", "../../../note", 3)],
    ids=["artifact", "parameter"],
)
def test_an_output_name_that_climbs_out_of_the_task_root_is_refused(
    compile_pipeline: CompilePipeline,
    lpl_home: Path,
    tmp_path: Path,
    kind: str,
    old: str,
    new: str,
    argument: int,
) -> None:
    package = _renamed_output(compile_pipeline("path_escapes"), tmp_path, kind=kind, old=old, new=new,
                              argument=argument)
    run = run_driver(package, "-p", "mode=inside", home=lpl_home, run_id="renamed")

    if run.returncode == 2:  # refused by validation: nothing ran
        assert len(run.completed.stderr.strip().splitlines()) == 1, run.output
        assert repr(new) in run.completed.stderr
        return
    assert run.returncode == 1, run.output
    execution = run.execution(TASK)
    assert execution.state == FAILED
    assert f"name {new!r} cannot be used as a file name under the task root" in execution.properties["error"]
    assert execution.attempts == []  # refused before a launcher started
    assert not (_run_root(run).parent / "escape").exists()
    assert not (lpl_home / "runs" / "note").exists()


VERBATIM = (
    "$(touch {d}/pwned-1); touch {d}/pwned-2 `touch {d}/pwned-3` ' \" && touch {d}/pwned-4 # * ? ~ | "
    "{{{{$.inputs.parameters['value']}}}} \\\n touch {d}/pwned-5"
)


def test_a_parameter_with_shell_metacharacters_arrives_verbatim_and_runs_nothing(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    value = VERBATIM.format(d=tmp_path)
    assert "{{$.inputs.parameters['value']}}" in value and "\n" in value
    run = run_driver(compile_pipeline("verbatim_values"), "-p", f"value={value}", home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.probe("python")["value"] == value
    argvs = {probe["_label"]: probe["argv"] for probe in run.probes("argv")}
    expected = [value, f"prefix:{value}"]
    assert argvs == {"show-argv": expected, "show-argv-2": expected}, run.output
    assert run.execution("show-argv").state == COMPLETE
    assert sorted(tmp_path.glob("pwned-*")) == []


def _edited(package: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    spec: dict[str, Any] = json.loads(package.read_text())
    edit(spec)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(spec))
    return edited


def _rename_task(spec: dict[str, Any], new: str) -> None:
    tasks = spec["root"]["dag"]["tasks"]
    tasks[new] = tasks.pop("produce")


def _rename_output(spec: dict[str, Any], kind: str, old: str, new: str) -> None:
    outputs = spec["components"]["comp-produce"]["outputDefinitions"][kind]
    outputs[new] = outputs.pop(old)


# Issue 15 item 5: names that become paths are checked at load, before anything is written.
PATH_NAMES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "pipeline-name": (lambda s: s["pipelineInfo"].update(name="../../../../tmp/x"), "pipelineInfo.name"),
    "task-key": (lambda s: _rename_task(s, "../../escape"), "root.dag.tasks['../../escape']"),
    "long-task-key": (lambda s: _rename_task(s, "k" * 5000), "bytes long"),
    "artifact-output": (
        lambda s: _rename_output(s, "artifacts", "data", "../data"),
        "outputDefinitions.artifacts['../data']",
    ),
    "parameter-output": (
        lambda s: _rename_output(s, "parameters", "Output", ".."),
        "outputDefinitions.parameters['..']",
    ),
}


@pytest.mark.parametrize("case", list(PATH_NAMES))
def test_a_name_that_would_leave_its_directory_is_refused_at_load(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, case: str
) -> None:
    edit, named = PATH_NAMES[case]
    edited = _edited(compile_pipeline("hostile_base"), tmp_path, edit)

    completed = run_cli("driver", str(edited), home=lpl_home)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    assert lines and all(line.startswith(f"error: {edited}") for line in lines), completed.stderr
    assert any(named in line for line in lines), completed.stderr
    assert_nothing_recorded(lpl_home)
    assert not (tmp_path.parent / "escape").exists()
