"""`python -m driver --explain`: each task's ExecutorInput, command, environment, condition, fingerprint."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from ledger.model import RunView
from ledger.store import Ledger
from spec import protojson
from spec.ir import pipeline_spec_pb2
from spec.placeholders import add_defaults
from tests.cli import RunCli, run_cli
from tests.tiers import slow_fixture

RUN_ID = "recorded"
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def explain(package: Path, *args: str, home: Path) -> list[dict[str, Any]]:
    completed = run_cli("driver", str(package), "--explain", "--json", *args, home=home)
    assert completed.returncode == 0, completed.stderr
    tasks: list[dict[str, Any]] = json.loads(completed.stdout)["tasks"]
    return tasks


def by_label(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {task["label"]: task for task in tasks}


def record(package: Path, home: Path) -> RunView:
    completed = run_cli("driver", str(package), "--run-id", RUN_ID, home=home)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return Ledger(home).open_run(RUN_ID).view()


def received(view: RunView, execution_id: int) -> dict[str, Any]:
    """The ExecutorInput the launcher handed to the component: the recorded file, with defaults added."""
    task_dir = Path(view.executions[execution_id].properties["task_dir"])
    executor_input = json_format.Parse(
        (task_dir / "executor_input.json").read_text(), pipeline_spec_pb2.ExecutorInput()
    )
    component = json_format.Parse(
        (task_dir / "component_spec.json").read_text(), pipeline_spec_pb2.ComponentSpec()
    )
    return protojson.message_to_jsonable(add_defaults(executor_input, component))


def without_output_folders(document: dict[str, Any]) -> str:
    """The document with each task's own output folder (a fresh uuid per run) written as `<uuid>`."""
    text = json.dumps(document, sort_keys=True)
    return re.sub(r"-[0-9a-f]{12}/outputs/", "-<uuid>/outputs/", re.sub(r"/[0-9a-f]{32}/", "/<uuid>/", text))


def files_under(home: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(home.rglob("*"))}


@pytest.fixture(scope="module")
@slow_fixture
def loop_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """`loop_condition` run once (it succeeds): its package and home."""
    package, home = compile_pipeline("loop_condition"), tmp_path_factory.mktemp("explain-loops")
    assert record(package, home).state == "COMPLETE"
    return package, home


@dataclass(frozen=True)
class Explained:
    """`--explain --json --from-run` over `loop_run`, and the files of its home before and after."""

    tasks: list[dict[str, Any]]
    view: RunView
    files_before: dict[str, tuple[int, int]]
    files_after: dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def loop_explained(loop_run: tuple[Path, Path]) -> Explained:
    package, home = loop_run
    before = files_under(home)
    tasks = explain(package, "--from-run", RUN_ID, home=home)
    return Explained(
        tasks=tasks,
        view=Ledger(home).open_run(RUN_ID).view(),
        files_before=before,
        files_after=files_under(home),
    )


@pytest.fixture(scope="module")
@slow_fixture
def failed_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """`exit_failure` run once (it fails): its package and home."""
    package, home = compile_pipeline("exit_failure"), tmp_path_factory.mktemp("explain-failure")
    assert record(package, home).state == "FAILED"
    return package, home


def test_explain_runs_nothing_and_does_not_create_the_home(
    compile_pipeline: Callable[[str], Path], run_cli: RunCli, tmp_path: Path
) -> None:
    home = tmp_path / "absent-home"

    completed = run_cli("driver", str(compile_pipeline("loop_condition")), "--explain", home=home)

    assert completed.returncode == 0, completed.stderr
    assert "nothing was run" in completed.stdout
    assert "== make-items (container, comp-make-items)" in completed.stdout
    assert not home.exists()


def test_explain_writes_nothing_into_a_home_with_recorded_runs(loop_explained: Explained) -> None:
    assert loop_explained.files_after == loop_explained.files_before


def test_explain_shows_the_executor_input_the_launcher_received(loop_explained: Explained) -> None:
    view = loop_explained.view
    compared = 0
    for task in loop_explained.tasks:
        if task["kind"] != "container" or task["recorded"] is None:
            continue  # the branch whose condition was false never ran
        execution = view.executions[task["recorded"]["executionId"]]
        assert without_output_folders(task["executorInput"]) == without_output_folders(
            received(view, execution.id)
        ), task["label"]
        assert task["cacheFingerprint"] == execution.properties["cache_fingerprint"], task["label"]
        argument = task["command"][task["command"].index("--executor_input") + 1]
        assert json.loads(argument) == task["executorInput"]
        compared += 1
    assert compared == 8


