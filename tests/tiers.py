"""The test tiers: `slow` marks what runs real pipelines, launchers or engines; the rest is the fast tier.

`tests/conftest.py` marks, at collection, every test under a slow directory (the end-to-end tests, which run
real launcher processes; Ray; the report's browser) and every test that uses a fixture marked `@slow_fixture`
(one that runs real pipelines to read back, or builds a real environment); the UI's tests and the KFP API's
server tests start the real server. A test that runs a pipeline
itself carries `pytest.mark.slow`. `python -m pytest -m "not slow"` runs the fast tier.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.cli import REPO_ROOT

# The UI's and the KFP API's tests start the real server (and chromium, and drivers).
SLOW_DIRECTORIES = tuple(REPO_ROOT / "tests" / name for name in ("e2e", "ray", "report", "ui"))
SLOW_FILES = tuple(REPO_ROOT / "tests" / "kfp_api" / f"test_{name}.py"
                   for name in ("runs", "pipelines", "requests"))
_SLOW = "_lpl_slow_fixture"
Fixture = TypeVar("Fixture", bound=Callable[..., Any])


def slow_fixture(fixture: Fixture) -> Fixture:
    """Marks a fixture (below its `@pytest.fixture`) that runs real pipelines or builds a real environment:
    every test using it is slow."""
    setattr(fixture, _SLOW, True)
    return fixture


def is_slow(item: pytest.Item) -> bool:
    path = Path(item.path)
    if any(path.is_relative_to(directory) for directory in SLOW_DIRECTORIES) or path in SLOW_FILES:
        return True
    fixture_info = getattr(item, "_fixtureinfo", None)  # pytest's own record of the fixtures a test uses
    definitions = fixture_info.name2fixturedefs.values() if fixture_info is not None else ()
    return any(getattr(d.func, _SLOW, False) for defs in definitions for d in defs)
