"""The run's handler set (driver/run/dag.py, container.py) over the walk, in process: a hand-built pipeline,
the in-memory ledger and in-process launchers (each attempt answered by a function here, no process)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from driver.run.console import Console
from driver.run.context import RunContext
from driver.run.dag import RunHandlers, close_dag
from driver.run.launchers import InProcessLaunchers
from driver.run.slots import Slots
from driver.walk.state import DagScope, TaskResult
from driver.walk.walk import walk_dag
from ledger.memory import MemoryLedger
from ledger.model import CACHED, COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, RUNNING
from ledger.properties import RecordedProperties
from ledger.run_header import RunHeader
from ledger.store import CacheEntry, RunLedger
from spec import values
from spec.contracts import LaunchRequest, TaskFiles
from spec.ir import pipeline_spec_pb2
from spec.load import load_deployment_config
from spec.task_plan import plan_task
from tests.driver.specs import RUN

ITEM = "pipelinechannel--make-Output-loop-item"
PIPELINE: dict[str, Any] = {
    "pipelineInfo": {"name": "p"},
    "deploymentSpec": {
        "executors": {
            "exec-make": {"container": {"image": "x", "command": ["make"]}},
            "exec-double": {
                "container": {"image": "x", "command": ["double", "{{$.inputs.parameters['x']}}"]}
            },
        }
    },
    "components": {
        "comp-make": {
            "executorLabel": "exec-make",
            "outputDefinitions": {"parameters": {"Output": {"parameterType": "LIST"}}},
        },
        "comp-double": {
            "executorLabel": "exec-double",
            "inputDefinitions": {"parameters": {"x": {"parameterType": "NUMBER_INTEGER"}}},
            "outputDefinitions": {"parameters": {"Output": {"parameterType": "NUMBER_INTEGER"}}},
        },
        "comp-for-loop-1": {
            "dag": {
                "tasks": {
                    "double": {
                        "componentRef": {"name": "comp-double"},
                        "taskInfo": {"name": "double"},
                        "cachingOptions": {"enableCache": True},
                        "inputs": {"parameters": {"x": {"componentInputParameter": ITEM}}},
                    }
                }
            },
            "inputDefinitions": {
                "parameters": {
                    "pipelinechannel--make-Output": {"parameterType": "LIST"},
                    ITEM: {"parameterType": "NUMBER_INTEGER"},
                }
            },
        },
    },
    "root": {
        "dag": {
            "tasks": {
                "make": {"componentRef": {"name": "comp-make"}, "taskInfo": {"name": "make"}},
                "for-loop-1": {
                    "componentRef": {"name": "comp-for-loop-1"},
                    "dependentTasks": ["make"],
                    "taskInfo": {"name": "for-loop-1"},
                    "inputs": {
                        "parameters": {
                            "pipelinechannel--make-Output": {
                                "taskOutputParameter": {
                                    "producerTask": "make",
                                    "outputParameterKey": "Output",
                                }
                            }
                        }
                    },
                    "parameterIterator": {
                        "itemInput": ITEM,
                        "items": {"inputParameter": "pipelinechannel--make-Output"},
                    },
                },
            }
        }
    },
}


class Components:
    """Plays the launcher for each attempt: `make` outputs [1, 2, 3]; `double` outputs twice its argument."""

    def __init__(self, ledger: MemoryLedger, run_ledger: RunLedger) -> None:
        self.ledger = ledger
        self.run_ledger = run_ledger
        self.argv: list[list[str]] = []

    def __call__(self, request: LaunchRequest) -> int:
        files = TaskFiles.read(Path(request.task_dir))
        plan = plan_task(
            files.executor_input,
            component_spec=files.component,
            container=files.container,
            job=files.task.job_facts(),
        )
        self.argv.append(plan.argv)
        output = [1, 2, 3] if plan.argv[0] == "make" else 2 * int(plan.argv[1])
        outputs = {"Output": output}
        published = self.run_ledger.publish_execution(
            request.execution_id, state=COMPLETE, properties=[RecordedProperties({"outputs": outputs})]
        )
        if files.task.cache_fingerprint:  # as the launcher does: a completed task is a cache entry
            entry = CacheEntry(
                fingerprint=files.task.cache_fingerprint,
                run_id=files.task.run_id,
                execution_id=request.execution_id,
                outputs=outputs,
                artifacts=published,
            )
            self.ledger.add_cache_entry(files.task.pipeline_name, entry)
        return 0


def run(ledger: MemoryLedger, tmp_path: Path, run_id: str) -> tuple[str, RunLedger, Components]:
    spec = json_format.ParseDict(PIPELINE, pipeline_spec_pb2.PipelineSpec())
    run_ledger = ledger.create_run(
        RunHeader.from_json({"run_id": run_id, "pipeline_name": "p", "create_time": RUN.create_time}))
    components = Components(ledger, run_ledger)
    ctx = RunContext(
        pipeline_spec=spec,
        deployment=load_deployment_config(spec),
        run=RUN,
        ledger=ledger,
        run_ledger=run_ledger,
        home=tmp_path,
        run_dir=tmp_path / "runs" / run_id,
        cache_enabled=True,
        slots=Slots(4, fixed=True),
        console=Console(stream=io.StringIO(), status_stream=io.StringIO(), color=False, live=False),
        launchers=InProcessLaunchers(components),
    )
    root_id = run_ledger.create_execution(
        type=DAG_EXECUTION, name=f"run/{run_id}", state=RUNNING, properties=[]
    )
    scope = DagScope(execution_id=root_id, component=spec.root, component_name="root", task_path=())

    state = asyncio.run(walk_dag(RunHandlers(ctx), scope))

    close_dag(ctx, TaskResult(task_key="", state=state, execution_id=root_id, scope=scope), spec.root)
    return state, run_ledger, components


def containers(run_ledger: RunLedger) -> list[tuple[str, str, Any, Any]]:
    view = run_ledger.view()
    return sorted(
        (
            (e.task_name, e.state, e.properties.get("inputs"), e.properties.get("outputs"))
            for e in view.executions.values()
            if e.type == CONTAINER_EXECUTION
        ),
        key=str,
    )


def test_a_loop_over_an_upstream_output_runs_each_item_through_the_launch_plan(tmp_path: Path) -> None:
    state, run_ledger, components = run(MemoryLedger(), tmp_path, "first")

    assert state == COMPLETE
    assert containers(run_ledger) == [
        ("double", COMPLETE, {"x": 1}, {"Output": 2}),
        ("double", COMPLETE, {"x": 2}, {"Output": 4}),
        ("double", COMPLETE, {"x": 3}, {"Output": 6}),
        ("make", COMPLETE, {}, {"Output": [1, 2, 3]}),
    ]
    assert sorted(components.argv) == [["double", "1"], ["double", "2"], ["double", "3"], ["make"]]
    loop = [
        e for e in run_ledger.view().executions.values() if e.properties.get("iteration_count") is not None
    ]
    assert [
        values.value_to_python(values.python_to_value(e.properties["iteration_count"])) for e in loop
    ] == [3, 3, 3, 3]


def test_a_second_run_takes_cached_tasks_from_the_first(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    run(ledger, tmp_path, "first")

    state, run_ledger, components = run(ledger, tmp_path, "second")

    assert state == COMPLETE
    assert [s for name, s, _, _ in containers(run_ledger) if name == "double"] == [CACHED] * 3
    assert components.argv == [["make"]]  # `make` has caching off: it runs again; every `double` is a hit
