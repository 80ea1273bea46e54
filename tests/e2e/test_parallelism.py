"""Independent tasks run at the same time up to --parallelism, read from the ledger's attempt times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.e2e.finished_run import run_driver
from tests.e2e.recorded import attempt_interval, overlap


def _nap_intervals(package: Path, parallelism: int, home: Path) -> list[tuple[float, float]]:
    run = run_driver(package, "--parallelism", str(parallelism), home=home)
    assert run.returncode == 0, run.output
    return [attempt_interval(run.execution(task)) for task in ("nap", "nap-2")]


def test_two_independent_tasks_overlap_with_parallelism_2(
    compile_pipeline: Callable[[str], Path], lpl_home: Path
) -> None:
    first, second = _nap_intervals(compile_pipeline("parallel"), 2, lpl_home)

    assert overlap(first, second), (first, second)


def test_two_independent_tasks_do_not_overlap_with_parallelism_1(
    compile_pipeline: Callable[[str], Path], lpl_home: Path
) -> None:
    first, second = _nap_intervals(compile_pipeline("parallel"), 1, lpl_home)

    assert not overlap(first, second), (first, second)


def test_a_loops_own_limit_is_honoured_with_default_flags(
    compile_pipeline: Callable[[str], Path], lpl_home: Path, tmp_path: Path
) -> None:
    # Issue 15 item 9: with the old default (the CPU count) the eight iterations never all met.
    run = run_driver(compile_pipeline("wide_loop"), "-p", f"barrier={tmp_path / 'barrier'}", home=lpl_home)

    assert run.returncode == 0, run.output
    assert sorted(probe["seen"] for probe in run.probes("meet")) == [8] * 8
