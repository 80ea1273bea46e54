"""dsl.If/Elif/Else and dsl.Condition end to end: branches taken, values received, CANCELED records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.model import CACHED, CANCELED, COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, FAILED
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

# conditions.py keeps one dsl.Condition on purpose: the deprecated spelling still compiles to the same IR.
pytestmark = pytest.mark.filterwarnings("ignore:dsl.Condition is deprecated:DeprecationWarning")

TRUE_BY_DEFAULT = {"int-gt-5", "flag-yes", "score-high", "quote-param", "quote-output", "ratio-low",
                   "int-gt-float", "bool-true"}


@pytest.fixture(scope="module")
def twice_in_one_home(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FinishedRun, FinishedRun]:
    """tests/pipelines/conditions.py with its defaults, run twice in one home: the second run is cached."""
    home = tmp_path_factory.mktemp("conditions-home")
    first = run_driver(compile_pipeline("conditions"), home=home, run_id="first")
    second = run_driver(compile_pipeline("conditions"), home=home, run_id="second")
    return first, second


def _assert_canceled_with_nothing_beneath(run: FinishedRun, task_name: str) -> None:
    execution = run.execution(task_name)
    assert execution.state == CANCELED
    assert execution.type == DAG_EXECUTION
    assert run.children(execution) == []
    assert not execution.properties.get("outputs")


def test_true_branches_run_with_the_values_compared_and_false_branches_are_canceled(
    twice_in_one_home: tuple[FinishedRun, FinishedRun],
) -> None:
    run, _ = twice_in_one_home

    assert run.returncode == 0, run.output
    assert run.tags() == TRUE_BY_DEFAULT
    assert run.probe("int-gt-5")["number"] == 7
    assert run.probe("int-gt-5")["types"][1] == "int"
    assert (run.probe("flag-yes")["value"], run.probe("flag-yes")["types"][0]) == ("yes", "str")
    assert (run.probe("score-high")["ratio"], run.probe("score-high")["types"][2]) == (0.9, "float")
    assert run.probe("quote-param")["value"] == "it's"
    assert run.probe("quote-output")["value"] == "it's"
    assert run.probe("ratio-low")["ratio"] == 0.5
    assert (run.probe("int-gt-float")["number"], run.probe("int-gt-float")["ratio"]) == (7, 0.5)
    # The Elif and Else branches, and the nested If under the true branch, are recorded CANCELED, empty.
    for task_name in ("condition-4", "condition-5", "condition-2"):
        _assert_canceled_with_nothing_beneath(run, task_name)
    taken = run.execution("condition-3")
    assert (taken.state, taken.properties["display_name"]) == (COMPLETE, "int-gt-5")
    children = [(c.task_name, c.state) for c in run.children(taken)]
    assert children == [("condition-2", CANCELED), ("report", COMPLETE)]
    # A DAG whose branches were skipped is still COMPLETE (not left RUNNING), and so is the run.
    assert run.execution("condition-branches-1").state == COMPLETE
    assert run.execution("condition-branches-6").state == COMPLETE
    assert run.root().state == COMPLETE
    assert run.view.state == COMPLETE


@pytest.mark.parametrize(
    ("n", "int_branch"), [("5", "int-eq-5"), ("3", "int-else")], ids=["elif", "else"]
)
def test_elif_and_else_branches_follow_the_parameters(
    compile_pipeline: CompilePipeline, lpl_home: Path, n: str, int_branch: str
) -> None:
    params = [f"n={n}", "flag=no", "score=0.5", "ratio=0.7", "word=its", "go=false"]
    run = run_driver(compile_pipeline("conditions"), *(f"--param={p}" for p in params), home=lpl_home)

    assert run.returncode == 0, run.output
    assert run.tags() == {int_branch, "flag-not-yes", "int-gt-float"}
    assert run.probe(int_branch)["number"] == int(n)
    assert run.probe("flag-not-yes")["value"] == "no"
    assert run.execution("condition-3").state == CANCELED
    assert run.execution("condition-branches-6").state == COMPLETE
    assert [c.state for c in run.children(run.execution("condition-branches-6"))] == [CANCELED, COMPLETE]
    for task_name in ("condition-9", "condition-10", "condition-11", "condition-12", "condition-14"):
        _assert_canceled_with_nothing_beneath(run, task_name)


def test_a_second_run_is_served_from_the_cache_and_its_dags_still_complete(
    twice_in_one_home: tuple[FinishedRun, FinishedRun],
) -> None:
    first, second = twice_in_one_home

    assert (first.returncode, second.returncode) == (0, 0), second.output
    assert second.probes_seen == []
    first_ids = {e.properties["task_path"]: e.id for e in first.executions(type=CONTAINER_EXECUTION)}
    for execution in second.executions(type=CONTAINER_EXECUTION):
        assert execution.state == CACHED
        cached_id = first_ids[execution.properties["task_path"]]
        assert execution.properties["cached_execution_id"] == cached_id
        assert execution.properties["outputs"] == first.view.executions[cached_id].properties["outputs"]
        # OUTPUT events link the very artifacts the cached execution produced: no new artifact.
        reused = {k: [a.id for a in v] for k, v in second.view.artifacts_of(execution.id, "OUTPUT").items()}
        produced = {k: [a.id for a in v] for k, v in first.view.artifacts_of(cached_id, "OUTPUT").items()}
        assert reused == produced
    # Backend quirk A2 not copied: a DAG whose last child was a cache hit is COMPLETE, not RUNNING.
    assert second.dag_states() == first.dag_states()
    assert {s for states in second.dag_states().values() for s in states} == {COMPLETE, CANCELED}
    assert second.view.state == COMPLETE


def _with_condition(compiled: Path, expression: str, target: Path) -> Path:
    pipeline_spec = json.loads(compiled.read_text())
    pipeline_spec["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"] = expression
    target.write_text(json.dumps(pipeline_spec))
    return target


@pytest.mark.parametrize(
    "expression",
    [
        None,  # as compiled: the SDK's unescaped quote, `== 'it's'`, does not parse
        "inputs.parameter_values['pipelinechannel--word']",  # a string, not a bool
        "int(inputs.parameter_values['pipelinechannel--word']) > 1",  # int("it's") fails at evaluation
        "inputs.parameter_values['pipelinechannel--missing'] == 'x'",  # no such input
    ],
    ids=["unescaped-quote", "not-a-bool", "evaluation-error", "unknown-input"],
)
def test_a_condition_that_cannot_be_evaluated_fails_its_task_naming_the_expression(
    compile_pipeline: CompilePipeline,
    lpl_home: Path,
    tmp_path: Path,
    expression: str | None,
) -> None:
    compiled = compile_pipeline("condition_errors")
    if expression is None:
        expression = json.loads(compiled.read_text())["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"][
            "condition"]
        assert expression.endswith("== 'it's'")
    else:
        compiled = _with_condition(compiled, expression, tmp_path / "edited.json")

    run = run_driver(compiled, home=lpl_home)

    assert run.returncode == 1, run.output
    assert run.probes_seen == []
    condition = run.execution("condition-1")
    assert condition.state == FAILED
    assert expression in condition.properties["error"]
    assert run.children(condition) == []
    assert expression in run.output
    assert run.root().state == FAILED