def test_explain_without_a_run_shows_upstream_outputs_as_references(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    tasks = by_label(explain(compile_pipeline("loop_condition"), home=tmp_path / "home"))

    total = tasks["total"]
    reference = "{{tasks['for-loop-1'].outputs.parameters['pipelinechannel--square-Output']}}"
    assert total["executorInput"]["inputs"]["parameterValues"] == {"numbers": reference}
    assert total["unresolved"] == [{"input": "numbers", "type": "parameter", "reference": reference}]
    assert total["cacheFingerprint"] is None
    assert FINGERPRINT.match(tasks["make-items"]["cacheFingerprint"])
    assert tasks["make-items"]["unresolved"] == []
    assert tasks["make-items"]["environment"]["kind"] == "python"
    # Items from an upstream output: the body once, its item unresolved. Raw items: every iteration.
    assert tasks["for-loop-1"]["items"] is None
    body = tasks["for-loop-1[?]/square"]
    assert (body["iteration"], body["executorInput"]["inputs"]["parameterValues"]) == (
        None,
        {"x": "{{tasks['for-loop-1'].item}}"},
    )
    assert tasks["for-loop-6"]["items"] == [10, 20]
    assert [
        tasks[f"for-loop-6[{i}]/square-2"]["executorInput"]["inputs"]["parameterValues"] for i in (0, 1)
    ] == [{"x": 10}, {"x": 20}]
    condition = tasks["condition-branches-2/condition-3"]["condition"]
    assert condition["value"] is None and "pipelinechannel--total-Output" in condition["expression"]


def test_explain_from_a_run_fills_loop_items_collected_values_and_conditions(
    loop_explained: Explained,
) -> None:
    tasks = by_label(loop_explained.tasks)

    assert tasks["for-loop-1"]["items"] == [0, 1, 2]
    squares = [tasks[f"for-loop-1[{i}]/square"] for i in range(3)]
    assert [t["executorInput"]["inputs"]["parameterValues"]["x"] for t in squares] == [0, 1, 2]
    assert [t["iteration"] for t in squares] == [0, 1, 2]
    assert tasks["total"]["executorInput"]["inputs"]["parameterValues"] == {"numbers": [0, 1, 4]}
    assert tasks["condition-branches-2/condition-3"]["condition"]["value"] is True
    assert tasks["condition-branches-2/condition-4"]["condition"]["value"] is False
    skipped = tasks["condition-branches-2/condition-4/greet-2"]
    assert any(note.startswith("would not run: the condition of") for note in skipped["notes"])
    assert all(not t["unresolved"] for t in tasks.values())


def test_explain_from_a_failed_run_gives_the_exit_task_the_final_status(
    failed_run: tuple[Path, Path],
) -> None:
    package, home = failed_run
    view = Ledger(home).open_run(RUN_ID).view()

    (cleanup,) = explain(package, "--from-run", RUN_ID, "--task", "cleanup", home=home)
    (unrecorded,) = explain(package, "--task", "cleanup", home=home)

    status = cleanup["executorInput"]["inputs"]["parameterValues"]["status"]
    assert (status["state"], status["pipelineTaskName"]) == ("FAILED", "exit-handler-1")
    assert "boom" in status["error"]["message"]
    assert cleanup["executorInput"]["inputs"] == received(view, cleanup["recorded"]["executionId"])["inputs"]
    assert unrecorded["executorInput"]["inputs"]["parameterValues"] == {
        "status": "{{tasks['exit-handler-1'].status}}"
    }


def test_explain_task_names_a_task_by_key_path_or_iteration(loop_run: tuple[Path, Path]) -> None:
    package, home = loop_run

    tasks = explain(
        package,
        "--from-run",
        RUN_ID,
        "--task",
        "make-items",
        "--task",
        "for-loop-6[1]/square-2",
        "--task",
        "for-loop-1/square",
        home=home,
    )

    assert [t["label"] for t in tasks] == [
        "for-loop-6[1]/square-2",
        "make-items",
        "for-loop-1[0]/square",
        "for-loop-1[1]/square",
        "for-loop-1[2]/square",
    ]


def test_explain_prints_each_part_as_text(failed_run: tuple[Path, Path]) -> None:
    package, home = failed_run
    before = files_under(home)

    completed = run_cli("driver", str(package), "--explain", "--task", "exit-handler-1/fail", home=home)

    assert completed.returncode == 0, completed.stderr
    assert files_under(home) == before
    text = completed.stdout
    assert "== exit-handler-1/fail (container, comp-fail)" in text
    for part in (
        "condition: none",
        '"message": "boom"',
        "command: sh -ec",
        "--executor_input",
        "environment: python environment",
        "cache fingerprint: ",
    ):
        assert part in text, part


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "nope=1"], "unknown parameter 'nope'"),
        (["-p", "count=three"], "count"),
        (["--task", "nope"], "--task 'nope'"),
        (["--from-run", "missing"], "--from-run missing"),
    ],
)
def test_explain_refuses_bad_input_with_one_line_and_exit_2(
    compile_pipeline: Callable[[str], Path], run_cli: RunCli, tmp_path: Path, args: list[str], message: str
) -> None:
    home = tmp_path / "absent-home"

    completed = run_cli("driver", str(compile_pipeline("loop_condition")), "--explain", *args, home=home)

    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1, completed.stderr
    assert message in completed.stderr
    assert not home.exists()


