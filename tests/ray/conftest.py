"""Fixtures of the `--runner ray` tests: one real two-node Ray cluster for the session, in a network
namespace that holds only loopback (tests/ray_cluster.py), and a way to run the driver inside it.

- `ray_cluster` starts the cluster on first use and stops it when the session ends (no Ray process is left:
  stopping checks it). Without Ray or `unshare` the tests skip with the reason, or fail under CI (`CI=true`).
- `run_in_cluster(*args, home=..., timeout=...)` runs `python -m <args[0]> --home HOME <args[1:]>` inside the
  namespace, so the driver reaches the cluster at 127.0.0.1; package registries are unreachable there, so
  build a pipeline's environments first (`prebuild`: a host run outside, which uses the same env cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.cli import REPO_ROOT
from tests.e2e.conftest import seed_pipeline  # the seed example compiled now (a session fixture)
from tests.ray_cluster import RayCluster, namespace_supported, ray_installed, start_cluster

__all__ = ["RunInCluster", "prebuild", "ray_cluster", "run_in_cluster", "seed_pipeline"]


class RunInCluster(Protocol):
    def __call__(
        self, module: str, *args: str, home: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]: ...


def _unavailable() -> str | None:
    if not ray_installed():
        return "Ray is not installed: pip install 'local-pipelines[ray]'"
    return namespace_supported()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the ray tests cannot run: {reason}")
        pytest.skip(reason)
    with start_cluster() as cluster:
        yield cluster
        cluster.stop()
        left = cluster.processes()
        assert not left, f"processes left in the cluster's namespace: {sorted(left)}"


@pytest.fixture
def run_in_cluster(ray_cluster: RayCluster) -> RunInCluster:
    def run(module: str, *args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ray_cluster.in_namespace([sys.executable, "-m", module, "--home", str(home), *args]),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def prebuild(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., None]:
    """`prebuild(pipeline, *driver_args)` runs a pipeline once on the host (outside the namespace), so that
    its environments are in the cache."""
    done: set[Path] = set()

    def build(pipeline: Path, *args: str) -> None:
        if pipeline in done:
            return
        home = tmp_path_factory.mktemp("prebuild")
        completed = subprocess.run(
            [sys.executable, "-m", "driver", str(pipeline), "--home", str(home), "--no-cache", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode in (0, 1), completed.stderr
        done.add(pipeline)

    return build
