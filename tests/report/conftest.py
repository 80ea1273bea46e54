"""Fixtures of the report tests: two recorded runs of tests/pipelines/report.py, their reports, and chromium.

- `report_runs` records run `failed` (the `explode` task fails on purpose) and then run `cached`
  (`fail=false`: every task but `explode` is a cache hit), writes each one's report with
  `python -m ledger report`, and returns them as `RecordedReport`s.
- `chromium` is the path of Debian's chromium; without one the test skips, or fails under CI (`CI=true`),
  where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.model import RunView
from ledger.store import Ledger
from tests.cli import run_cli


@dataclass(frozen=True)
class RecordedReport:
    home: Path
    run_id: str
    path: Path
    view: RunView

    @property
    def html(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def report_runs(compile_pipeline: Callable[[str], Path],
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, RecordedReport]:
    home = tmp_path_factory.mktemp("report-home")
    pipeline = str(compile_pipeline("report"))
    failed = run_cli("driver", pipeline, "--run-id", "failed", home=home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    cached = run_cli("driver", pipeline, "--run-id", "cached", "-p", "fail=false", home=home)
    assert cached.returncode == 0, cached.stdout + cached.stderr
    reports = {}
    for run_id in ("failed", "cached"):
        out = home / "reports" / f"{run_id}.html"
        written = run_cli("ledger", "report", run_id, "-o", str(out), home=home, timeout=60)
        assert written.returncode == 0, written.stderr
        view = Ledger(home, create=False).open_run(run_id).view()
        reports[run_id] = RecordedReport(home=home, run_id=run_id, path=out, view=view)
    return reports


@pytest.fixture(scope="session")
def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed; .ci/run installs it with apt-get")
    pytest.skip("chromium is not installed (apt-get install chromium)")
