"""A component that fails for want of what this machine cannot give (the internet, a Kubernetes cluster)
fails with one line that says so first; an ordinary failure keeps its plain message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from launcher.needs import diagnose
from ledger.model import FAILED
from tests.e2e.finished_run import CompilePipeline, run_driver


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        (
            "internet",
            "exit code 1: needs the internet: could not reach lpl-no-such-host.invalid: "
            "urllib.error.URLError:",
        ),
        (
            "cluster",
            "exit code 1: needs a Kubernetes cluster: it looked for a kube config or in-cluster credentials",
        ),
    ],
)
def test_a_missing_service_is_named_first_in_the_error(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path, need: str, expected: str
) -> None:
    no_cluster = {**os.environ, "KUBECONFIG": str(tmp_path / "no-kube-config")}
    no_cluster.pop("KUBERNETES_SERVICE_HOST", None)
    run = run_driver(
        compile_pipeline("needs"), "-p", f"need={need}", home=lpl_home, run_id=need, env=no_cluster
    )
    assert run.returncode == 1, run.output
    execution = run.execution("reach-out")
    assert execution.state == FAILED
    assert execution.properties["error"].startswith(expected), execution.properties["error"]


def test_a_configured_cluster_is_not_blamed(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("apiVersion: v1\n")
    log = "KeyError: 'KUBERNETES_SERVICE_HOST'\n"
    assert diagnose(log, environ={"KUBECONFIG": str(config)}) is None
    assert diagnose(log, environ={"KUBECONFIG": str(tmp_path / "none")}) is not None
    assert diagnose("ValueError: bad input\n", environ={}) is None
