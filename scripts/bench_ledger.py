#!/usr/bin/env python3
"""Benchmark the JSON ledger at scale (issue 4): 50,000 executions, then what a run start and the tools read.

    python scripts/bench_ledger.py [--runs 500] [--executions 50000] [--big-run 5000] [--repeat 20]
                                   [--keep DIR]

Builds a store in a temporary home through the public API (`Ledger.append` with ids, so records, locking,
id allocation and fsync are the real ones; records are batched per run to build it in seconds): `--runs`
runs of one pipeline whose execution records look like the driver's (root DAG, container tasks with
inputs, outputs, an attempt, two output artifacts each), one of them `--big-run` executions long, and one
cache entry per container task. Then times, as medians over `--repeat`:

  run start     Ledger(home) + create_run + the root DAG execution (what `python -m driver` does first)
  task record   create_execution + publish_execution of one task in a run
  cache hit     lookup_cache of a recorded fingerprint; cache miss: of an unknown one
  view cold     open_run(big).view(): folding the big run's whole journal
  view warm     view() again after one more record (the driver's incremental read)
  list_runs     the run index
and, once each, `python -m ledger runs`, `runs -n 20` and `show BIG --json` as processes. Not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, RUNNING, Artifact  # noqa: E402
from ledger.store import CacheEntry, Ledger  # noqa: E402

PIPELINE = "bench-pipeline"
SPEC = json.loads((REPO / "examples" / "seed" / "pipeline.json").read_text())


def _header(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "pipeline_name": PIPELINE, "source": "bench", "pipeline_spec": SPEC,
            "parameters": {"n": 1000}, "pipeline_root": "/tmp/root", "create_time": "2026-01-01T00:00:00Z"}


def _fingerprint(run_id: str, task: int) -> str:
    return hashlib.sha256(f"{run_id}/{task}".encode()).hexdigest()


def _task_records(run_id: str, ids: list[int], *, root: int, task: int) -> list[dict[str, Any]]:
    """The records the driver and launcher write for one container task that succeeds."""
    execution_id, data_id, log_id = ids
    uri = f"/tmp/root/{PIPELINE}/{run_id}/task-{task}/{execution_id:x}"
    properties = {"task_name": f"task-{task}", "display_name": f"task-{task}", "parent_dag_id": root,
                  "task_path": f"task-{task}", "inputs": {"n": task, "text": "x" * 40},
                  "cache_fingerprint": _fingerprint(run_id, task),
                  "task_dir": f"/tmp/home/runs/{run_id}/task-{task}", "task_root": uri}
    attempt = {"number": 0, "start": 1.0, "end": 2.0, "exit_code": 0, "state": COMPLETE, "error": ""}
    records: list[dict[str, Any]] = [
        {"kind": "execution", "id": execution_id, "type": CONTAINER_EXECUTION, "name": "", "state": RUNNING,
         "properties": properties},
        {"kind": "execution_update", "id": execution_id, "state": RUNNING,
         "attempt": {"number": 0, "start": 1.0}},
    ]
    for artifact_id, name, schema in ((data_id, "data", "system.Dataset"), (log_id, "executor-logs",
                                                                           "system.Artifact")):
        records.append({"kind": "artifact", "id": artifact_id, "type": schema, "uri": f"{uri}/{name}",
                        "state": "LIVE", "properties": {"display_name": name}})
        records.append({"kind": "event", "execution_id": execution_id, "artifact_id": artifact_id,
                        "type": "OUTPUT", "path": name, "index": 0})
    records.append({"kind": "execution_update", "id": execution_id, "state": COMPLETE,
                    "properties": {"log": f"{uri}/executor-logs", "error": "", "outputs": {"Output": task}},
                    "attempt": attempt})
    return records


def _build_run(ledger: Ledger, number: int, executions: int) -> list[CacheEntry]:
    run_id = f"run-{number:05d}"
    run = ledger.create_run(_header(run_id))
    tasks = executions - 1
    entries: list[CacheEntry] = []

    def build(ids: list[int]) -> list[dict[str, Any]]:
        root = ids[0]
        records: list[dict[str, Any]] = [{"kind": "execution", "id": root, "type": DAG_EXECUTION,
                                          "name": f"run/{run_id}", "state": RUNNING, "properties": {}}]
        for task in range(tasks):
            task_records = _task_records(run_id, ids[1 + 3 * task : 4 + 3 * task], root=root, task=task)
            records += task_records
            entries.append(_cache_entry(run_id, task_records))
        records.append({"kind": "execution_update", "id": root, "state": COMPLETE})
        return records

    ledger.append(run.path, build, ids=1 + 3 * tasks)
    run.finish_run(COMPLETE)
    return entries


def _cache_entry(run_id: str, task_records: list[dict[str, Any]]) -> CacheEntry:
    """The entry the launcher adds for a task that succeeded."""
    execution = task_records[0]
    artifacts = {r["properties"]["display_name"]: [Artifact.from_json(r)]
                 for r in task_records if r["kind"] == "artifact"}
    return CacheEntry(fingerprint=execution["properties"]["cache_fingerprint"], run_id=run_id,
                      execution_id=execution["id"], outputs={"Output": 1}, artifacts=artifacts,
                      required_files=tuple(items[0].uri for items in artifacts.values()))


def _add_cache_entries(ledger: Ledger, entries: list[CacheEntry]) -> None:
    """All entries, one append per partition file (as many appends of one entry would write them)."""
    by_path: dict[Path, list[dict[str, Any]]] = {}
    for entry in entries:
        path = ledger._cache_path(PIPELINE, entry.fingerprint)
        by_path.setdefault(path, []).append(_cache_record(entry))
    for path, records in by_path.items():
        ledger.append(path, records)


def _cache_record(entry: CacheEntry) -> dict[str, Any]:
    return {"kind": "cache", "pipeline_name": PIPELINE, "fingerprint": entry.fingerprint,
            "run_id": entry.run_id, "execution_id": entry.execution_id, "outputs": entry.outputs,
            "artifacts": {k: [a.to_json() for a in v] for k, v in entry.artifacts.items()},
            "required_files": list(entry.required_files)}


def build_store(home: Path, *, runs: int, executions: int, big_run: int) -> tuple[str, str]:
    """The store; returns the big run's id and a fingerprint that has a cache entry."""
    ledger = Ledger(home)
    small = (executions - big_run) // (runs - 1)
    entries = _build_run(ledger, 0, big_run)
    for number in range(1, runs):
        entries += _build_run(ledger, number, small)
    _add_cache_entries(ledger, entries)
    return "run-00000", entries[len(entries) // 2].fingerprint


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _run_start(home: Path, counter: list[int]) -> None:
    counter[0] += 1
    ledger = Ledger(home)
    run = ledger.create_run(_header(f"start-{counter[0]}"))
    run.create_execution(type=DAG_EXECUTION, name="run", state=RUNNING, properties={"task_name": ""})


def _task_record(home: Path) -> None:
    run = Ledger(home).open_run("start-1")
    execution_id = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING, properties={"task": "t"})
    run.publish_execution(execution_id, state=COMPLETE, properties={"outputs": {}},
                          new_artifacts={"executor-logs": [{"type": "system.Artifact", "uri": "/l"}]})


