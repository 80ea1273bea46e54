"""The README as a new user reads it: its debug commands run as written on the example pipeline (only
`<run-id>` filled in), and `python examples/seed/make_pipeline.py` writes the committed pipeline.json byte for
byte."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.cli import REPO_ROOT

README = REPO_ROOT / "README.md"
SEED = REPO_ROOT / "examples" / "seed"


def _debug_commands() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Inspect and debug what ran") :]
    section = section[: section.index("\n## ", 1)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        lines = [line for line in block.splitlines() if line.startswith("python -m")]
        commands += [line.split("#", 1)[0].strip() for line in lines]
    return commands


def _run(command: str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    assert argv[0] == "python"
    return subprocess.run([sys.executable, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def test_the_readme_debug_commands_run_as_written_on_the_example(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO_ROOT / "examples")
    # The commands name no --home: the user's is $LPL_HOME; environments pruned here are a throwaway cache's.
    env = {**os.environ, "LPL_HOME": str(tmp_path / "home")}
    first = _run("python -m driver examples/seed/pipeline.json --run-id first-run", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    # A second run to compare with; not from the cache, or `last` would hold only cache hits to replay.
    second = _run("python -m driver examples/seed/pipeline.json --no-cache", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    commands = _debug_commands()
    assert len(commands) == 13, commands
    for command in commands:
        command_env = {**env, "XDG_CACHE_HOME": str(tmp_path / "cache")} if " prune " in command else env
        completed = _run(command.replace("<run-id>", "first-run"), cwd=tmp_path, env=command_env)
        allowed = (0, 1) if " diff " in command else (0,)
        assert completed.returncode in allowed, f"{command}\n{completed.stdout}{completed.stderr}"
        assert "Traceback" not in completed.stderr, command
    assert (tmp_path / "report.html").exists()


def test_make_pipeline_writes_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "pipeline.json"
    completed = subprocess.run([sys.executable, str(SEED / "make_pipeline.py"), str(target)],
                               capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""  # no deprecation noise either
    assert target.read_bytes() == (SEED / "pipeline.json").read_bytes()


def test_the_readme_says_the_report_tests_need_chromium() -> None:
    tests_section = README.read_text().split("## Run the tests", 1)[1].split("\n## ", 1)[0]
    assert "chromium" in tests_section and "tests/report/" in tests_section
