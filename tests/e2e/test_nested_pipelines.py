"""Nested pipelines end to end: the DAG driver's null/default rule two levels down, outputs passed back up."""

from __future__ import annotations

import pytest

from ledger.model import CANCELED, COMPLETE, DAG_EXECUTION
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver


@pytest.fixture(scope="module")
def nested_run(compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    run = run_driver(compile_pipeline("nested_pipelines"), home=tmp_path_factory.mktemp("nested-home"))
    assert run.returncode == 0, run.output
    return run


def _leaf_under(run: FinishedRun, middle_task: str) -> tuple[dict[str, object], dict[str, object]]:
    """The inputs recorded on the leaf DAG under a middle DAG, and on the container under that leaf."""
    middle = run.execution(middle_task, type=DAG_EXECUTION)
    (leaf,) = run.children(middle)
    (show,) = run.children(leaf)
    return leaf.properties["inputs"], show.properties["inputs"]


def test_omitted_optional_inputs_take_their_default_or_null_in_the_dag(nested_run: FinishedRun) -> None:
    middle = nested_run.execution("middle", type=DAG_EXECUTION)
    assert middle.properties["inputs"] == {"text": "middle-default", "maybe": None}
    leaf_inputs, show_inputs = _leaf_under(nested_run, "middle")
    assert leaf_inputs == {"text": "middle-default", "maybe": None, "number": 3}
    # The null bound to the component's optional input is dropped: absent from the container's inputs.
    assert show_inputs == {"tag": "leaf", "text": "middle-default", "number": 3}


def test_the_component_gets_its_own_default_for_a_dropped_null_and_given_values_otherwise(
    nested_run: FinishedRun,
) -> None:
    fields = ("text", "maybe", "number", "number_type")
    received = sorted(tuple(p[f] for f in fields) for p in nested_run.probes("leaf"))
    assert received == [("given", "present", 3, "int"), ("middle-default", None, 3, "int")]
    leaf_inputs, show_inputs = _leaf_under(nested_run, "middle-2")
    assert leaf_inputs == {"text": "given", "maybe": "present", "number": 3}
    assert show_inputs == {"tag": "leaf", "text": "given", "maybe": "present", "number": 3}


def test_outputs_pass_up_through_two_levels_of_nesting(nested_run: FinishedRun) -> None:
    assert nested_run.probe("after-defaulted")["text"] == "leaf:middle-default:None:3"
    assert nested_run.probe("after-given")["text"] == "leaf:given:present:3"
    for middle_task in ("middle", "middle-2"):
        middle = nested_run.execution(middle_task, type=DAG_EXECUTION)
        assert middle.state == COMPLETE
        assert [c.state for c in nested_run.descendants(middle)] == [COMPLETE, COMPLETE]


def test_a_oneof_returned_by_a_nested_pipeline_reaches_the_consumer(nested_run: FinishedRun) -> None:
    assert nested_run.probe("after-choose")["text"] == "choose-else:from-else:None:0"
    assert nested_run.probes("choose-a") == []
    assert nested_run.execution("condition-2").state == CANCELED
    assert nested_run.execution("choose", type=DAG_EXECUTION).state == COMPLETE


def test_the_nested_oneof_follows_the_branch_the_parameter_picks(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = run_driver(compile_pipeline("nested_pipelines"), "-p", "mode=a",
                     home=tmp_path_factory.mktemp("nested-mode-a"))

    assert run.returncode == 0, run.output
    assert run.probe("after-choose")["text"] == "choose-a:from-a:None:0"
    assert run.execution("condition-3").state == CANCELED
