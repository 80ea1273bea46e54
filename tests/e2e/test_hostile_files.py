"""Hostile pipeline and parameter files are refused with one line and exit 2, nothing recorded (issue 15,
item 4, and the input cases of item 3): 50,000 nested `[` in YAML (the PyYAML C loader used to crash the
process), a YAML alias bomb in a `defaultValue`, 100,000-deep JSON, duplicate keys, and numbers that JSON
cannot hold (`NaN`, `1e999`, `.nan`). The base pipeline is tests/pipelines/hostile_base.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli import RunCli
from tests.e2e.finished_run import CompilePipeline
from tests.e2e.test_bad_input import assert_nothing_recorded

BOMB_LEVELS = 9  # 10 ** 9 nodes once expanded, from about 300 bytes


def refused(run_cli: RunCli, home: Path, *args: str, timeout: float = 60) -> str:
    completed = run_cli("driver", *args, home=home, timeout=timeout)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output
    assert "Traceback" not in output
    lines = completed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), completed.stderr
    assert_nothing_recorded(home)
    return lines[0]


@pytest.fixture
def base(compile_pipeline: CompilePipeline) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(compile_pipeline("hostile_base").read_text())
    return loaded


def _root_default(spec: dict[str, Any], name: str) -> dict[str, Any]:
    parameter: dict[str, Any] = spec["root"]["inputDefinitions"]["parameters"][name]
    return parameter


def test_deeply_nested_yaml_is_refused_without_crashing(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 50_000)

    line = refused(run_cli, lpl_home, str(deep))

    assert str(deep) in line and "nesting deeper than" in line


def test_deeply_nested_json_is_refused(run_cli: RunCli, lpl_home: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)

    line = refused(run_cli, lpl_home, str(deep))

    assert str(deep) in line and "nesting deeper than" in line


def test_a_yaml_alias_bomb_in_a_default_value_is_refused_quickly(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, base: dict[str, Any]
) -> None:
    text = yaml.safe_dump(base, sort_keys=False)
    anchors = "  lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"  lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, BOMB_LEVELS + 1)
    )
    marker = "        defaultValue:\n          a: 1.0\n"
    assert marker in text
    bomb = tmp_path / "bomb.yaml"
    exploded = text.replace(marker, f"        defaultValue: *l{BOMB_LEVELS}\n")
    bomb.write_text("x-anchors:\n" + anchors + exploded)

    line = refused(run_cli, lpl_home, str(bomb), timeout=20)

    assert "aliases expand the document past" in line


def test_duplicate_yaml_keys_are_refused(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, base: dict[str, Any]
) -> None:
    text = yaml.safe_dump(base, sort_keys=False)
    twice = tmp_path / "twice.yaml"
    twice.write_text(text + "pipelineInfo:\n  name: other\n")

    line = refused(run_cli, lpl_home, str(twice))

    assert "'pipelineInfo' given twice" in line and str(twice) in line


def test_duplicate_json_keys_are_refused(run_cli: RunCli, lpl_home: Path, tmp_path: Path) -> None:
    twice = tmp_path / "twice.json"
    twice.write_text('{"pipelineInfo": {"name": "a"}, "pipelineInfo": {"name": "b"}}')

    assert "'pipelineInfo' given twice" in refused(run_cli, lpl_home, str(twice))


def test_a_nan_default_in_yaml_is_refused(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, base: dict[str, Any]
) -> None:
    _root_default(base, "rate")["defaultValue"] = float("nan")
    spec = tmp_path / "nan.yaml"
    spec.write_text(yaml.safe_dump(base))
    assert ".nan" in spec.read_text()

    line = refused(run_cli, lpl_home, str(spec))

    assert "not finite" in line and "defaultValue" in line


@pytest.mark.parametrize("number", ["1e999", "NaN", "-Infinity"])
def test_a_params_file_with_a_number_json_cannot_hold_is_refused(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, compile_pipeline: CompilePipeline, number: str
) -> None:
    params = tmp_path / "params.json"
    params.write_text(f'{{"rate": {number}}}')

    line = refused(run_cli, lpl_home, str(compile_pipeline("hostile_base")), "--params-file", str(params))

    assert str(params) in line


@pytest.mark.parametrize("value", ["1e999", "nan", "inf"])
def test_a_number_parameter_json_cannot_hold_is_refused(
    run_cli: RunCli, lpl_home: Path, compile_pipeline: CompilePipeline, value: str
) -> None:
    line = refused(run_cli, lpl_home, str(compile_pipeline("hostile_base")), "-p", f"rate={value}")

    assert "'rate'" in line


def _never_ending(tmp_path: Path, kind: str, name: str) -> str:
    """A source that never ends: a FIFO no one writes to, or /dev/zero (through a symlink with `name`)."""
    path = tmp_path / name
    if kind == "fifo":
        __import__("os").mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return str(path)


@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize("option", ["pipeline", "--params-file", "--secret", "--config-map"])
def test_a_source_that_never_ends_is_refused_before_anything_runs(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, compile_pipeline: CompilePipeline, kind: str, option: str
) -> None:
    source = _never_ending(tmp_path, kind, "source.json")
    pipeline = str(compile_pipeline("hostile_base"))
    args = {
        "pipeline": [source],
        "--params-file": [pipeline, "--params-file", source],
        "--secret": [pipeline, "--secret", f"creds={source}"],
        "--config-map": [pipeline, "--config-map", f"settings={source}"],
    }[option]

    line = refused(run_cli, lpl_home, *args, timeout=30)

    assert "is not a regular file" in line and source in line, line


def test_a_secret_directory_holding_a_fifo_is_refused(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path, compile_pipeline: CompilePipeline
) -> None:
    directory = tmp_path / "creds"
    directory.mkdir()
    (directory / "user").write_text("alice")
    _never_ending(directory, "fifo", "token")

    line = refused(run_cli, lpl_home, str(compile_pipeline("hostile_base")), "--secret", f"creds={directory}")

    assert f"{directory}/token is not a regular file (a FIFO)" in line, line
