"""`driver.run_pipeline`: each kind of input, outputs of every parameter type and artifact lists, iterations,
a failed run, a running event loop, concurrent calls, and the same record as the command line."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from driver import PipelineFailed, PipelineInputError, RunArtifact, RunResult, read_run, run_pipeline
from tests.cli import REPO_ROOT, RunCli

# Each test runs real pipelines through the driver and its launchers (tests/tiers.py).
pytestmark = pytest.mark.slow

PIPELINES = REPO_ROOT / "tests" / "pipelines"


def load_pipeline_module(name: str) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(f"tests_api_{name}", PIPELINES / f"{name}.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def outputs_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """One run of tests/pipelines/api_outputs.py, from its pipeline function, shared by the output tests."""
    module = load_pipeline_module("api_outputs")
    home = tmp_path_factory.mktemp("api-outputs")
    return run_pipeline(module.pipeline, {"text": "hello"}, home=home, echo=False)


def test_outputs_of_every_parameter_type_arrive_as_a_downstream_component_receives_them(
    outputs_run: RunResult,
) -> None:
    outputs = outputs_run.outputs

    assert outputs_run.state == "COMPLETE" and outputs_run.succeeded
    assert outputs["text"] == "hello"
    assert outputs["count"] == 3 and type(outputs["count"]) is int
    assert outputs["ratio"] == 0.25
    # protojson writes a whole-number double without ".0": the component downstream reads the int 2.
    assert outputs["whole"] == 2 and type(outputs["whole"]) is int
    assert outputs["flag"] is True
    assert outputs["numbers"] == [1, 2, 3] and all(type(n) is int for n in outputs["numbers"])
    assert outputs["config"] == {"lr": 0.5, "epochs": 3}


def test_a_list_of_artifacts_and_a_single_artifact_are_pipeline_outputs(outputs_run: RunResult) -> None:
    datasets = outputs_run.outputs["datasets"]
    first = outputs_run.outputs["first"]

    assert isinstance(first, RunArtifact)
    assert first.schema_title == "system.Dataset" and first.metadata == {"text": "first"}
    assert first.path is not None and first.path.read_text() == "first"
    assert first.path == Path(first.uri)
    assert [d.path.read_text() for d in datasets if d.path is not None] == ["a", "b"]
    assert [d.metadata["text"] for d in datasets] == ["a", "b"]
    assert {d.name for d in datasets} == {"datasets"}


def test_each_iteration_of_a_loop_is_addressable(outputs_run: RunResult) -> None:
    copies = outputs_run.iterations("for-loop-2/write-text")
    second = outputs_run.task("write-text", iteration=1)

    assert [t.iterations for t in copies] == [(0,), (1,)]
    assert [t.label for t in copies] == ["for-loop-2[0]/write-text", "for-loop-2[1]/write-text"]
    assert second is outputs_run.tasks["for-loop-2[1]/write-text"]
    assert second.inputs == {"text": "b"}
    assert second.outputs["out"].metadata == {"text": "b"}
    assert outputs_run.task("for-loop-2/write-text", iteration=[0]).inputs == {"text": "a"}
    with pytest.raises(KeyError, match=re.escape("2 tasks match (write-text[0], write-text[1])")):
        outputs_run.task("for-loop-2/write-text")
    # The bare key is the short form of the copy outside every loop (the nested pipeline's task here).
    assert outputs_run.task("write-text").iterations == ()
    assert len(outputs_run.iterations("write-text")) == 3  # but names every copy where copies are asked for
    assert outputs_run.task("write-text[1]") is second  # the short form, as the console and every command
    with pytest.raises(KeyError, match="did you mean 'write-text'"):
        outputs_run.task("write-txt")


def test_a_nested_pipeline_is_a_task_with_its_output_artifact(outputs_run: RunResult) -> None:
    nested = outputs_run.task("nested-writer")
    inner = outputs_run.task("nested-writer/write-text")

    assert nested.state == "COMPLETE" and nested.executor_input is None and nested.log == ""
    assert nested.outputs["Output"].id == inner.outputs["out"].id  # the same artifact, named by each
    assert nested.outputs["Output"].metadata == {"text": "nested"}


def test_a_task_has_its_outputs_executor_input_and_log(outputs_run: RunResult) -> None:
    task = outputs_run.task("make-values")

    assert task.state == "COMPLETE" and not task.cached
    assert task.outputs["config"] == {"lr": 0.5, "epochs": 3}
    assert task.executor_input is not None
    assert task.executor_input["inputs"]["parameterValues"] == {"text": "hello"}
    assert "executor-logs" not in task.outputs
    assert task.log_path is not None and task.log_path.is_file()
    assert "Wrote executor output file" in task.log


def test_a_component_runs_as_a_one_task_pipeline(tmp_path: Path) -> None:
    module = load_pipeline_module("api_failure")

    result = run_pipeline(module.fine, home=tmp_path, echo=False)

    assert result.succeeded
    assert result.output == 7
    assert [t.name for t in result.tasks.values()] == ["fine"]


def test_a_compiled_file_and_a_pipeline_spec_run(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    compiled = compile_pipeline("hello")
    message = json_format.Parse(compiled.read_text(), pipeline_spec_pb2.PipelineSpec())

    from_file = run_pipeline(compiled, {"name": "file"}, home=tmp_path, echo=False)
    from_spec = run_pipeline(message, {"name": "spec"}, home=tmp_path, echo=False, cache=False)

    assert from_file.output == "Hello, file!"
    assert from_spec.output == "Hello, spec!"
    assert from_spec.pipeline_name == from_file.pipeline_name == "hello"


def test_a_failed_run_returns_a_failed_result_with_the_log_tail(tmp_path: Path) -> None:
    module = load_pipeline_module("api_failure")

    result = run_pipeline(module.pipeline, home=tmp_path, echo=False)

    assert result.state == "FAILED" and not result.succeeded
    assert result.task("fine").outputs == {"Output": 7}
    failed = result.task("explode")
    assert failed.state == "FAILED"
    assert "about to fail with value 7" in failed.log
    assert "failed task: explode" in result.failure_report
    assert "| RuntimeError: exploded-on-purpose" in result.failure_report  # the log's tail
    with pytest.raises(PipelineFailed) as raised:
        result.check()
    assert raised.value.result is result


def test_check_true_raises_pipeline_failed_with_the_failure_report(tmp_path: Path) -> None:
    module = load_pipeline_module("api_failure")

    with pytest.raises(PipelineFailed, match="exploded-on-purpose") as raised:
        run_pipeline(module.pipeline, home=tmp_path, echo=False, check=True)

    assert raised.value.result.state == "FAILED"
    assert "| RuntimeError: exploded-on-purpose" in str(raised.value)


def test_rejected_arguments_raise_pipeline_input_error_and_record_nothing(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    with pytest.raises(PipelineInputError, match=r"error:.*nope"):
        run_pipeline(compile_pipeline("hello"), {"nope": 1}, home=tmp_path, echo=False)

    assert not (tmp_path / "ledger").exists() or not list((tmp_path / "ledger").rglob("*.jsonl"))


def test_the_runner_option_reaches_the_driver(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    compiled = compile_pipeline("hello")

    on_host = run_pipeline(compiled, home=tmp_path, runner="host", echo=False)
    with pytest.raises(PipelineInputError, match="nowhere"):
        run_pipeline(compiled, home=tmp_path, runner="nowhere", echo=False)

    assert on_host.succeeded


def test_a_home_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory")

    with pytest.raises(PipelineInputError, match="cannot write the compiled pipeline"):
        run_pipeline(load_pipeline_module("api_failure").fine, home=home, echo=False)


def test_anything_else_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineInputError, match=r"@dsl\.pipeline function"):
        run_pipeline(42, home=tmp_path)


def test_it_runs_inside_a_running_event_loop(compile_pipeline: Callable[[str], Path], tmp_path: Path) -> None:
    compiled = compile_pipeline("hello")

    async def in_a_notebook_cell() -> tuple[RunResult, RunResult]:
        direct = run_pipeline(compiled, {"name": "loop"}, home=tmp_path, echo=False)
        threaded = await asyncio.to_thread(run_pipeline, compiled, {"name": "thread"}, home=tmp_path,
                                           echo=False)
        return direct, threaded

    direct, threaded = asyncio.run(in_a_notebook_cell())

    assert direct.output == "Hello, loop!"
    assert threaded.output == "Hello, thread!"


def test_two_concurrent_calls_with_separate_homes(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    compiled = compile_pipeline("hello")
    results: dict[str, RunResult] = {}
    lines: dict[str, list[str]] = {"a": [], "b": []}

    def run(name: str) -> None:
        results[name] = run_pipeline(compiled, {"name": name}, home=tmp_path / name, echo=lines[name].append)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {name: r.output for name, r in results.items()} == {"a": "Hello, a!", "b": "Hello, b!"}
    assert results["a"].home == (tmp_path / "a").resolve()
    assert all(any("COMPLETE" in line for line in printed) for printed in lines.values())


def test_an_interrupt_of_the_caller_alone_stops_the_run_and_records_it(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    # A notebook's interrupt button sends SIGINT to the kernel only, not to the driver it started.
    release = tmp_path / "release"

    def interrupt_once_holding() -> None:
        deadline = time.monotonic() + 120
        while not Path(f"{release}.started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_holding, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(compile_pipeline("signals"), {"release": str(release)}, home=tmp_path, run_id="stopped",
                     echo=False)

    stopped = read_run("stopped", home=tmp_path)
    assert stopped.state == "CANCELED"
    assert stopped.task("hold").state == "CANCELED"
    assert stopped.task("step").state == "COMPLETE"


def _executions(result: RunResult) -> list[dict[str, Any]]:
    return [{"label": t.label, "state": t.state, "inputs": t.inputs,
             "outputs": {k: v.metadata if isinstance(v, RunArtifact) else v for k, v in t.outputs.items()},
             "artifacts": {k: [a.schema_title for a in v] for k, v in t.output_artifacts.items()}}
            for t in sorted(result.tasks.values(), key=lambda t: t.label)]  # ids follow timing, labels do not


def test_run_pipeline_and_the_command_line_record_the_same_executions(
    compile_pipeline: Callable[[str], Path], tmp_path: Path, run_cli: RunCli
) -> None:
    compiled = compile_pipeline("collected")

    through_api = run_pipeline(compiled, home=tmp_path, echo=False, cache=False)
    through_cli = run_cli("driver", str(compiled), "--no-cache", "--run-id", "cli-run", home=tmp_path)
    listed = run_cli("ledger", "runs", "--json", home=tmp_path)

    assert through_cli.returncode == 0, through_cli.stderr
    assert {run["run_id"] for run in json.loads(listed.stdout)["runs"]} == {through_api.run_id, "cli-run"}
    assert _executions(read_run("cli-run", home=tmp_path)) == _executions(through_api)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ({"parallelism": "x"}, "parallelism must be a whole number"),
        ({"parallelism": True}, "parallelism must be a whole number"),
        ({"cli_args": "--no-cache"}, "cli_args must be a list of strings"),
        ({"arguments": 5}, "arguments must map parameter names to values"),
        ({"arguments": {"n": object()}}, "argument 'n'"),
        ({"arguments": {"n": float("nan")}}, "argument 'n'"),
        ({"cli_args": ["--parallelism", "x"]}, "argument --parallelism: invalid int value: 'x'"),
    ],
)
def test_a_wrong_argument_is_refused_with_its_reason(
    tmp_path: Path, call: dict[str, Any], reason: str
) -> None:
    seed = REPO_ROOT / "examples" / "seed" / "pipeline.json"
    with pytest.raises(PipelineInputError, match=re.escape(reason)):
        run_pipeline(seed, home=tmp_path, echo=False, **call)


def test_a_default_kfp_cannot_compile_is_a_pipeline_input_error(tmp_path: Path) -> None:
    module = load_pipeline_module("unserializable_default")
    with pytest.raises(PipelineInputError, match="kfp cannot compile 'unserializable'"):
        run_pipeline(module.pipeline, home=tmp_path, echo=False)
