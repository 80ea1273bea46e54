"""Fixtures of the end-to-end tests: the seed example compiled fresh, by the pinned kfp and by kfp 2.4.0."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT

SEED_SOURCE = REPO_ROOT / "examples" / "seed" / "make_pipeline.py"
OLD_KFP = "kfp==2.4.0"

# Runs inside another interpreter: compile the seed's `seed_pipeline` to argv[2] with that interpreter's kfp.
COMPILE_SEED = """
import importlib.util, sys
from kfp import compiler
spec = importlib.util.spec_from_file_location("make_pipeline", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
compiler.Compiler().compile(module.seed_pipeline, sys.argv[2])
"""


@pytest.fixture(scope="session")
def seed_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`examples/seed/make_pipeline.py` compiled now, by the pinned kfp, to JSON."""
    package_path = tmp_path_factory.mktemp("seed") / "pipeline.json"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Compiling to JSON is deprecated", DeprecationWarning)
        subprocess.run([sys.executable, "-c", COMPILE_SEED, str(SEED_SOURCE), str(package_path)], check=True)
    return package_path


@pytest.fixture(scope="session")
def seed_pipeline_kfp_2_4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`examples/seed/make_pipeline.py` compiled by kfp 2.4.0 (which needs protobuf<4, so its own venv)."""
    root = tmp_path_factory.mktemp("kfp240")
    uv = [sys.executable, "-m", "uv"]
    venv = root / "venv"
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([*uv, "pip", "install", "--quiet", "--python", str(python), OLD_KFP], check=True)
    package_path = root / "pipeline.yaml"
    subprocess.run([str(python), "-c", COMPILE_SEED, str(SEED_SOURCE), str(package_path)], check=True)
    return package_path


@pytest.fixture(scope="session")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A fresh home for a run shared by the tests of one module (`module_home("name")`)."""

    def make(name: str) -> Path:
        return tmp_path_factory.mktemp(f"home-{name}")

    return make
