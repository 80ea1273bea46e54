"""Tests for spec.validate: dangling references, undeclared inputs and cycles, each found at its JSON path."""

# No `from __future__ import annotations` here: kfp reads the components' annotations as real types.
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from google.protobuf import json_format
from kfp import dsl

from spec.dependencies import task_dependencies
from spec.ir import pipeline_spec_pb2
from spec.validate import validate_pipeline

IMAGE = "python:3.11"
CompiledDict = Callable[[Any], dict[str, Any]]


@dsl.component(base_image=IMAGE)
def number(x: int = 1) -> int:
    return x


@dsl.component(base_image=IMAGE)
def echo(text: str = "a") -> str:
    return text


@dsl.component(base_image=IMAGE)
def make_dataset(dataset: dsl.Output[dsl.Dataset]) -> None:
    pass


@dsl.component(base_image=IMAGE)
def read_dataset(dataset: dsl.Input[dsl.Dataset]) -> str:
    return ""


@dsl.component(base_image=IMAGE)
def read_datasets(datasets: dsl.Input[list[dsl.Dataset]]) -> int:
    return 0


@dsl.component(base_image=IMAGE)
def total(xs: list[int]) -> int:
    return sum(xs)


@dsl.component(base_image=IMAGE)
def report(status: dsl.PipelineTaskFinalStatus) -> None:
    pass


@dsl.component(base_image=IMAGE)
def pair() -> NamedTuple("Pair", [("a", int), ("b", str)]):  # type: ignore[misc]
    return (1, "x")


@dsl.pipeline
def chain(x: int = 1) -> int:
    """Covers: componentInputParameter, taskOutputParameter and a pipeline output."""
    first = number(x=x)
    second = number(x=first.output)
    return second.output


@dsl.pipeline
def artifacts() -> None:
    """Covers: taskOutputArtifact, an importer, and Collected artifacts from a loop."""
    made = make_dataset()
    read_dataset(dataset=made.outputs["dataset"])
    imported = dsl.importer(artifact_uri="gs://bucket/x", artifact_class=dsl.Dataset, reimport=False)
    read_dataset(dataset=imported.output)
    with dsl.ParallelFor([1, 2]):
        looped = make_dataset()
    read_datasets(datasets=dsl.Collected(looped.outputs["dataset"]))


@dsl.pipeline
def loops() -> list[int]:
    """Covers: loops over raw items, over a task output, over a sub-variable, nested, and Collected."""
    with dsl.ParallelFor([{"a": [1, 2]}], parallelism=2) as outer, dsl.ParallelFor(outer.a) as inner:
        numbers = number(x=inner)
    total(xs=dsl.Collected(numbers.output))
    return dsl.Collected(numbers.output)


@dsl.pipeline
def branches(x: int = 1) -> str:
    """Covers: If/Elif/Else, OneOf as a DAG output, and a condition on a pipeline input."""
    n = number(x=x)
    with dsl.If(n.output == 1):
        one = echo(text="one")
    with dsl.Elif(n.output == 2):
        two = echo(text="two")
    with dsl.Else():
        other = echo(text="other")
    chosen = dsl.OneOf(one.output, two.output, other.output)
    echo(text=chosen)
    return chosen


@dsl.pipeline
def exit_handler(text: str = "x") -> None:
    """Covers: ExitHandler with PipelineTaskFinalStatus, retries, caching options and named outputs."""
    final = report()
    with dsl.ExitHandler(final):
        echo(text=text).set_retry(num_retries=2).set_caching_options(False)
        echo(text=pair().outputs["b"])


@dsl.pipeline
def sub_pipeline(x: int, dataset: dsl.Input[dsl.Dataset]) -> dsl.Dataset:
    """Covers: a nested pipeline with componentInputArtifact and an artifact output."""
    read_dataset(dataset=dataset)
    return make_dataset().outputs["dataset"]


@dsl.pipeline
def nesting(x: int = 1) -> None:
    """Covers: nested pipelines, which become DAG components."""
    made = make_dataset()
    inner = sub_pipeline(x=x, dataset=made.outputs["dataset"])
    read_dataset(dataset=inner.output)
    branches(x=x)


def to_pipeline_spec(data: dict[str, Any]) -> Any:
    """Parse an IR dict as it stands, however damaged its references are."""
    return json_format.ParseDict(data, pipeline_spec_pb2.PipelineSpec())


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(problem.json_path, problem.message) for problem in validate_pipeline(to_pipeline_spec(data))]


def root_tasks(data: dict[str, Any]) -> dict[str, Any]:
    tasks: dict[str, Any] = data["root"]["dag"]["tasks"]
    return tasks


@pytest.mark.parametrize("pipeline_func", [chain, artifacts, loops, branches, exit_handler, nesting, number])
def test_compiled_pipelines_have_no_problems(compiled_dict: CompiledDict, pipeline_func: Any) -> None:
    assert problems_of(compiled_dict(pipeline_func)) == []


