"""The pytest plugin (entry point `pytest11`, name `local_pipelines`): the `lpl` fixture runs pipelines.

Each test that asks for `lpl` gets a fresh home (its own ledger and pipeline root), while the task
environments stay cached across tests in the user cache directory, so only the first test pays for them.
`lpl.run(pipeline, arguments, **options)` is `driver.run_pipeline` with that home and the session's runner;
it raises `PipelineFailed` (the failed tasks' errors and log tails in its message) unless `check=False`.
A failed test also gets a report section per failed run: the command to inspect it, and its failure report
unless that run's `PipelineFailed` is what failed the test (its message holds the report already).

Options: `--lpl-runner NAME` (the runner of every run), `--lpl-home DIR` (keep each test's home in
`DIR/<test>`, emptied when the test starts, to inspect after the session).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from driver.user.api import RunResult

_RUNS = pytest.StashKey[list["RunResult"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("local-pipelines", "running KFP pipelines locally (the `lpl` fixture)")
    group.addoption("--lpl-runner", metavar="NAME", default=None,
                    help="the runner of every run started through the lpl fixture (host, docker, ray)")
    group.addoption("--lpl-home", metavar="DIR", type=Path, default=None,
                    help="keep each test's home in DIR/<test name> (default: the test's tmp_path)")


class LocalPipelines:
    """What the `lpl` fixture gives a test: `run(...)`, and the test's `home`."""

    def __init__(self, *, home: Path, runner: str | None, runs: list[RunResult]) -> None:
        self.home = home
        self.runner = runner
        self.runs = runs

    def run(
        self, pipeline: Any, arguments: Mapping[str, Any] | None = None, *, check: bool = True,
        **options: Any,
    ) -> RunResult:
        """`driver.run_pipeline(pipeline, arguments, home=self.home, runner=..., **options)`; raises
        `PipelineFailed` when the run fails, unless `check=False`."""
        __tracebackhide__ = True
        from driver.user.api import run_pipeline

        if self.runner is not None:
            options.setdefault("runner", self.runner)
        # Silent: a failed run's report reaches pytest once, in PipelineFailed, not also as captured output.
        options.setdefault("echo", False)
        result = run_pipeline(pipeline, arguments, home=self.home, **options)
        self.runs.append(result)
        return result.check() if check else result


@pytest.fixture
def lpl(request: pytest.FixtureRequest, tmp_path: Path) -> LocalPipelines:
    """Run pipelines in a fresh home for this test: `lpl.run(pipeline, {"n": 3}).outputs[...]`."""
    base: Path | None = request.config.getoption("--lpl-home")
    if base is None:
        home = tmp_path / "lpl-home"
    else:
        home = base.resolve() / _home_name(request.node.nodeid)
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    runs: list[RunResult] = []
    request.node.stash[_RUNS] = runs
    return LocalPipelines(home=home, runner=request.config.getoption("--lpl-runner"), runs=runs)


def _home_name(nodeid: str) -> str:
    """A directory name for a test: its id made safe, plus a digest of the id wherever making it safe
    changed more than the `::` separators (so ids such as `t[x y]` and `t[x_y]` never share a home)."""
    readable = nodeid.replace("::", "_")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", readable).strip("_")
    if safe == readable:
        return safe
    return f"{safe[:120]}-{hashlib.sha256(nodeid.encode()).hexdigest()[:10]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        raised = getattr(call.excinfo.value, "result", None) if call.excinfo is not None else None
        for result in item.stash.get(_RUNS, []):
            if not result.succeeded:
                inspect = f"inspect: lpl show {result.run_id} --home {result.home}"
                # The report of the run whose PipelineFailed failed the test is in its message already.
                shown = "" if result is raised else f"{result.failure_report or result.error}\n"
                title = f"local-pipelines run {result.run_id} {result.state}"
                report.sections.append((title, shown + inspect))
    return report
