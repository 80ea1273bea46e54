"""`python -m driver PIPELINE --explain`: what each task would receive; nothing runs or is recorded."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from driver.explain.handlers import Entry, ExplainHandlers, Recorded
from driver.walk import standins
from driver.walk.params import build_root_parameters, read_params_file
from driver.walk.recorded import recorded_pipeline
from driver.walk.state import RunInfo
from driver.walk.walk import walk_dag
from ledger.model import RunView
from ledger.run_header import RunHeader
from ledger.store import Ledger
from spec.backend_differences import BackendDifference, backend_differences, rejection_warning
from spec.errors import LedgerError, OptionError, TaskRefError
from spec.ir import pipeline_spec_pb2
from spec.kubernetes import load_kubernetes_settings
from spec.labels import resolve_label, select_labels
from spec.load import load_deployment_config, load_pipeline
from spec.runner_choice import RunnerChoice

# What only a run decides (its id, its start time) is shown as these when no recorded run is given.
RUN_ID, CREATE_TIME = "<run-id>", "<create-time>"


@dataclass(frozen=True)
class ExplainOptions:
    pipeline: Path | None
    home: Path
    params: list[str] = field(default_factory=list)
    params_file: Path | None = None
    pipeline_root: Path | None = None
    workspace: Path | None = None
    mounts: dict[str, str] = field(default_factory=dict)
    cache: bool = True
    tasks: list[str] = field(default_factory=list)
    from_run: str | None = None
    as_json: bool = False
    kfp_package: str = ""
    runner: RunnerChoice | None = None  # None: the recorded run's choice (--from-run), else the host runner
    runner_options: dict[str, Any] = field(default_factory=dict)


def explain(options: ExplainOptions) -> int:
    """Print the entries of every task (or of the tasks named by --task); return the exit status."""
    walk = prepare_walk(options)
    parameters = _root_parameters(options, walk)
    standing_in = sorted(
        name for name, value in parameters.items() if value == standins.parameter_reference(name)
    )
    asyncio.run(walk_dag(walk, walk.root_scope(parameters)))
    entries = select_entries(walk.entries, options.tasks)
    differences = backend_differences(walk.pipeline_spec, walk.deployment_config)
    if options.as_json:
        document = {
            "pipeline": walk.run.pipeline_name,
            "fromRun": options.from_run,
            "parametersStandingIn": standing_in,
            "backendDifferences": [difference.to_json() for difference in differences],
            "tasks": entries,
        }
        _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        text = render_text(
            entries, pipeline=walk.run.pipeline_name, from_run=options.from_run, standing_in=standing_in
        )
        _write(text + "\n" + render_differences(differences))
    return 0


def _write(text: str) -> None:
    """Print, quietly stopping when the reader went away (`... --explain | head`)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush cannot fail


def prepare_walk(options: ExplainOptions) -> ExplainHandlers:
    """Load and check the pipeline (and the recorded run) as a run would, without touching the home."""
    recorded = Recorded.of(read_recorded_run(options.home, options.from_run)) if options.from_run else None
    platform_spec: pipeline_spec_pb2.PlatformSpec | None = None
    if options.pipeline is not None:
        loaded = load_pipeline(options.pipeline)
        pipeline_spec, platform_spec = loaded.pipeline_spec, loaded.platform_spec
    elif recorded is not None:  # as it last ran: a `--resume RUN FILE` changed it
        last = recorded_pipeline(recorded.view)
        pipeline_spec, platform_spec = last.pipeline_spec, last.platform_spec
    else:
        raise OptionError("a pipeline file is required (or --from-run RUN_ID)")
    run = _run_info(options, pipeline_spec.pipeline_info.name, recorded)
    recorded_header = recorded.view.header if recorded else None
    workspace = (
        str(options.workspace.resolve())
        if options.workspace
        else (recorded_header.workspace if recorded_header else None) or f"{run.run_root}/workspace"
    )
    return ExplainHandlers(
        pipeline_spec=pipeline_spec,
        deployment_config=load_deployment_config(pipeline_spec),
        run=run,
        run_dir=options.home.resolve() / "runs" / run.run_id,
        workspace=workspace,
        cache_enabled=options.cache,
        kubernetes=load_kubernetes_settings(platform_spec, file=options.pipeline),
        kfp_package=options.kfp_package or (recorded_header.kfp_package or "" if recorded_header else ""),
        mounts={**((recorded_header.mounts or {}) if recorded_header else {}), **options.mounts},
        recorded=recorded,
        runner=options.runner or _recorded_runner(recorded_header),
        runner_options={**_recorded_runner_options(recorded_header), **options.runner_options},
        home=options.home.resolve(),
    )


