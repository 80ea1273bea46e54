"""Fixtures shared by the tests, end-to-end ones above all.

- `compile_pipeline(name)` compiles `tests/pipelines/<name>.py` (which defines a `@dsl.pipeline` function
  called `pipeline`) with the installed kfp, once per test session, and returns the JSON file's path (a YAML
  file's when the module sets `PACKAGE_SUFFIX = ".yaml"`: kfp writes kfp-kubernetes settings only to YAML).
- `lpl_home` is a fresh, empty home directory for one test (pass it as `home=`).
- `run_cli(module, *args, home=..., env=None, cache_home=None, timeout=300)` is `tests.cli.run_cli`: it runs
  `python -m <module> --home <home> <args...>` from the repository root and returns the completed process,
  stdout and stderr as text, without raising on a non-zero status (assert on `returncode`). Task
  environments stay cached in the user's cache directory, so tests reuse what earlier tests built; pass
  `cache_home` to give that one process its own `XDG_CACHE_HOME`. Annotate it with `tests.cli.RunCli`.

`slow` marks the tests that run real pipelines, launchers or engines (`tests/tiers.py`): `python -m pytest
-m "not slow"` is the fast tier.

Example::

    def test_hello_succeeds(compile_pipeline, lpl_home, run_cli):
        completed = run_cli("driver", str(compile_pipeline("hello")), home=lpl_home)
        assert completed.returncode == 0, completed.stderr
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT, RunCli
from tests.cli import run_cli as _run_cli
from tests.tiers import is_slow

PIPELINES_DIR = REPO_ROOT / "tests" / "pipelines"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def compile_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Compile `tests/pipelines/<name>.py` to JSON once per session; returns the JSON file's path."""
    from kfp import compiler  # here, not at the top: importing kfp costs half a second

    out_dir = tmp_path_factory.mktemp("pipelines")
    compiled: dict[str, Path] = {}

    def compile_by_name(name: str) -> Path:
        if name not in compiled:
            source = PIPELINES_DIR / f"{name}.py"
            module_spec = importlib.util.spec_from_file_location(f"tests_pipelines_{name}", source)
            if module_spec is None or module_spec.loader is None:
                raise FileNotFoundError(f"no pipeline source {source}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            package_path = out_dir / f"{name}{getattr(module, 'PACKAGE_SUFFIX', '.json')}"
            with warnings.catch_warnings():
                # kfp deprecates JSON output in favour of YAML; JSON is what this project runs first.
                warnings.filterwarnings("ignore", "Compiling to JSON is deprecated", DeprecationWarning)
                compiler.Compiler().compile(module.pipeline, str(package_path))
            compiled[name] = package_path
        return compiled[name]

    return compile_by_name


@pytest.fixture
def lpl_home(tmp_path: Path) -> Path:
    """A fresh, empty home directory for the ledger and the pipeline root."""
    home = tmp_path / "lpl-home"
    home.mkdir()
    return home


@pytest.fixture
def run_cli() -> RunCli:
    """`tests.cli.run_cli`; see the module docstring."""
    return _run_cli