def test_unknown_component_ref_is_reported_at_the_task(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number"]["componentRef"]["name"] = "comp-missing"
    assert ("root.dag.tasks['number'].componentRef.name", "no component 'comp-missing' in components") in (
        problems_of(data)
    )


def test_missing_executor_is_reported_at_the_component(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    data["components"]["comp-number"]["executorLabel"] = "exec-gone"
    assert problems_of(data) == [
        ("components['comp-number'].executorLabel", "no executor 'exec-gone' in deploymentSpec.executors")
    ]


def test_executor_without_container_is_reported(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    data["deploymentSpec"]["executors"]["exec-number"] = {}
    path, message = problems_of(data)[0]
    assert path == "deploymentSpec.executors['exec-number']"
    assert "no container" in message


def test_unknown_field_in_an_executor_is_reported_at_its_path(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    data["deploymentSpec"]["executors"]["exec-number"]["container"]["imagee"] = "x"
    path, message = problems_of(data)[0]
    assert path == "deploymentSpec.executors['exec-number'].container.imagee"
    assert "did you mean 'image'" in message


def test_unknown_dependent_task_is_reported_with_its_index(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number-2"]["dependentTasks"] = ["number", "ghost"]
    assert problems_of(data) == [
        ("root.dag.tasks['number-2'].dependentTasks[1]", "no task 'ghost' in the DAG of the root component")
    ]


def test_producer_task_must_be_a_sibling_not_a_task_of_another_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(branches)
    # `echo` lives in the DAG of condition-2, not in the root DAG.
    root_tasks(data)["echo-4"]["inputs"]["parameters"]["text"] = {
        "taskOutputParameter": {"producerTask": "echo", "outputParameterKey": "Output"}
    }
    path = "root.dag.tasks['echo-4'].inputs.parameters['text'].taskOutputParameter.producerTask"
    assert (path, "no task 'echo' in the DAG of the root component") in problems_of(data)


def test_unknown_artifact_producer_is_reported(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(artifacts)
    root_tasks(data)["read-dataset"]["inputs"]["artifacts"]["dataset"]["taskOutputArtifact"][
        "producerTask"
    ] = "nope"
    path = "root.dag.tasks['read-dataset'].inputs.artifacts['dataset'].taskOutputArtifact.producerTask"
    assert (path, "no task 'nope' in the DAG of the root component") in problems_of(data)


def test_unknown_final_status_producer_is_reported(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(exit_handler)
    status = root_tasks(data)["report"]["inputs"]["parameters"]["status"]
    status["taskFinalStatus"]["producerTask"] = "exit-handler-9"
    path = "root.dag.tasks['report'].inputs.parameters['status'].taskFinalStatus.producerTask"
    assert (path, "no task 'exit-handler-9' in the DAG of the root component") in problems_of(data)


def test_component_input_parameter_must_be_declared_by_the_enclosing_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number"]["inputs"]["parameters"]["x"]["componentInputParameter"] = "y"
    assert problems_of(data) == [
        (
            "root.dag.tasks['number'].inputs.parameters['x'].componentInputParameter",
            "the root component declares no input parameter 'y'",
        )
    ]


def test_component_input_artifact_must_be_declared_by_the_enclosing_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(nesting)
    task = data["components"]["comp-sub-pipeline"]["dag"]["tasks"]["read-dataset"]
    task["inputs"]["artifacts"]["dataset"]["componentInputArtifact"] = "x"
    path = (
        "components['comp-sub-pipeline'].dag.tasks['read-dataset']"
        ".inputs.artifacts['dataset'].componentInputArtifact"
    )
    message = (
        "'comp-sub-pipeline' declares no input artifact 'x' (it declares an input parameter of that name)"
    )
    assert problems_of(data) == [(path, message)]


def test_extra_task_parameters_are_legal_as_the_sdk_adds_them_for_f_strings(
    compiled_dict: CompiledDict,
) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number"]["inputs"]["parameters"]["pipelinechannel--extra"] = {
        "runtimeValue": {"constant": 1}
    }
    assert problems_of(data) == []


def test_a_parameter_passed_where_an_artifact_is_declared_gets_a_hint(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(artifacts)
    task = root_tasks(data)["read-dataset"]
    task["inputs"] = {"parameters": {"dataset": {"runtimeValue": {"constant": "x"}}}}
    task["dependentTasks"] = []
    path, message = problems_of(data)[0]
    assert path == "root.dag.tasks['read-dataset'].inputs.parameters['dataset']"
    assert message.endswith("(it declares an input artifact of that name)")


def test_dag_output_producer_subtask_must_be_a_task_of_that_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    outputs = data["root"]["dag"]["outputs"]["parameters"]
    outputs["Output"]["valueFromParameter"]["producerSubtask"] = "number-9"
    path = "root.dag.outputs.parameters['Output'].valueFromParameter.producerSubtask"
    assert problems_of(data) == [(path, "no task 'number-9' in the DAG of the root component")]


def test_one_of_selectors_must_name_tasks_of_that_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(branches)
    outputs = data["components"]["comp-condition-branches-1"]["dag"]["outputs"]["parameters"]
    (name,) = outputs
    outputs[name]["valueFromOneof"]["parameterSelectors"][1]["producerSubtask"] = "condition-99"
    path = (
        f"components['comp-condition-branches-1'].dag.outputs.parameters[{name!r}]"
        ".valueFromOneof.parameterSelectors[1].producerSubtask"
    )
    assert problems_of(data) == [(path, "no task 'condition-99' in the DAG of 'comp-condition-branches-1'")]


def test_artifact_selectors_must_name_tasks_of_that_dag(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(nesting)
    outputs = data["components"]["comp-sub-pipeline"]["dag"]["outputs"]["artifacts"]
    (name,) = outputs
    outputs[name]["artifactSelectors"][0]["producerSubtask"] = "gone"
    path = (
        f"components['comp-sub-pipeline'].dag.outputs.artifacts[{name!r}]"
        ".artifactSelectors[0].producerSubtask"
    )
    assert problems_of(data) == [(path, "no task 'gone' in the DAG of 'comp-sub-pipeline'")]


def test_a_dependency_cycle_is_named_task_by_task(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number"]["dependentTasks"] = ["number-2"]
    assert problems_of(data) == [
        ("root.dag.tasks", "the tasks depend on each other in a cycle: number → number-2 → number")
    ]


def test_a_task_depending_on_itself_is_a_cycle(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number"]["dependentTasks"] = ["number"]
    assert problems_of(data) == [
        ("root.dag.tasks", "the tasks depend on each other in a cycle: number → number")
    ]


def test_a_dag_component_that_runs_itself_is_reported(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(nesting)
    sub_tasks = data["components"]["comp-sub-pipeline"]["dag"]["tasks"]
    sub_tasks["again"] = {"componentRef": {"name": "comp-sub-pipeline"}, "taskInfo": {"name": "again"}}
    assert problems_of(data) == [
        (
            "components['comp-sub-pipeline']",
            "the component runs itself: comp-sub-pipeline → comp-sub-pipeline",
        )
    ]


def test_components_that_run_each_other_are_reported_as_one_cycle(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(nesting)
    branch_tasks = data["components"]["comp-condition-2"]["dag"]["tasks"]
    branch_tasks["back"] = {"componentRef": {"name": "comp-branches"}, "taskInfo": {"name": "back"}}
    cycle = "comp-branches → comp-condition-branches-1 → comp-condition-2 → comp-branches"
    assert problems_of(data) == [("components['comp-branches']", f"the component runs itself: {cycle}")]


def test_a_loop_must_iterate_over_one_of_its_own_inputs(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(loops)
    loop_task = data["components"]["comp-for-loop-2"]["dag"]["tasks"]["for-loop-3"]
    loop_task["parameterIterator"]["items"]["inputParameter"] = "missing"
    path = "components['comp-for-loop-2'].dag.tasks['for-loop-3'].parameterIterator.items.inputParameter"
    assert problems_of(data) == [(path, "the task has no input parameter 'missing' to iterate over")]


def test_missing_name_and_root_are_reported() -> None:
    problems = [(p.json_path, p.message) for p in validate_pipeline(pipeline_spec_pb2.PipelineSpec())]
    assert problems == [
        ("pipelineInfo.name", "the pipeline has no name"),
        ("root", "the pipeline has no root component"),
    ]


def test_all_problems_are_collected_in_a_stable_order(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    root_tasks(data)["number-2"]["componentRef"]["name"] = "comp-b"
    root_tasks(data)["number"]["componentRef"]["name"] = "comp-a"
    data["components"]["comp-number"]["executorLabel"] = "exec-gone"
    paths = [path for path, _ in problems_of(data)]
    assert paths == [
        "root.dag.tasks['number'].componentRef.name",
        "root.dag.tasks['number-2'].componentRef.name",
        "components['comp-number'].executorLabel",
    ]


def test_problems_carry_the_file_name(compiled_dict: CompiledDict) -> None:
    data = compiled_dict(chain)
    data["components"]["comp-number"]["executorLabel"] = "exec-gone"
    (problem,) = validate_pipeline(to_pipeline_spec(data), file="pipeline.json")
    assert str(problem) == (
        "pipeline.json: components['comp-number'].executorLabel: "
        "no executor 'exec-gone' in deploymentSpec.executors"
    )


def test_task_dependencies_include_producers_and_dependencies(compiled_dict: CompiledDict) -> None:
    spec = to_pipeline_spec(compiled_dict(exit_handler))
    assert task_dependencies(spec.root.dag.tasks["report"]) == {"exit-handler-1"}
    assert task_dependencies(spec.components["comp-exit-handler-1"].dag.tasks["echo-2"]) == {"pair"}