def _recorded_runner(header: RunHeader | None) -> RunnerChoice:
    return RunnerChoice.from_json(header.runner) if header is not None else RunnerChoice()


def _recorded_runner_options(header: RunHeader | None) -> dict[str, Any]:
    return dict(header.runner_options or {}) if header is not None else {}


def read_recorded_run(home: Path, run_id: str) -> RunView:
    # Opening a Ledger creates a missing store; explain must not, so look before opening.
    if not Ledger.exists_in(home):
        raise OptionError(f"--from-run {run_id}: there is no ledger in {home}")
    try:
        ledger = Ledger(home)
        return ledger.open_run(ledger.resolve_run_id(run_id)).view()
    except LedgerError as exc:
        raise OptionError(f"--from-run {run_id}: {exc}") from exc


def _run_info(options: ExplainOptions, name: str, recorded: Recorded | None) -> RunInfo:
    if recorded is not None:
        header = recorded.view.header
        return RunInfo(
            run_id=header.run_id,
            pipeline_name=name,
            pipeline_root=header.pipeline_root,
            run_root=header.run_root,
            job_name=header.job_name,
            create_time=header.create_time,
            resource_name=header.resource,
        )
    root = str((options.pipeline_root or options.home / "pipeline_root").resolve())
    return RunInfo(
        run_id=RUN_ID,
        pipeline_name=name,
        pipeline_root=root,
        run_root=f"{root}/{name}/{RUN_ID}",
        job_name=RUN_ID,
        create_time=CREATE_TIME,
    )


def _root_parameters(options: ExplainOptions, walk: ExplainHandlers) -> dict[str, struct_pb2.Value]:
    """As a run builds them; with --from-run, the recorded run's values unless the options give others."""
    root = walk.pipeline_spec.root
    given: dict[str, Any] = {}
    if walk.recorded is not None:
        declared = root.input_definitions.parameters
        recorded = walk.recorded.view.header.parameters
        given = {k: v for k, v in recorded.items() if k in declared and v is not None}
    if options.params_file is not None:
        given |= read_params_file(options.params_file)
    # A required parameter nobody gave stands in as `{{pipeline.parameters['p']}}`, as an upstream output
    # does: what the tasks would receive is shown around it.
    return build_root_parameters(
        root, cli=options.params, from_file=given, stand_in=standins.parameter_reference
    )


def select_entries(entries: list[Entry], wanted: list[str]) -> list[Entry]:
    """The entries named by --task (as every command names a task: label, `NAME[i]`, task path, task key;
    a task key names every copy a loop makes), in walk order."""
    if not wanted:
        return entries

    labels = [str(entry["label"]) for entry in entries]
    chosen: set[str] = set()
    for name in wanted:
        found = select_labels(name, labels)
        if not found:
            try:
                resolve_label(name, labels, where="the pipeline", error=TaskRefError)
            except TaskRefError as exc:  # naming the closest tasks
                raise OptionError(f"--task {name!r}: {exc}") from None
        chosen.update(found)
    return [entry for entry in entries if entry["label"] in chosen]


# --- text output ----------------------------------------------------------------------------------------


