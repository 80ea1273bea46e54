"""The pytest plugin, as a user meets it: a test file of theirs, run by pytest in a process of its own, from
a project directory that has its own `spec.py` (imported by the test: our packages must not clash with it)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO_ROOT

# Each test runs a user's pytest, whose tests run real pipelines (tests/tiers.py).
pytestmark = pytest.mark.slow

USER_TEST = '''
from kfp import dsl

from spec import GREETING  # the project's own module called spec


@dsl.component(base_image="python:3.11")
def greet(name: str) -> str:
    return name + "!"


@dsl.component(base_image="python:3.11")
def boom(name: str):
    print("about to fail for " + name)
    raise ValueError("boom-in-user-test")


@dsl.pipeline(name="user-failing")
def failing(name: str = "x"):
    boom(name=greet(name=name).output)


def test_greets(lpl):
    result = lpl.run(greet, {"name": GREETING})

    assert result.output == "hi!"
    assert (lpl.home / "ledger").is_dir()


def test_fails(lpl):
    lpl.run(failing)
'''


def test_the_lpl_fixture_in_a_users_test_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "spec.py").write_text('GREETING = "hi"\n')
    (project / "test_user.py").write_text(USER_TEST)
    homes = tmp_path / "homes"

    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--lpl-home", str(homes),
         "--lpl-runner", "host", "test_user.py"],
        cwd=project, capture_output=True, text=True, timeout=600, check=False,
    )
    output = completed.stdout + completed.stderr

    assert completed.returncode == 1, output
    assert "1 failed, 1 passed" in output
    # The failure shows the failed task, its error and its log's tail, and where the run's home is.
    assert "PipelineFailed" in output
    assert "failed task: boom" in output
    assert "| ValueError: boom-in-user-test" in output
    # The report once, not also as captured output (pytest's own summary line repeats the exception's message,
    # cut to the terminal's width, whole under CI: not counted).
    failures = output.split("short test summary info")[0]
    assert failures.count("failed task: boom") == 1, output
    assert "local-pipelines run" in output and "inspect: lpl show" in output
    # The explain command it gives works as pasted, from anywhere: it names the run's home.
    explains = [line.split("explain:", 1)[1] for line in failures.splitlines() if "explain:" in line]
    (explain,) = [line.strip() for line in explains]
    assert explain.startswith("python -m driver ") and "--home" in explain, explain
    command = explain.replace("python", shlex.quote(sys.executable), 1)
    pasted = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            check=False)
    assert pasted.returncode == 0 and "boom" in pasted.stdout, pasted.stdout + pasted.stderr
    # Each test had a home of its own, kept under --lpl-home.
    assert sorted(p.name for p in homes.iterdir()) == ["test_user.py_test_fails", "test_user.py_test_greets"]
    assert all((home / "ledger").is_dir() for home in homes.iterdir())


def test_the_readme_example_passes(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Test your pipeline with pytest", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example is not None
    (tmp_path / "test_readme.py").write_text(example.group(1))

    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_readme.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout


def test_test_ids_that_differ_only_in_unsafe_characters_get_homes_of_their_own() -> None:
    from driver.user.pytest_plugin import _home_name

    names = [_home_name(f"test_user.py::test_sweep[{param}]") for param in ("x y", "x_y", "x/y", "x-y")]
    assert len(set(names)) == 4, names
    assert _home_name("test_user.py::test_fails") == "test_user.py_test_fails"
    assert all("/" not in name and " " not in name for name in names)
