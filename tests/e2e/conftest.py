"""Fixtures of the end-to-end tests: the seed example compiled now, by the pinned kfp and by kfp 2.4.0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT
from tests.e2e.docker_support import docker_client  # noqa: F401 (a fixture of the --runner docker tests)

SEED_SOURCE = REPO_ROOT / "examples" / "seed" / "make_pipeline.py"
OLD_KFP = "kfp==2.4.0"

# Runs in the interpreter whose kfp compiles: argv[1] is make_pipeline.py, argv[2] the package to write.
COMPILE_SEED = """
import importlib.util, sys, warnings
from kfp import compiler
spec = importlib.util.spec_from_file_location("make_pipeline", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
warnings.filterwarnings("ignore", "Compiling to JSON is deprecated", DeprecationWarning)
compiler.Compiler().compile(module.seed_pipeline, sys.argv[2])
"""


def _compile_seed(python: Path | str, package_path: Path) -> Path:
    subprocess.run([str(python), "-c", COMPILE_SEED, str(SEED_SOURCE), str(package_path)], check=True)
    return package_path


@pytest.fixture(scope="session")
def seed_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`examples/seed/make_pipeline.py` compiled now by the pinned kfp, to JSON."""
    return _compile_seed(sys.executable, tmp_path_factory.mktemp("seed") / "pipeline.json")


@pytest.fixture(scope="session")
def seed_pipeline_kfp_2_4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`examples/seed/make_pipeline.py` compiled by kfp 2.4.0, to YAML, in a venv of its own (it needs
    protobuf<4, which cannot share ours); installs from PyPI once, then from uv's cache."""
    root = tmp_path_factory.mktemp("kfp240")
    uv = [sys.executable, "-m", "uv"]
    venv = root / "venv"
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([*uv, "pip", "install", "--quiet", "--python", str(python), OLD_KFP], check=True)
    return _compile_seed(python, root / "pipeline.yaml")
