"""Parameters of every type reach components intact, from defaults, `-p` and `--params-file`, and flow on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.model import COMPLETE, CONTAINER_EXECUTION
from tests.e2e.finished_run import FinishedRun, run_driver
from tests.e2e.recorded import typed

DEFAULTS: dict[str, Any] = {
    "text": "hello",
    "count": 3,
    "ratio": 0.25,
    "flag": True,
    "config": {"name": "cfg", "nested": {"whole": 2, "half": 0.5}, "levels": [1, 2]},
    "items": [1, 2, {"three": 3}],
}
# What echo_all hands back: every input it received, its own default `fallback` included.
ECHOED_DEFAULTS = {**DEFAULTS, "fallback": "component-default"}

GIVEN: dict[str, Any] = {
    "text": "007",  # STRING is taken verbatim, never parsed as a number
    "count": 42,
    "ratio": 1.5,
    "flag": False,
    "config": {"k": {"n": 1, "x": 0.5}, "l": [1, 2.5, {"deep": 3}]},
    "items": [1, [2], {"x": 3}, "four"],
    "maybe": "given",
}


def _assert_echoed(run: FinishedRun, *, inputs: dict[str, Any]) -> None:
    assert run.returncode == 0, run.output
    assert {e.state for e in run.executions()} == {COMPLETE}
    echo = run.execution("echo-all")
    # The optional `maybe` left null and the defaulted `fallback` are not resolved by the driver: the backend
    # leaves them out of the recorded inputs and the launcher adds the default for the process.
    assert typed(echo.properties["inputs"]) == typed(inputs)
    expected_outputs = {k: v for k, v in inputs.items() if k != "maybe"} | {"fallback": "component-default"}
    assert typed(echo.properties["outputs"]) == typed(expected_outputs)
    assert typed(run.execution("check-all").properties["inputs"]) == typed(expected_outputs)


@pytest.fixture(scope="module")
def default_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    return run_driver(compile_pipeline("parameter_types"), home=tmp_path_factory.mktemp("home"))


def test_defaults_of_every_type_reach_the_component_with_whole_numbers_still_ints(
    default_run: FinishedRun,
) -> None:
    _assert_echoed(default_run, inputs=DEFAULTS)
    assert "maybe" not in default_run.execution("echo-all").properties["inputs"]


def test_the_root_records_the_defaults_and_null_for_the_optional_parameter(default_run: FinishedRun) -> None:
    assert typed(default_run.root().properties["inputs"]) == typed({**DEFAULTS, "maybe": None})


def test_the_process_receives_the_component_default_and_none_for_the_optional_input(
    default_run: FinishedRun,
) -> None:
    received = next(line for line in default_run.completed.stdout.splitlines() if "received=" in line)

    assert "'maybe': None" in received
    assert "'fallback': 'component-default'" in received


def test_a_single_list_output_keeps_its_nested_whole_numbers(default_run: FinishedRun) -> None:
    made = default_run.execution("make-list").properties["outputs"]["Output"]

    assert typed(made) == typed([1, {"two": 2, "half": 0.5}, [3]])
    assert typed(default_run.execution("check-list").properties["inputs"]) == typed({"values": made})


def test_cli_parameters_of_every_type_are_parsed_by_declared_type(
    compile_pipeline: Callable[[str], Path], lpl_home: Path
) -> None:
    args = [
        "-p", f"text={GIVEN['text']}",
        "-p", f"count={GIVEN['count']}",
        "-p", f"ratio={GIVEN['ratio']}",
        "-p", "flag=false",
        "-p", f"config={json.dumps(GIVEN['config'])}",
        "-p", f"items={json.dumps(GIVEN['items'])}",
        "-p", f"maybe={GIVEN['maybe']}",
    ]

    run = run_driver(compile_pipeline("parameter_types"), *args, home=lpl_home)

    _assert_echoed(run, inputs=GIVEN)
    assert typed(run.root().properties["inputs"]) == typed(GIVEN)


def test_a_params_file_of_every_type_is_taken_as_json(
    compile_pipeline: Callable[[str], Path], lpl_home: Path, tmp_path: Path
) -> None:
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps(GIVEN))

    run = run_driver(compile_pipeline("parameter_types"), "--params-file", str(params_file), home=lpl_home)

    _assert_echoed(run, inputs=GIVEN)


@pytest.fixture(scope="module")
def coercion_run(
    compile_pipeline: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> FinishedRun:
    return run_driver(compile_pipeline("coercion"), home=tmp_path_factory.mktemp("home"))


def test_numbers_bools_and_structs_passed_to_a_string_input_arrive_as_the_backend_text(
    coercion_run: FinishedRun,
) -> None:
    assert coercion_run.returncode == 0, coercion_run.output
    # Each show-text task raises unless its process received exactly the expected text; the ledger agrees.
    shown = {e.properties["display_name"]: e.properties["inputs"]["text"]
             for e in coercion_run.executions(type=CONTAINER_EXECUTION)
             if e.properties["display_name"].endswith("-to-str")}

    assert typed(shown) == typed({
        "int-to-str": "3",
        "float-to-str": "2.5",
        "bool-to-str": "true",
        "dict-to-str": '{"a":1,"b":[2]}',
        "output-int-to-str": "7",
    })
