"""The local-path shim lets a real kfp 2.4.0 executor read and write artifacts at local-path URIs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from launcher.legacy_paths import SHIM_MODULE, SHIM_PTH, install_local_path_shim, needs_local_path_shim
from tests.tiers import slow_fixture

OLD_KFP = "kfp==2.4.0"
# The tests below that use a kfp 2.4.0 environment install it from PyPI (once, then from uv's cache);
# where PyPI cannot be reached, deselect them with `-m "not network"`.
network = pytest.mark.network


@pytest.mark.parametrize(
    ("kfp_version", "expected"),
    [
        ("1.8.22", True),
        ("2.0.1", True),
        ("2.4.0", True),
        ("2.4", True),
        ("2.4.0rc1", True),
        ("v2.4.0", True),
        ("2.5.0", False),
        ("2.5.0b1", False),
        ("2.17.3", False),
        ("3.0.0", False),
        ("git+https://example.invalid/kfp", True),
        ("", True),
    ],
)
def test_needs_local_path_shim_before_kfp_2_5(kfp_version: str, expected: bool) -> None:
    assert needs_local_path_shim(kfp_version) is expected


def _make_env(root: Path) -> tuple[Path, Path]:
    """A venv holding exactly what a kfp 2.4.0 component installs (`kfp==2.4.0 --no-deps`); (python, site)."""
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(root)], check=True)
    python = root / "bin" / "python"
    install = [*uv, "pip", "install", "--quiet", "--python", str(python), OLD_KFP, "--no-deps"]
    subprocess.run(install, check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return python, Path(site)


@pytest.fixture(scope="module")
@slow_fixture
def plain_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python, _ = _make_env(tmp_path_factory.mktemp("kfp240-plain"))
    return python


@pytest.fixture(scope="module")
@slow_fixture
def shimmed_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    python, site = _make_env(tmp_path_factory.mktemp("kfp240-shimmed"))
    install_local_path_shim(site)
    return python, site


# Runs inside the kfp 2.4.0 environment and prints what it sees as JSON.
PROBE = textwrap.dedent(
    """
    import json, sys
    kfp_at_start_up = "kfp" in sys.modules
    from kfp.dsl import Dataset
    local = Dataset(uri="/tmp/lpl-probe/stage-1/data")
    moved = Dataset(uri="/tmp/lpl-probe/a")
    moved.path = "/tmp/lpl-probe/b"
    remote = Dataset(uri="gs://bucket/object")
    mounted = Dataset()
    mounted.path = "/gcs/bucket/other"
    print(json.dumps({
        "kfp_at_start_up": kfp_at_start_up,
        "local_path": local.path,
        "moved_uri": moved.uri,
        "moved_path": moved.path,
        "remote_path": remote.path,
        "mounted_uri": mounted.uri,
        "empty_path": Dataset().path,
    }))
    """
)


def _probe(python: Path) -> dict[str, object]:
    completed = subprocess.run(
        [str(python), "-c", PROBE],
        env={**os.environ, "_KFP_RUNTIME": "true"},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


@network
def test_without_the_shim_kfp_2_4_has_no_path_for_a_local_uri(plain_env: Path) -> None:
    assert _probe(plain_env)["local_path"] is None


@network
def test_with_the_shim_a_local_uri_is_its_own_path_and_remote_uris_keep_their_mounts(
    shimmed_env: tuple[Path, Path],
) -> None:
    python, _ = shimmed_env

    assert _probe(python) == {
        "kfp_at_start_up": False,
        "local_path": "/tmp/lpl-probe/stage-1/data",
        "moved_uri": "/tmp/lpl-probe/b",
        "moved_path": "/tmp/lpl-probe/b",
        "remote_path": "/gcs/bucket/object",
        "mounted_uri": "gs://bucket/other",
        "empty_path": None,
    }


@network
def test_installing_twice_leaves_the_same_two_files(shimmed_env: tuple[Path, Path]) -> None:
    _, site = shimmed_env
    before = {path.name: path.read_text() for path in site.glob("_lpl*")}

    install_local_path_shim(site)

    assert {path.name: path.read_text() for path in site.glob("_lpl*")} == before
    assert sorted(before) == sorted([f"{SHIM_MODULE}.py", SHIM_PTH])
    assert not list(site.glob(".*.tmp"))


COMPONENT = textwrap.dedent(
    """
    import kfp
    from kfp import dsl
    from kfp.dsl import *
    from typing import *

    def write_text(text: str, data: Output[Dataset]) -> str:
        with open(data.path, "w") as file:
            file.write(text)
        return data.path
    """
)


@network
def test_the_kfp_2_4_executor_writes_an_output_artifact_at_its_local_uri(
    shimmed_env: tuple[Path, Path], tmp_path: Path
) -> None:
    python, _ = shimmed_env
    component = tmp_path / "ephemeral_component.py"
    component.write_text(COMPONENT)
    uri = tmp_path / "pipeline_root" / "write-text" / "data"
    executor_input = {
        "inputs": {"parameterValues": {"text": "hello"}},
        "outputs": {
            "artifacts": {
                "data": {
                    "artifacts": [
                        {"name": "data", "type": {"schemaTitle": "system.Dataset"}, "uri": str(uri)}
                    ]
                }
            },
            "parameters": {"Output": {"outputFile": str(tmp_path / "outputs" / "Output")}},
            "outputFile": str(tmp_path / "outputs" / "executor_output.json"),
        },
    }

    completed = subprocess.run(
        [
            str(python),
            "-m",
            "kfp.dsl.executor_main",
            "--component_module_path",
            str(component),
            "--executor_input",
            json.dumps(executor_input),
            "--function_to_execute",
            "write_text",
        ],
        env={**os.environ, "_KFP_RUNTIME": "true"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert uri.read_text() == "hello"
    executor_output = json.loads((tmp_path / "outputs" / "executor_output.json").read_text())
    assert executor_output["parameterValues"] == {"Output": str(uri)}
    assert executor_output["artifacts"]["data"]["artifacts"][0]["uri"] == str(uri)
