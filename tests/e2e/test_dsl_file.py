"""`python -m driver FILE.py[:FUNCTION]` (issue 23): a DSL file is compiled with the installed kfp and run,
explained or resumed like the file it compiles to, which is kept in `<home>/pipelines/`; a file without one
pipeline, or whose import fails, is one line and exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

from ledger.model import COMPLETE
from tests.cli import RunCli
from tests.conftest import PIPELINES_DIR

TWO_PIPELINES = '''
from kfp import dsl

@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return text

@dsl.pipeline(name="first")
def first() -> str:
    return echo(text="one").output

@dsl.pipeline(name="second")
def second() -> str:
    return echo(text="two").output
'''


def test_a_dsl_file_runs_and_its_compiled_file_is_kept(
    lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    source = tmp_path / "sweep.py"
    shutil.copy(PIPELINES_DIR / "sweep.py", source)

    completed = run_cli("driver", str(source), "-p", "rates=[0.2]", "--run-id", "dsl", home=lpl_home)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Output='published 1'" in completed.stdout  # lr 0.2 scores 1.0, which is published
    (kept,) = (lpl_home / "pipelines").iterdir()
    assert kept.name.startswith("sweep-") and kept.suffix == ".yaml"
    explained = run_cli("driver", str(source), "--explain", "--task", "train-model[0]", "-p", "rates=[0.2]",
                        home=lpl_home)
    assert explained.returncode == 0, explained.stderr
    assert "train-model" in explained.stdout
    shown = run_cli("ledger", "show", "dsl", home=lpl_home)
    assert shown.returncode == 0 and COMPLETE in shown.stdout


def test_a_file_with_several_pipelines_takes_one_by_name(
    lpl_home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    source = tmp_path / "two.py"
    source.write_text(TWO_PIPELINES)

    refused = run_cli("driver", str(source), home=lpl_home)
    chosen = run_cli("driver", f"{source}:second", home=lpl_home)

    assert refused.returncode == 2
    expected = f"error: {source} defines several pipelines (first, second): choose one as {source}:NAME\n"
    assert refused.stderr == expected
    assert chosen.returncode == 0, chosen.stderr
    assert "Output='two'" in chosen.stdout


def test_a_dsl_file_that_fails_to_import_is_one_line(lpl_home: Path, tmp_path: Path, run_cli: RunCli) -> None:
    source = tmp_path / "broken.py"
    source.write_text("import kfp\nraise RuntimeError('no such thing')\n")

    refused = run_cli("driver", str(source), home=lpl_home)

    assert refused.returncode == 2
    assert refused.stderr == f"error: {source}: importing it raised RuntimeError: no such thing\n"
    assert not (lpl_home / "ledger").exists()