def test_explain_refuses_a_broken_pipeline_file_as_a_run_does(run_cli: RunCli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"pipelineInfo": {"name": "x"}, "root": ')

    completed = run_cli("driver", str(broken), "--explain", home=tmp_path / "home")

    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and "Traceback" not in completed.stderr


def test_explain_options_need_explain(
    compile_pipeline: Callable[[str], Path], run_cli: RunCli, tmp_path: Path
) -> None:
    completed = run_cli("driver", str(compile_pipeline("hello")), "--json", home=tmp_path / "home")

    assert completed.returncode == 2
    assert "--explain" in completed.stderr
    assert not (tmp_path / "home").exists()


def test_explain_from_a_run_needs_no_pipeline_file(failed_run: tuple[Path, Path], run_cli: RunCli) -> None:
    _, home = failed_run

    completed = run_cli("driver", "--explain", "--json", "--from-run", RUN_ID, "--task", "cleanup", home=home)

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert (document["pipeline"], [t["label"] for t in document["tasks"]]) == ("exit-failure", ["cleanup"])


def test_required_parameters_without_values_are_explained_with_stand_ins(
    compile_pipeline: Callable[[str], Path], lpl_home: Path, run_cli: RunCli
) -> None:
    package = compile_pipeline("explain_required")
    completed = run_cli("driver", str(package), "--explain", "--json", home=lpl_home)
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["parametersStandingIn"] == ["text", "threshold", "words"]
    tasks = by_label(document["tasks"])
    assert tasks["greet"]["executorInput"]["inputs"]["parameterValues"] == {
        "text": "{{pipeline.parameters['text']}}"
    }
    assert tasks["greet"]["unresolved"] == [
        {"input": "text", "type": "parameter", "reference": "{{pipeline.parameters['text']}}"}
    ]
    assert tasks["for-loop-1"]["items"] is None  # the items are a stand-in: the body is shown once
    assert "for-loop-1[?]/shout" in tasks
    assert tasks["condition-2"]["condition"]["value"] is None  # compares a stand-in: unknown
    # A given value is used; a run without values is still refused, naming the parameter.
    given = explain(package, "-p", "text=world", "-p", "words=[1]", "-p", "threshold=5", home=lpl_home)
    assert by_label(given)["greet"]["executorInput"]["inputs"]["parameterValues"] == {"text": "world"}
    refused = run_cli("driver", str(package), home=lpl_home)
    assert refused.returncode == 2
    assert "missing required parameter" in refused.stderr
    assert not (lpl_home / "ledger").exists()


@pytest.mark.slow  # records a run to explain from
def test_explain_shows_the_kubernetes_settings_with_names_resolved_as_a_run_resolves_them(
    compile_pipeline: Callable[[str], Path], lpl_home: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    package = compile_pipeline("kubernetes_settings")
    (show_env,) = explain(package, "--task", "show-env", home=lpl_home)
    names = {item["env_var"]: item["object_name"] for item in show_env["kubernetes"]["env_from_objects"]}
    # A parameter's value is known; an upstream output is not yet: its stand-in names the secret.
    assert names == {
        "USER_NAME": "user-secret",
        "PASSWORD": "api-secret",
        "TOKEN": "{{tasks['secret-name'].outputs.parameters['Output']}}",
        "COLOR": "settings",
    }
    assert show_env["kubernetes"]["labels"] == {"tier": "gold"}
    # From a recorded run (its secrets given), the output's value names the secret the run used.
    for name in ("user-secret", "api-secret", "db-secret", "settings"):
        (tmp_path / f"{name}.env").write_text("username=u\npassword=p\ntoken=t\ncolor=c\n")
    options = [f"--secret={n}={tmp_path / n}.env" for n in ("user-secret", "api-secret", "db-secret")]
    completed = run_cli("driver", str(package), "--run-id", RUN_ID, *options,
                        f"--config-map=settings={tmp_path / 'settings.env'}", home=lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (from_run,) = explain(package, "--task", "show-env", "--from-run", RUN_ID, home=lpl_home)
    tokens = [i["object_name"] for i in from_run["kubernetes"]["env_from_objects"] if i["env_var"] == "TOKEN"]
    assert tokens == ["db-secret"]
