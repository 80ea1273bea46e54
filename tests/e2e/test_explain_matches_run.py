"""One truth for what a task was handed: for every pipeline under tests/pipelines/, `--explain --from-run` of
a finished run gives each launched container task the ExecutorInput and the command line its launcher recorded
(`ledger exec --json`'s `executor_input`, the execution's `command`)."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.model import CONTAINER_EXECUTION, Execution, RunView
from ledger.store import Ledger
from spec.ir import pipeline_spec_pb2
from spec.load import load_pipeline
from tests.cli import REPO_ROOT, run_cli
from tests.conftest import PIPELINES_DIR
from tests.e2e.finished_run import CompilePipeline

RUN_ID = "recorded"
# Pipelines kfp itself cannot compile: they test how that error reaches the user.
NOT_COMPILABLE = {"unserializable_default"}
PIPELINES = sorted(
    path.stem for path in PIPELINES_DIR.glob("*.py") if path.stem not in {"__init__", *NOT_COMPILABLE}
)
# Pipelines in which no task gets as far as its launcher; the test still checks that explain agrees.
NOTHING_LAUNCHED = {
    "condition_errors": "its condition cannot be evaluated, so its tasks fail before launch",
    "pvc_mount": "a PVC mount cannot be made on the host runner: the task fails before launch",
    "docker_volumes": "its tasks mount a PVC or a secret volume: on the host runner they fail before launch",
    "volume_escapes": "its tasks mount a PVC: on the host runner they fail before launch",
}
# kfp writes a workspace only to YAML (`platforms`).
YAML_ONLY = {"workspace"}


def _package(name: str, compile_pipeline: CompilePipeline, tmp_path: Path) -> Path:
    if name not in YAML_ONLY:
        return compile_pipeline(name)
    from kfp import compiler

    module_spec = importlib.util.spec_from_file_location(
        f"tests_pipelines_{name}", PIPELINES_DIR / f"{name}.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    package = tmp_path / f"{name}.yaml"
    compiler.Compiler().compile(module.pipeline, str(package))
    return package


# The values given to a required root parameter (one without a default) that no pipeline below names: a
# string is a path under the test's directory that does not exist yet (a marker, a barrier folder).
_PLAIN = {"NUMBER_INTEGER": "1", "NUMBER_DOUBLE": "1.5", "BOOLEAN": "true", "LIST": "[1]", "STRUCT": "{}"}


def _arguments(name: str, package: Path, tmp_path: Path) -> list[str]:
    """What a pipeline needs to run here: a value for each required parameter, and made-up files."""
    data = tmp_path / "data.txt"
    data.write_text("data")
    release = tmp_path / "release"
    release.touch()  # `signals` holds its task until this exists: let it through at once
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    given = {
        "data_uri": str(data),
        "limit": "5",  # loop_failure: one of its two words is longer
        "release": str(release),
        "value": "$(touch pwned) `id` ; | & > * ' \" \\",  # verbatim_values
    }
    arguments = ["--mount", f"gs://lpl-test-bucket={bucket}"] if name == "importers" else []
    root = load_pipeline(package).pipeline_spec.root.input_definitions.parameters
    for parameter, spec in sorted(root.items()):
        if spec.HasField("default_value") or spec.is_optional:
            continue
        kind = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(spec.parameter_type)
        value = given.get(parameter) or _PLAIN.get(kind) or str(tmp_path / parameter)
        arguments += ["-p", f"{parameter}={value}"]
    return arguments


def _run(package: Path, home: Path, arguments: list[str], *, interrupt_when: Path | None) -> None:
    """Run the pipeline to its end; one whose task never ends by itself is interrupted once that task runs."""
    command = [sys.executable, "-m", "driver", "--home", str(home), str(package), "--run-id", RUN_ID]
    process = subprocess.Popen(
        [*command, *arguments], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if interrupt_when is not None:
            deadline = time.monotonic() + 60
            while not interrupt_when.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            process.send_signal(signal.SIGINT)
        process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()


def _launched(view: RunView) -> dict[int, Execution]:
    """The container executions whose launcher planned and recorded a command line."""
    return {
        e.id: e
        for e in view.executions.values()
        if e.type == CONTAINER_EXECUTION and "command" in e.properties
    }


def _recorded_executor_input(home: Path, execution_id: int) -> Any:
    completed = run_cli("ledger", "--json", "exec", RUN_ID, str(execution_id), home=home)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["executor_input"]


@pytest.mark.parametrize("name", PIPELINES)
def test_explain_from_a_run_shows_what_each_launcher_was_handed_and_ran(
    name: str, compile_pipeline: CompilePipeline, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    stubborn = tmp_path / "marker.started" if name == "stubborn" else None
    package = _package(name, compile_pipeline, tmp_path)
    arguments = _arguments(name, package, tmp_path)
    _run(package, home, arguments, interrupt_when=stubborn)
    launched = _launched(Ledger(home).open_run(RUN_ID).view())

    # Nothing but the run: its --mount (importers) is recorded and used again, as a resume uses it.
    completed = run_cli("driver", "--explain", "--json", "--from-run", RUN_ID, home=home)

    assert completed.returncode == 0, completed.stderr
    entries = {
        entry["recorded"]["executionId"]: entry
        for entry in json.loads(completed.stdout)["tasks"]
        if entry["kind"] == "container" and entry["recorded"] is not None
    }
    assert bool(launched) != (name in NOTHING_LAUNCHED), f"{name}: launched {sorted(launched)}"
    assert set(launched) <= set(entries), f"{name}: explain has no entry for {set(launched) - set(entries)}"
    for execution_id, execution in launched.items():
        entry = entries[execution_id]
        assert entry["executorInput"] == _recorded_executor_input(home, execution_id), entry["label"]
        assert entry["command"] == execution.properties["command"], entry["label"]
