"""The shared fixtures of conftest.py do what their docstrings say."""

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli import REPO_ROOT, RunCli


def test_compile_pipeline_writes_the_pipeline_spec_once(compile_pipeline: Callable[[str], Path]) -> None:
    package_path = compile_pipeline("hello")

    pipeline_spec = json.loads(package_path.read_text())
    assert pipeline_spec["pipelineInfo"]["name"] == "hello"
    assert "exec-say-hello" in pipeline_spec["deploymentSpec"]["executors"]
    assert compile_pipeline("hello") == package_path


def test_lpl_home_is_a_fresh_empty_directory(lpl_home: Path) -> None:
    assert lpl_home.is_dir()
    assert list(lpl_home.iterdir()) == []


def test_run_cli_passes_home_args_env_and_cache_home_from_the_repo_root(
    run_cli: RunCli, lpl_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "echo_argv.py").write_text(
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'cwd': os.getcwd(),"
        " 'cache': os.environ.get('XDG_CACHE_HOME'), 'extra': os.environ.get('LPL_TEST_EXTRA')}))\n"
    )

    completed = run_cli(
        "echo_argv",
        "a",
        "b c",
        home=lpl_home,
        env={"PYTHONPATH": str(tmp_path), "LPL_TEST_EXTRA": "yes"},
        cache_home=tmp_path / "cache",
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {
        "argv": ["--home", str(lpl_home), "a", "b c"],
        "cwd": str(REPO_ROOT),
        "cache": str(tmp_path / "cache"),
        "extra": "yes",
    }
