"""`--runner ray` options checked before anything runs (no cluster needed): Ray missing, a stray address."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from driver.__main__ import main
from tests.e2e.finished_run import CompilePipeline


def _without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "ray" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_ray_asked_for_but_not_installed_is_refused_with_the_install_command(
    compile_pipeline: CompilePipeline,
    lpl_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _without_ray(monkeypatch)
    code = main([str(compile_pipeline("hello")), "--home", str(lpl_home), "--runner-for", "*=ray"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: --runner ray needs Ray, which is not installed: pip install 'local-pipelines[ray]'"
    )
    assert not (lpl_home / "ledger").exists()  # nothing recorded


def test_a_ray_address_without_the_ray_runner_is_refused(
    compile_pipeline: CompilePipeline, lpl_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([str(compile_pipeline("hello")), "--home", str(lpl_home), "--ray-address", "10.0.0.1:6379"])
    assert code == 2
    assert "--ray-address goes with --runner ray" in capsys.readouterr().err
