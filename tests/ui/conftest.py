"""Fixtures of the UI tests: a home with two finished runs of tests/pipelines/ui.py, the real UI server over
it, and headless chromium driven by Selenium.

- `ui_home` records runs `a` (accuracy 0.9) and `b` (accuracy 0.8) through `python -m driver`; `ui_pipeline`
  is the compiled file, for tests that start a run of their own (`--run-id`, a `gate` file they create).
- `ui` is `python -m ledger ui --home <ui_home> --port 0` for the session (`tests.ui.server.UiServer`); the
  fixture checks that Ctrl-C stops it with status 0.
- `browser` is a Selenium Chrome driver on Debian's chromium and chromedriver; without them the tests skip, or
  fail under CI (`CI=true`), where `.ci/run` installs them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.ui.server import UiServer, start_ui


@pytest.fixture(scope="session")
def ui_pipeline(compile_pipeline: Callable[[str], Path]) -> Path:
    return compile_pipeline("ui")


@pytest.fixture(scope="session")
def ui_home(ui_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("ui-home")
    for run_id, accuracy in (("a", "0.9"), ("b", "0.8")):
        completed = run_cli("driver", str(ui_pipeline), "--run-id", run_id, "-p", f"accuracy={accuracy}",
                            "-q", home=home)
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return home


@pytest.fixture(scope="session")
def ui(ui_home: Path) -> Iterator[UiServer]:
    server = start_ui(ui_home)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    binary, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not chromedriver:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are not installed; .ci/run installs them with apt-get")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
