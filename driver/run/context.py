"""The run-wide values every node handler reads: specs, ledger, limits, console; read once, passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driver.run.console import Console
from driver.run.launchers import LaunchedProcess, Launchers
from driver.run.slots import Slots
from driver.walk.state import RunInfo
from ledger.model import Execution
from ledger.store import Ledger, RunLedger
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import ExecutorSettings
from spec.runner_choice import RunnerChoice

PreviousKey = tuple[int | None, str, int | None]


@dataclass
class RunContext:
    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    deployment: pipeline_spec_pb2.PipelineDeploymentConfig
    run: RunInfo
    ledger: Ledger
    run_ledger: RunLedger
    home: Path
    run_dir: Path
    cache_enabled: bool
    slots: Slots
    console: Console
    launchers: Launchers
    mounts: dict[str, str] = field(default_factory=dict)
    workspace: str = ""
    platform_spec: pipeline_spec_pb2.PlatformSpec | None = None
    kubernetes: dict[str, ExecutorSettings] = field(default_factory=dict)  # by executor label
    # Local sources of secrets and config maps: {"secret": {name: path}, "config map": {name: path}}.
    local_sources: dict[str, dict[str, str]] = field(default_factory=dict)
    kfp_package: str = ""  # replaces a lightweight component's kfp pin (--kfp-package)
    # Executions already recorded for this run id (resume), by (parent DAG id, task key, iteration).
    previous: dict[PreviousKey, Execution] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    # Launcher processes running now, so an interrupt can stop them.
    processes: set[LaunchedProcess] = field(default_factory=set)
    stopping: bool = False
    # Which runner each task goes to (--runner, --runner-for), and the options every runner receives.
    runner: RunnerChoice = field(default_factory=RunnerChoice)
    runner_options: dict[str, Any] = field(default_factory=dict)

    def component(self, name: str) -> pipeline_spec_pb2.ComponentSpec:
        if name == "root":
            return self.pipeline_spec.root
        return self.pipeline_spec.components[name]

    def warn_once(self, key: str, message: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            self.console.event("warning", f"warning: {message}", warning=message)
