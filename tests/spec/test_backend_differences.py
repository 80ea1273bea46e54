"""spec/backend_differences.py: which constructs of a compiled pipeline the KFP backend would reject or run
differently, each with its docs/conformance.md row; hand-built IR in the compiler's JSON form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from spec.backend_differences import backend_differences, rejection_warning
from spec.ir import pipeline_spec_pb2
from spec.load import load_deployment_config

CONFORMANCE = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
DATASET = {"artifactType": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}}


def _pipeline(root_tasks: dict[str, Any], components: dict[str, Any], executors: dict[str, Any]) -> Any:
    document = {
        "pipelineInfo": {"name": "p"},
        "root": {"dag": {"tasks": root_tasks}},
        "components": components,
        "deploymentSpec": {"executors": executors},
    }
    spec = json_format.ParseDict(document, pipeline_spec_pb2.PipelineSpec())
    return backend_differences(spec, load_deployment_config(spec))


def _container(image: str = "x", args: list[str] | None = None) -> dict[str, Any]:
    return {"container": {"image": image, "command": ["sh"], "args": args or []}}


def _loop(name: str, body: str, *, items: str, item: str, selector: str = "") -> dict[str, Any]:
    source: dict[str, Any] = {"componentInputParameter": items}
    if selector:
        source["parameterExpressionSelector"] = selector
    return {"componentRef": {"name": body}, "taskInfo": {"name": name},
            "inputs": {"parameters": {items: source}},
            "parameterIterator": {"items": {"inputParameter": items}, "itemInput": item}}


def test_a_plain_pipeline_has_no_differences() -> None:
    found = _pipeline({"t": {"componentRef": {"name": "comp-t"}}},
                      {"comp-t": {"executorLabel": "exec-t"}}, {"exec-t": _container()})
    assert found == [] and rejection_warning(found) == ""


def test_an_artifact_iterator_is_a_rejection_with_one_warning_naming_each_loop() -> None:
    loop = {"componentRef": {"name": "comp-body"},
            "inputs": {"artifacts": {"ds": {"componentInputArtifact": "ds"}}},
            "artifactIterator": {"items": {"inputArtifact": "ds"}, "itemInput": "d"}}
    body = {"dag": {"tasks": {}},
            "inputDefinitions": {"artifacts": {"ds": DATASET | {"isArtifactList": True}, "d": DATASET}}}
    found = _pipeline({"for-loop-1": loop, "for-loop-2": loop}, {"comp-body": body}, {})

    assert [(d.task, d.row, d.rejected) for d in found] == [
        ("for-loop-1", "S2", True), ("for-loop-2", "S2", True)]
    warning = rejection_warning(found)
    assert "rejects this pipeline at submission (for-loop-1, for-loop-2)" in warning
    assert warning.endswith("(docs/conformance.md S2)")


def test_a_body_task_reading_the_iterated_list_and_a_loop_over_an_items_field_are_differences() -> None:
    inner = _loop("inner", "comp-inner", items="xs", item="x")
    reader = {"componentRef": {"name": "comp-t"},
              "inputs": {"parameters": {"all": {"componentInputParameter": "xs"}}}}
    sub_list = _loop("sub", "comp-inner", items="x", item="y", selector='parseJson(string_value)["subs"]')
    components = {
        "comp-outer": {"dag": {"tasks": {"inner": inner, "reader": reader, "sub": sub_list}}},
        "comp-inner": {"dag": {"tasks": {}}},
        "comp-t": {"executorLabel": "exec-t"},
    }
    found = _pipeline({"outer": _loop("outer", "comp-outer", items="xs", item="x")}, components,
                      {"exec-t": _container()})

    assert [(d.task, d.row, d.rejected) for d in found] == [
        ("outer/inner", "S1", False), ("outer/reader", "S1", False), ("outer/sub", "A1", False)]
    assert rejection_warning(found) == ""


def test_an_artifact_list_into_a_sub_dag_an_importer_display_name_and_if_present_on_an_artifact() -> None:
    nested = {"componentRef": {"name": "comp-nested"},
              "inputs": {"artifacts": {"many": {"taskOutputArtifact": {"producerTask": "p",
                                                                       "outputArtifactKey": "o"}}}}}
    importer = {"componentRef": {"name": "comp-imp"}, "taskInfo": {"name": "My importer"}}
    then = ["--data", "{{$.inputs.artifacts['data'].path}}"]
    if_present = json.dumps({"IfPresent": {"InputName": "data", "Then": then}})
    reader = {"componentRef": {"name": "comp-read"}}
    components = {
        "comp-nested": {"dag": {"tasks": {}},
                        "inputDefinitions": {"artifacts": {"many": DATASET | {"isArtifactList": True}}}},
        "comp-imp": {"executorLabel": "exec-imp"},
        "comp-read": {"executorLabel": "exec-read",
                      "inputDefinitions": {"artifacts": {"data": DATASET | {"isOptional": True}}}},
    }
    executors = {"exec-imp": {"importer": {"artifactUri": {"constant": "/x"}}},
                 "exec-read": _container(args=[if_present])}
    found = _pipeline({"imp": importer, "nested": nested, "read": reader}, components, executors)

    assert [(d.task, d.row) for d in found] == [("imp", "A3"), ("nested", "A9"), ("read", "A13")]


def test_every_row_named_exists_in_the_conformance_document() -> None:
    text = CONFORMANCE.read_text()
    for row in ("S1", "S2", "A1", "A3", "A9", "A13"):
        assert f"| {row} " in text, row
