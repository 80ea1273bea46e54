"""What the `--runner docker` tests need: a reachable Docker daemon and the test images of
scripts/test-images. Without them the tests skip with the reason, except under CI (CI=true), where a
missing daemon or image fails them: `.ci/run` installs and starts Docker and builds the images."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

SHELL_IMAGE = "lpl-test/shell:1"
PYTHON_IMAGE = "lpl-test/python:3.11"
RUN_LABEL = "io.local-pipelines.run_id"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the Docker tests: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A client of the Docker daemon with the test images present (or skip / fail, see above)."""
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        _unavailable(f"no Docker daemon reachable ({str(exc).splitlines()[0][:150]}); start one (`dockerd`)")
    for image in (SHELL_IMAGE, PYTHON_IMAGE):
        try:
            client.images.get(image)
        except Exception:
            _unavailable(f"test image {image} missing: build it with scripts/test-images")
    return client


def run_containers(client: Any, run_id: str) -> list[dict[str, Any]]:
    """The containers (running or not) that the launchers of run `run_id` started, as the Engine API lists
    them (`Id`, `State`, `Labels`, ...): one call, no race with a container removed meanwhile."""
    return list(client.api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}))


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took (fails the test after `timeout`)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started
