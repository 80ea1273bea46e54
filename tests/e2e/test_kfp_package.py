"""`--kfp-package` runs lightweight components with the kfp the user names instead of the compiled pin, in an
environment of its own (the substitution is part of the environment's identity)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from tests.e2e.finished_run import CompilePipeline, run_driver

OTHER = "2.16.1"  # a released kfp other than the pinned one


def test_the_compiled_pin_is_replaced_by_the_named_package(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    package = compile_pipeline("kfp_version")
    pinned = run_driver(package, home=lpl_home, run_id="pinned")
    assert pinned.returncode == 0, pinned.output
    assert pinned.probe("kfp")["version"] == version("kfp")

    replaced = run_driver(package, f"--kfp-package=kfp=={OTHER}", home=lpl_home, run_id="replaced")
    assert replaced.returncode == 0, replaced.output
    assert replaced.probe("kfp")["version"] == OTHER
    assert replaced.view.header.kfp_package == f"kfp=={OTHER}"

    again = run_driver(package, home=lpl_home, run_id="pinned-again")  # the pinned env was not replaced
    assert again.probe("kfp")["version"] == version("kfp")


def test_a_local_path_is_made_absolute(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    # A directory that is no Python project: the environment build fails and says so, naming the path.
    not_a_project = tmp_path / "not-an-sdk"
    not_a_project.mkdir()
    run = run_driver(
        compile_pipeline("kfp_version"), f"--kfp-package={not_a_project}", home=lpl_home, run_id="bad"
    )
    assert run.returncode == 1, run.output
    error = run.execution("report-kfp").properties["error"]
    assert f"`{not_a_project}` does not appear to be a Python project" in error, error
    assert run.view.header.kfp_package == str(not_a_project)