def render_text(
    entries: list[Entry], *, pipeline: str, from_run: str | None, standing_in: list[str] | None = None
) -> str:
    source = f"upstream values from run {from_run}" if from_run else "upstream outputs unresolved"
    lines = [f"pipeline {pipeline!r}: {len(entries)} task(s) explained ({source}); nothing was run"]
    if standing_in:
        lines.append(f"required parameters without values, shown as stand-ins: {', '.join(standing_in)}")
    lines.append("")
    for entry in entries:
        lines += [*_render_entry(entry), ""]
    return "\n".join(lines)


def render_differences(differences: list[BackendDifference]) -> str:
    """The closing section: what the KFP backend of today would reject or run differently."""
    if not differences:
        return "on the KFP backend: nothing in this pipeline is treated differently from here\n"
    lines = ["on the KFP backend of today this pipeline would differ:"]
    lines += [f"  {difference.line()}" for difference in differences]
    warning = rejection_warning(differences)
    lines += [f"  => {warning}"] if warning else []
    return "\n".join(lines) + "\n"


def _render_entry(entry: Entry) -> list[str]:
    lines = [f"== {entry['label']} ({entry['kind']}, {entry['component']})"]
    if entry.get("error"):
        lines.append(f"  error: {entry['error']}")
    if entry["recorded"]:
        recorded = entry["recorded"]
        lines.append(f"  recorded: execution {recorded['executionId']} ({recorded['state']})")
    lines.append(f"  condition: {_render_condition(entry['condition'])}")
    if entry.get("items") is not None:
        lines.append(f"  items: {json.dumps(entry['items'])}")
    if entry["executorInput"] is not None:
        lines.append("  executor input:" if entry["kind"] == "container" else "  inputs:")
        lines += ["    " + line for line in json.dumps(entry["executorInput"], indent=2).splitlines()]
    if entry["command"] is not None:
        lines.append(f"  command: {shlex.join(entry['command'])}")
        if entry.get("resources"):
            lines.append(f"  resources: {', '.join(f'{k} {v}' for k, v in entry['resources'].items())}")
        lines.append(f"  environment: {_render_environment(entry['environment'])}")
        lines.append(f"  cache fingerprint: {_render_fingerprint(entry)}")
    lines += [f"  unresolved: {u['input']} = {json.dumps(u['reference'])}" for u in entry["unresolved"]]
    lines += [f"  note: {note}" for note in entry["notes"]]
    return lines


def _render_condition(found: dict[str, Any] | None) -> str:
    if found is None:
        return "none"
    value = {True: "true", False: "false", None: "unknown"}[found["value"]]
    return f"{found['expression']} -> {value}" + (f" ({found['note']})" if found.get("note") else "")


def _render_environment(environment: dict[str, Any]) -> str:
    if environment["kind"] == "docker":
        return _render_docker(environment)
    if environment["kind"] == "host":
        return f"host ({environment['note']})"
    state = "built" if environment["built"] else "not built yet"
    installs = "; ".join(environment["installs"]) or "nothing"
    start = f"; starts {environment['start']}" if environment.get("start") else ""
    return f"python environment {environment['path']} ({state}), installs: {installs}{start}"


def _render_docker(environment: dict[str, Any]) -> str:
    """The container --runner docker would start, on a few indented lines."""
    image = environment["image"]
    if environment["installs"]:
        image += f" + its pip preamble ({'; '.join(environment['installs'])}) committed once as lpl-env:<key>"
    limits = ", ".join(f"{k} {v}" for k, v in environment["limits"].items()) or "none"
    variables = ", ".join(environment["variables"]) or "none"
    lines = [
        f"docker container from {image}",
        f"    network {environment['network']}; limits: {limits}; variables: {variables}",
        *(f"    mount {mount}" for mount in environment["mounts"]),
    ]
    return "\n".join(lines)


def _render_fingerprint(entry: Entry) -> str:
    fingerprint = entry["cacheFingerprint"]
    if fingerprint is None:
        return "known once the unresolved inputs are"
    return str(fingerprint) + ("" if entry.get("cacheEnabled") else " (caching is off for this task)")