def _process_ms(home: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ledger", "--home", str(home), *args], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def measure(home: Path, *, big: str, fingerprint: str, repeat: int) -> dict[str, float]:
    ledger = Ledger(home)
    counter = [0]
    figures = {"run start": _median_ms(lambda: _run_start(home, counter), repeat)}
    figures["task record"] = _median_ms(lambda: _task_record(home), repeat)
    figures["cache hit"] = _median_ms(lambda: _assert(ledger.lookup_cache(PIPELINE, fingerprint)), repeat)
    figures["cache miss"] = _median_ms(lambda: _assert(not ledger.lookup_cache(PIPELINE, "f" * 64)), repeat)
    figures["view cold (big run)"] = _median_ms(lambda: ledger.open_run(big).view(), max(3, repeat // 4))
    warm = ledger.open_run(big)
    warm.view()
    figures["view warm (+1 record)"] = _median_ms(lambda: _add_note_and_view(warm), repeat)
    figures["list_runs"] = _median_ms(ledger.list_runs, repeat)
    figures["cli: runs -n 20"] = _process_ms(home, "runs", "-n", "20")
    figures["cli: runs (all)"] = _process_ms(home, "runs")
    figures["cli: show big --json"] = _process_ms(home, "show", big, "--json")
    return figures


def _assert(value: object) -> None:
    assert value


def _add_note_and_view(run: Any) -> None:
    run.add_note({"note": "bench"})
    run.view()


def _store_facts(home: Path) -> str:
    root = home / "ledger"
    size = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    views = [Ledger(home).open_run(r.run_id).view() for r in Ledger(home).list_runs()[:3]]
    per_run = [len(v.executions) for v in views]
    return f"store {size / 1e6:.1f} MB; first runs hold {per_run} executions"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--executions", type=int, default=50_000)
    parser.add_argument("--big-run", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the store in DIR and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.keep or Path(scratch)
        start = time.perf_counter()
        big, fingerprint = build_store(home, runs=args.runs, executions=args.executions, big_run=args.big_run)
        took = time.perf_counter() - start
        print(f"built {args.executions} executions in {args.runs} runs in {took:.1f}s; {_store_facts(home)}")
        for name, value in measure(home, big=big, fingerprint=fingerprint, repeat=args.repeat).items():
            print(f"{name:24s} {value:9.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
