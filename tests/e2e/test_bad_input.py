"""Bad input is refused before anything runs: exit 2, one line naming the file or parameter, no traceback,
no run recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.cli import RunCli

REQUIRED = ["-p", "count=3", "-p", "items=[1, 2]", "-p", "text=hi"]


@pytest.fixture
def required_pipeline(compile_pipeline: Callable[[str], Path]) -> Path:
    return compile_pipeline("required_parameters")


def _refused(run_cli: RunCli, home: Path, *args: str) -> str:
    """Run the driver expecting a refusal; return its one line of stderr."""
    completed = run_cli("driver", *args, home=home)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert_nothing_recorded(home)
    return lines[0]


def assert_nothing_recorded(home: Path) -> None:
    runs = home / "ledger" / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
    assert not (home / "ledger" / "runs.jsonl").exists()
    assert not (home / "pipeline_root").exists()
    assert not (home / "runs").exists()


def test_the_required_pipeline_runs_when_every_parameter_is_given(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path
) -> None:
    completed = run_cli("driver", str(required_pipeline), *REQUIRED, home=lpl_home)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Output='hi:3:2'" in completed.stdout


def test_a_missing_pipeline_file(run_cli: RunCli, lpl_home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-pipeline.json"

    line = _refused(run_cli, lpl_home, str(missing))

    assert str(missing) in line


def test_truncated_json(run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.json"
    text = required_pipeline.read_text()
    truncated.write_text(text[: len(text) // 2])

    line = _refused(run_cli, lpl_home, str(truncated))

    assert str(truncated) in line
    assert "JSON" in line


def test_yaml_truncated_inside_a_string(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path
) -> None:
    text = yaml.safe_dump(json.loads(required_pipeline.read_text()))
    truncated = tmp_path / "truncated.yaml"
    truncated.write_text(text[: text.index("ensurepip")])  # inside the quoted install script

    line = _refused(run_cli, lpl_home, str(truncated))

    assert str(truncated) in line


def test_yaml_truncated_between_lines_names_the_file_on_every_line(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path
) -> None:
    text = yaml.safe_dump(json.loads(required_pipeline.read_text()))
    truncated = tmp_path / "truncated.yml"
    truncated.write_text(text[: text.index("\n", len(text) // 2) + 1])

    completed = run_cli("driver", str(truncated), home=lpl_home)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.splitlines()
    # A valid YAML document missing its second half: each problem found is one line naming the file.
    assert all(line.startswith(f"error: {truncated}: ") for line in completed.stderr.splitlines())
    assert_nothing_recorded(lpl_home)


def test_a_dangling_component_ref(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path
) -> None:
    pipeline_spec = json.loads(required_pipeline.read_text())
    pipeline_spec["root"]["dag"]["tasks"]["use-all"]["componentRef"]["name"] = "comp-nowhere"
    dangling = tmp_path / "dangling.json"
    dangling.write_text(json.dumps(pipeline_spec))

    line = _refused(run_cli, lpl_home, str(dangling), *REQUIRED)

    assert str(dangling) in line
    assert "root.dag.tasks['use-all'].componentRef.name" in line
    assert "comp-nowhere" in line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-p", "nope=1"], "'nope'"),
        (["-p", "count=abc"], "'count'"),
        (["-p", "count=1.5x"], "'count'"),
        (["-p", "items=notjson"], "'items'"),
        (["-p", 'items={"a": 1}'], "'items'"),
        (["-p", "count"], "'count'"),
    ],
    ids=["unknown", "int-not-a-number", "int-with-junk", "list-not-json", "list-given-a-dict",
         "no-equals-sign"],
)
def test_a_bad_cli_parameter(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, args: list[str], named: str
) -> None:
    line = _refused(run_cli, lpl_home, str(required_pipeline), *REQUIRED, *args)

    assert named in line


def test_a_missing_required_parameter(run_cli: RunCli, lpl_home: Path, required_pipeline: Path) -> None:
    line = _refused(run_cli, lpl_home, str(required_pipeline), "-p", "count=3", "-p", "text=hi")

    assert "'items'" in line
    assert "missing" in line


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('{"count": 3,', None),
        ("[1, 2]", None),
        ('{"count": 3, "items": [], "text": "x", "nope": 1}', "'nope'"),
        ('{"count": "three", "items": [], "text": "x"}', "'count'"),
        ('{"count": 3, "items": "[1]", "text": "x"}', "'items'"),
    ],
    ids=["truncated-json", "not-an-object", "unknown-name", "string-for-int", "string-for-list"],
)
def test_a_bad_params_file(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path, content: str, named: str | None
) -> None:
    params_file = tmp_path / "params.json"
    params_file.write_text(content)

    line = _refused(run_cli, lpl_home, str(required_pipeline), "--params-file", str(params_file))

    assert (named or str(params_file)) in line


def test_a_missing_params_file(
    run_cli: RunCli, lpl_home: Path, required_pipeline: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-params.json"

    line = _refused(run_cli, lpl_home, str(required_pipeline), "--params-file", str(missing))

    assert str(missing) in line
