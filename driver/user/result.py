"""`python -m driver.user.result --home DIR RUN`: one recorded run as the JSON document `driver.user.api`
reads.

`driver.run_pipeline` runs this in a process of its own after `python -m driver`, so that the caller's
process never imports our `spec` and `ledger` packages (a module of the user's called `spec` would clash).
The document: the run (id, state, pipeline name, root error, failure report), the pipeline's outputs, and
each container, importer and nested-pipeline execution with its label, iteration indexes, inputs, outputs,
artifacts, ExecutorInput as handed and log path. Output parameters are as recorded, which is what a
downstream component receives; output artifacts come shaped as the task's consumers get them
(`artifact_outputs`: one artifact, or a list for a DAG's list output such as a `dsl.Collected`).
"""

from __future__ import annotations

import os
import sys

# As in driver/__main__.py: the working directory must not shadow our packages.
if __name__ == "__main__" and sys.path and sys.path[0] == os.getcwd() != os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
):
    del sys.path[0]

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.model import Execution, RunView

def describe_result(view: RunView, *, home: Path | None = None) -> dict[str, Any]:
    """The document for one run (see the module docstring); `home` goes into the commands it suggests."""
    from driver.run.console import failure_report
    from ledger import model
    from ledger.model import DAG_EXECUTION, FAILED, is_current, kind_of

    labels = model.label_executions(view)
    root = next((e for e in view.executions.values() if e.type == DAG_EXECUTION and e.parent_dag_id is None),
                None)
    # A resume's superseded executions and side replays are not part of the run's outcome.
    tasks = [_task(view, execution, label=labels[execution.id]) for _, execution in model.tree_order(view)
             if kind_of(execution) not in ("root", "loop", "iteration") and is_current(execution)]
    report = failure_report(view, view.header.source, home=home) if view.state == FAILED else []
    return {
        "run_id": view.run_id,
        "state": view.state,
        "pipeline_name": view.header.pipeline_name,
        "pipeline_root": view.header.pipeline_root,
        "error": root.error if root is not None else "",
        "outputs": root.outputs if root is not None else {},
        "artifact_outputs": _dag_artifact_outputs(view, root) if root is not None else {},
        "tasks": tasks,
        "failure_report": "\n".join(report),
    }


def _task(view: RunView, execution: Execution, *, label: str) -> dict[str, Any]:
    from ledger.model import DAG_EXECUTION
    from ledger.views import describe
    from spec.contracts import EXECUTOR_LOGS

    produced = _artifacts_by_name(view, execution.id, "OUTPUT")
    if execution.type == DAG_EXECUTION:
        artifact_outputs = _dag_artifact_outputs(view, execution)
    else:
        # A task run again (resume) records its newer artifacts after the older ones: the last is current.
        artifact_outputs = {k: items[-1] for k, items in produced.items() if items and k != EXECUTOR_LOGS}
    return {
        "execution_id": execution.id,
        "label": label,
        "name": execution.task_name,
        "path": execution.task_path,
        "iterations": _iterations(view, execution),
        "state": execution.state,
        "type": execution.type,
        "inputs": execution.inputs,
        "outputs": execution.outputs,
        "artifact_outputs": artifact_outputs,
        "input_artifacts": _artifacts_by_name(view, execution.id, "INPUT"),
        "output_artifacts": produced,
        "executor_input": describe.describe_executor_input(execution.task_dir)["executor_input"],
        "log": _log_text(view, execution),
        "error": execution.error,
        "cached_execution_id": execution.cached_execution_id,
        "attempts": len(execution.attempts),
    }


def _iterations(view: RunView, execution: Execution) -> list[int]:
    """The loop iteration indexes the execution sits in, outermost first."""
    indexes: list[int] = []
    current: Execution | None = execution
    while current is not None:
        if current.iteration_index is not None:
            indexes.append(current.iteration_index)
        parent = current.parent_dag_id
        current = view.executions.get(parent) if parent is not None and parent != current.id else None
    return indexes[::-1]


def _dag_artifact_outputs(view: RunView, dag: Execution) -> dict[str, Any]:
    """A finished DAG's output artifacts as its `output_artifact_ids` property recorded them."""
    shaped: dict[str, Any] = {}
    for name, ids in dag.output_artifact_ids.items():
        if isinstance(ids, list):
            shaped[name] = [_artifact(view, i, name=name) for i in ids if i in view.artifacts]
        elif ids in view.artifacts:
            shaped[name] = _artifact(view, ids, name=name)
    return shaped


def _artifacts_by_name(view: RunView, execution_id: int, event_type: str) -> dict[str, list[dict[str, Any]]]:
    named: dict[str, list[dict[str, Any]]] = {}
    for name, artifacts in view.artifacts_of(execution_id, event_type).items():
        named[name] = [_artifact(view, artifact.id, name=name) for artifact in artifacts]
    return named


def _artifact(view: RunView, artifact_id: int, *, name: str) -> dict[str, Any]:
    artifact = view.artifacts[artifact_id]
    metadata = artifact.metadata
    return {"id": artifact.id, "name": name, "schema_title": artifact.type, "uri": artifact.uri,
            "metadata": metadata}


def _log_text(view: RunView, execution: Execution) -> str | None:
    from ledger.model import log_path

    path = log_path(execution, view.artifacts_of(execution.id, "OUTPUT"))
    return str(path) if path is not None else None


def main(argv: list[str] | None = None) -> int:
    from ledger.store import Ledger
    from spec.errors import LplError

    parser = argparse.ArgumentParser(
        prog="python -m driver.user.result", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("run", help="run id (or a unique prefix, or `last`)")
    args = parser.parse_args(argv)
    try:
        ledger = Ledger(args.home, create=False)
        view = ledger.open_run(ledger.resolve_run_id(args.run)).view()
        document = describe_result(view, home=args.home.resolve())
    except LplError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
