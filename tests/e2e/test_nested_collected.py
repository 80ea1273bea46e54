"""Nested loops over a sub-field, collected flat, in a nested pipeline (pipelines/nested_collected.py)."""

from __future__ import annotations

from pathlib import Path

from ledger.model import COMPLETE
from tests.e2e.finished_run import CompilePipeline, run_driver


def test_values_collected_across_nested_loops_arrive_as_one_flat_list_of_ints(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("nested_collected"), home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.probe("total")["xs"] == [10, 20, 30]  # iteration order, inner loops flattened
    assert sorted(p["x"] for p in run.probes("sub")) == [1, 2, 3]
    assert {p["type"] for p in run.probes("sub")} == {"int"}
    assert [p["x"] for p in run.probes("big")] == [2]  # the condition held for one item only
    assert run.probe("none")["x"] == 60  # the optional artifact was absent; the pipeline output flowed on
    assert run.root().state == COMPLETE
    assert run.root().properties["outputs"] == {"Output": 60}


def test_collected_leaves_out_the_iterations_whose_condition_was_false(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("collected_condition"), home=lpl_home)

    assert run.returncode == 0, run.output
    # x = 1 is below the threshold: its `double` never ran, so it adds neither a value nor an artifact.
    assert run.probe("add")["nums"] == [4, 6]
    assert run.probe("read")["values"] == [4, 6]
    assert run.root().state == COMPLETE
    assert run.root().properties["outputs"] == {"Output": [4, 6]}
