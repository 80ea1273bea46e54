"""Installed into a user's own project: a clean venv holding another kfp 2.x release (the lowest our ranges
allow), this package installed beside it from its sources (not editable), and a project directory with
its own `spec.py`; the `lpl` fixture, `lpl run` and `python -m driver` all work from there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT

# kfp 2.14.6 and its dependencies come from PyPI (once, then from uv's cache); offline, use -m "not network".
pytestmark = pytest.mark.network

OTHER_KFP = "kfp==2.14.6"
SOURCES = ("spec", "driver", "launcher", "ledger", "pyproject.toml", "README.md")

PROJECT_TEST = '''
from kfp import dsl

from spec import SUFFIX  # the project's own spec.py


@dsl.component(base_image="python:3.11")
def shout(text: str, suffix: str) -> str:
    import kfp

    return (text + suffix).upper() + " from kfp " + kfp.__version__


@dsl.pipeline(name="user-project")
def pipeline(text: str = "hello") -> str:
    return shout(text=text, suffix=SUFFIX).output


def test_pipeline(lpl):
    assert lpl.run(pipeline).output == "HELLO! from kfp 2.14.6"


def test_compile(tmp_path):
    from kfp import compiler

    compiler.Compiler().compile(pipeline, "pipeline.yaml")
'''


def _copy_sources(destination: Path) -> Path:
    """The package's sources in a directory of their own: building there writes nothing into the checkout."""
    destination.mkdir()
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("user-project")
    uv = [sys.executable, "-m", "uv"]
    venv = root / "venv"
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    package = _copy_sources(root / "local-pipelines")
    install = [*uv, "pip", "install", "--quiet", "--python", str(python), OTHER_KFP, "pytest", str(package)]
    subprocess.run(install, check=True)
    return venv


def _run(command: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def test_installs_beside_another_kfp_and_runs_from_a_project_with_a_spec_py(
    user_venv: Path, tmp_path: Path
) -> None:
    python, lpl = user_venv / "bin" / "python", user_venv / "bin" / "lpl"
    project = tmp_path / "project"
    project.mkdir()
    (project / "spec.py").write_text('SUFFIX = "!"\n')
    (project / "test_project.py").write_text(PROJECT_TEST)

    probe = ("import importlib.util, kfp, driver.user.api;"
             " print(kfp.__version__, driver.user.api.__file__, importlib.util.find_spec('ray') is None)")
    installed = _run([python, "-c", probe], cwd=tmp_path)
    tested = _run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_project.py"], cwd=project)
    home = project / "home"
    through_lpl = _run([lpl, "run", "pipeline.yaml", "--home", home, "-p", "text=hi"], cwd=project)
    through_module = _run([python, "-m", "driver", "pipeline.yaml", "--home", home], cwd=project)
    listed = _run([python, "-m", "ledger", "--home", home, "runs", "--json"], cwd=project)

    version, location, no_ray = installed.stdout.split()
    assert version == "2.14.6"
    assert "site-packages" in location  # the installed copy, not this checkout
    assert no_ray == "True"  # extras such as ray stay out of the default install
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout
    assert through_lpl.returncode == 0, through_lpl.stdout + through_lpl.stderr
    assert "HI! from kfp 2.14.6" in through_lpl.stdout
    assert through_module.returncode == 0, through_module.stdout + through_module.stderr
    assert [run["state"] for run in json.loads(listed.stdout)["runs"]] == ["COMPLETE", "COMPLETE"]
