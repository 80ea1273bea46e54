#!/usr/bin/env python3
"""Benchmark local-pipelines against kfp.local on this machine (issue 5). A benchmark, not a test.

    python scripts/bench.py [--repeat N | --quick] [--slow] [--big] [--only a,b] [--json] [--profile]
    python scripts/bench.py --ray [--repeat N]     # --runner host vs --runner ray (issue 14)

The web UI (issue 20) has its own: `python scripts/bench_ui.py [--browser]`.

Every workload runs ours (`python -m driver … --home <fresh temp dir> --no-cache`) and kfp.local in the same
invocation, interleaved (the order alternates per repeat), and reports medians. Pipelines are compiled at run
time with the installed kfp from `examples/seed/make_pipeline.py` and `scripts/bench_pipelines/*.py`.

Workloads (issue 5 goals in brackets):
  seed      seed pipeline, warm environments: ours vs `SubprocessRunner(use_venv=False)`, and the floor
            [<= 0.2 x kfp.local, <= 1.3 x floor]; the driver start latency comes from these runs [<= 150 ms];
            plus a cached re-run row (task cache on, second run in the same home)
  cold      seed pipeline, empty environment cache (fresh XDG_CACHE_HOME, uv's own cache kept warm)
            [<= 3 s and <= env build + warm run]
  sleepers  8 one-second sleepers in ParallelFor(parallelism=8), ours with default flags [<= 1.5 s]
  fanout    200 trivial tasks in a ParallelFor  [per-task overhead <= 1.3 x floor, <= 25 ms]
  chain     50 trivial tasks in sequence        [per-task overhead <= 1.3 x floor, <= 50 ms]

ours runs with warm starts (issue 22; the driver's default); seed, fanout and chain also run with
`--cold-start` (every component a fresh process), interleaved with the warm run, so that both come from the
same run; the warm seed's goal against the floor is then <= 1.0 x.
  loop      (--big) 1,000-iteration loop of trivial tasks: driver peak RSS [<= 200 MB]
  docker    seed pipeline under `--runner docker` (issue 9): warm (the image with the components' packages
            committed) and cold (that image removed first, so the pip preamble runs in the image again),
            beside the host runner's seed and cold rows. Needs a Docker daemon and a local `python:3.11`
            image (no registry here: tagged from scripts/test-images' lpl-test/python:3.11 when missing).
            kfp.local's DockerRunner is not measured here: it pulls missing images from a registry, uses the
            default (bridge) network unless given `network_mode="host"`, and pip-installs the components'
            packages in every task container (by hand on 2026-12-02, with network_mode="host" and the CA
            bundle mounted, the seed took 106 s on a loaded machine; docs/runners.md).

The floor is one process per task doing exactly what the component does and nothing else: each task's
compiled program (`sh -ec … python3 -m kfp.dsl.executor_main …`, the part after the pip preamble) run with the
executor input our driver wrote, inside the cached environment our launcher uses (planned by the
launcher's own `spec.task_plan.plan_task`), sequentially or N at a time like the workload. Rows with
`python -c "import kfp.dsl.executor_main…"` give the bare per-process floor.

kfp.local runs in its own virtual environment (kfp, numpy and pip at the dev environment's versions, built
once under $XDG_CACHE_HOME/local-pipelines-bench, or `--kfp-python`): `use_venv=False` pip-installs the
components' packages into the running interpreter, which must not be the shared dev environment. Its time
is the pipeline call (as in the reference measurements); the process time, adding `import kfp`, is in --json.
`--slow` adds one `use_venv=True` seed run (about a minute) and kfp.local on the trivial workloads.

Besides wall time it reports CPU seconds (the driver and all its descendants, from RUSAGE_CHILDREN; the
driver alone, from /proc/<pid>/stat), the driver's peak RSS (VmHWM), and for the sequential workloads a
timeline read from the run's ledger journal: driver start, launcher start, attempt, gaps between tasks.
`--profile` adds `-X importtime` medians for `driver.run.run` and `launcher.launch` and a .pyc census.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_PIPELINES = Path(__file__).resolve().parent / "bench_pipelines"
SEED = REPO / "examples" / "seed" / "make_pipeline.py"
WORKLOADS = ("seed", "cold", "sleepers", "fanout", "chain", "loop", "docker")
SEED_IMAGE, TEST_PYTHON_IMAGE = "python:3.11", "lpl-test/python:3.11"
READY = ".lpl-ready"
CONTAINER_EXECUTION = "system.ContainerExecution"

# Goals from issue 5.
GOAL_SEED_VS_KFP = 0.2
GOAL_VS_FLOOR = 1.3
GOAL_COLD_SECONDS = 3.0
GOAL_SLEEPERS_SECONDS = 1.5
GOAL_START_SECONDS = 0.150
GOAL_LOOP_RSS_MB = 200.0
# Warm starts (issue 22): the seed at most the per-process floor; per-task overhead of the trivial workloads.
GOAL_WARM_SEED_VS_FLOOR = 1.0
GOAL_FANOUT_MS = 25.0
GOAL_CHAIN_MS = 50.0
COLD_START = ("--cold-start",)

# Pipelines: a module path, an attribute, and the arguments of that attribute when it is a factory.
_SLEEPERS, _TRIVIAL = str(BENCH_PIPELINES / "sleepers.py"), str(BENCH_PIPELINES / "trivial.py")
REFS: dict[str, dict[str, Any]] = {
    "seed": {"path": str(SEED), "attr": "seed_pipeline", "args": None},
    "sleepers": {"path": _SLEEPERS, "attr": "make_pipeline", "args": []},
    "fanout": {"path": _TRIVIAL, "attr": "make_fanout", "args": [200]},
    "chain": {"path": _TRIVIAL, "attr": "make_chain", "args": [50]},
    "loop": {"path": _TRIVIAL, "attr": "make_fanout", "args": [1000]},
    "warm-trivial": {"path": _TRIVIAL, "attr": "make_chain", "args": [1]},
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def children_cpu() -> float:
    """CPU seconds (user + system) of all waited-for descendants; the bench runs one thing at a time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(samples: Iterable[float]) -> float | None:
    values = [s for s in samples if s is not None]
    return statistics.median(values) if values else None


def load_pipeline(ref: dict[str, Any]) -> Any:
    """The pipeline function a ref names (importing its DSL file by path)."""
    path = Path(ref["path"])
    spec = importlib.util.spec_from_file_location(f"bench_dsl_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    obj = getattr(module, ref["attr"])
    return obj(*ref["args"]) if ref.get("args") is not None else obj


# ----------------------------------------------------------------------------------------------------
# The kfp.local side: a child process in the kfp.local environment.


def child_kfp_local(ref: dict[str, Any], root: str, use_venv: bool, result: str) -> int:
    """Run one pipeline under kfp.local in this process; write the timings to `result`."""
    started = time.perf_counter()
    from kfp import local

    pipeline = load_pipeline(ref)
    local.init(runner=local.SubprocessRunner(use_venv=use_venv), pipeline_root=root)
    ready = time.perf_counter()
    pipeline()
    done = time.perf_counter()
    Path(result).write_text(json.dumps({"setup": ready - started, "call": done - ready}))
    return 0


def uv_binary() -> str | None:
    # Imported here, not at the top: this script also re-runs itself under kfp.local's own venv, which does
    # not have this project installed.
    from launcher.environment import uv_binary as find_uv

    return find_uv()


def real_cache_base() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def kfp_local_python(uv: str | None) -> Path:
    """A virtual environment with kfp (the dev environment's versions), numpy and pip, built once."""
    from importlib.metadata import version

    kfp_version = version("kfp")
    env_dir = real_cache_base() / "local-pipelines-bench" / (
        f"kfp-local-{kfp_version}-py{sys.version_info.major}{sys.version_info.minor}")
    python = env_dir / "bin" / "python"
    if (env_dir / READY).exists():
        return python
    if uv is None:
        raise SystemExit("bench: uv is needed to build the kfp.local environment (or pass --kfp-python)")
    log(f"building the kfp.local environment in {env_dir} (once)")
    shutil.rmtree(env_dir, ignore_errors=True)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    frozen = subprocess.run([uv, "pip", "freeze", "--python", sys.executable], capture_output=True, text=True,
                            check=True).stdout
    constraints = env_dir.parent / f"{env_dir.name}.constraints.txt"
    constraints.write_text("\n".join(line for line in frozen.splitlines()
                                     if line and not line.startswith("-e") and " @ " not in line) + "\n")
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)], check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python),
                    "--constraint", str(constraints), f"kfp=={kfp_version}", "numpy", "pip"], check=True)
    (env_dir / READY).write_text("kfp.local benchmark environment\n")
    return python


# ----------------------------------------------------------------------------------------------------
# Measurements.


@dataclass
class OursRun:
    wall: float
    returncode: int
    home: Path
    run_id: str
    spawn_time: float
    peak_rss_mb: float | None
    log_path: Path
    cpu: float = 0.0
    driver_cpu: float | None = None
    journal: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def containers(self) -> list[dict[str, Any]]:
        """Container executions in creation order, with their record times and attempts."""
        executions: dict[int, dict[str, Any]] = {}
        for record in self.journal:
            if record.get("kind") == "execution" and record.get("type") == CONTAINER_EXECUTION:
                executions[record["id"]] = {"created": record["time"], "attempts": {}, "published": None,
                                            "properties": dict(record["properties"]),
                                            "state": record.get("state")}
            elif record.get("kind") == "execution_update" and record.get("id") in executions:
                execution = executions[record["id"]]
                execution["properties"].update(record.get("properties") or {})
                if "attempt" in record:
                    attempt = execution["attempts"].setdefault(record["attempt"].get("number", 0), {})
                    attempt.update(record["attempt"])
                if record.get("state") in ("COMPLETE", "FAILED", "CANCELED", "CACHED"):
                    execution["published"] = record["time"]
                    execution["state"] = record["state"]
        return [executions[key] for key in sorted(executions)]

    def first_launcher_start(self) -> float | None:
        starts = [a["start"] for e in self.containers() for a in e["attempts"].values() if "start" in a]
        return min(starts) - self.spawn_time if starts else None

    def run_recorded(self) -> float | None:
        times = [r["time"] for r in self.journal if r.get("kind") == "run"]
        return times[0] - self.spawn_time if times else None

    def first_task_created(self) -> float | None:
        containers = self.containers()
        return containers[0]["created"] - self.spawn_time if containers else None


class RssSampler(threading.Thread):
    """Polls /proc/<pid>/status for VmHWM (the process's own peak RSS) until the process is gone, and
    /proc/<pid>/stat for the process's own CPU time (the last sample, so up to one interval short)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.status = Path(f"/proc/{pid}/status")
        self.stat = Path(f"/proc/{pid}/stat")
        self.interval = interval
        self.peak_kb: int | None = None
        self.own_cpu: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        while not self.stop.is_set():
            try:
                text = self.status.read_text()
                fields = self.stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return
            match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
            if match:
                self.peak_kb = max(self.peak_kb or 0, int(match.group(1)))
            if len(fields) > 12 and fields[0] != "Z":
                self.own_cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            self.stop.wait(self.interval)


def read_journal(home: Path, run_id: str) -> list[dict[str, Any]]:
    """The run's journal records, read by the ledger's own reader ([] when the run never started)."""
    from ledger.journal import read_all
    from ledger.store import Ledger
    from spec.errors import LedgerError

    try:
        return read_all(Ledger(home, create=False).run_path(run_id))
    except LedgerError:
        return []


def failure_text(log_path: Path) -> str:
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    interesting = [line for line in lines if re.search(r"error|failed|Traceback|Exception", line, re.I)]
    return " | ".join((interesting or lines)[-4:])[:600]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.python = args.python or sys.executable
        self.tmp = Path(tempfile.mkdtemp(prefix="lpl-bench-"))
        self.compiled: dict[str, Path] = {}
        self.counter = 0
        self.uv = uv_binary()
        self.uv_cache = self._uv_cache_dir()
        self.kfp_python = Path(args.kfp_python) if args.kfp_python else None
        self.samples: dict[str, list[float]] = {}
        self.extra: dict[str, list[Any]] = {}
        self.errors: dict[str, str] = {}

    def _uv_cache_dir(self) -> str | None:
        if os.environ.get("UV_CACHE_DIR"):
            return os.environ["UV_CACHE_DIR"]
        if self.uv is None:
            return None
        found = subprocess.run([self.uv, "cache", "dir"], capture_output=True, text=True, check=False)
        return found.stdout.strip() or None

    def add(self, key: str, value: float | None) -> None:
        if value is not None:
            self.samples.setdefault(key, []).append(value)

    def note(self, key: str, value: Any) -> None:
        self.extra.setdefault(key, []).append(value)

    # -- compile -------------------------------------------------------------------------------------------

    def compile(self, name: str) -> Path:
        if name not in self.compiled:
            import warnings

            from kfp import compiler

            target = self.tmp / f"{name}.json"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                compiler.Compiler().compile(load_pipeline(REFS[name]), str(target))
            self.compiled[name] = target
        return self.compiled[name]

    # -- ours ----------------------------------------------------------------------------------------------

    def run_ours(self, name: str, *, parallelism: int | None = None, cache: bool = False,
                 home: Path | None = None, env: dict[str, str] | None = None,
                 extra: tuple[str, ...] = (),
                 wrap: Callable[[list[str]], list[str]] | None = None) -> OursRun:
        """`extra` goes to the driver; `wrap` turns the command into another (e.g. one run in a namespace)."""
        self.counter += 1
        home = home or Path(tempfile.mkdtemp(prefix=f"home-{name}-", dir=self.tmp))
        run_id = f"bench-{name}-{self.counter}"
        command = [self.python, "-m", "driver", str(self.compile(name)), "--home", str(home),
                   "--run-id", run_id, *extra]
        if parallelism is not None:
            command += ["--parallelism", str(parallelism)]
        if not cache:
            command.append("--no-cache")
        if wrap is not None:
            command = wrap(command)
        log_path = self.tmp / f"{run_id}.log"
        with open(log_path, "wb") as output:
            cpu = children_cpu()
            spawn_time = time.time()
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
            sampler = RssSampler(process.pid)
            sampler.start()
            returncode = process.wait()
            wall = time.perf_counter() - started
            cpu = children_cpu() - cpu
        sampler.stop.set()
        sampler.join()
        run = OursRun(wall=wall, returncode=returncode, home=home, run_id=run_id, spawn_time=spawn_time,
                      peak_rss_mb=sampler.peak_kb / 1024 if sampler.peak_kb else None, log_path=log_path,
                      cpu=cpu, driver_cpu=sampler.own_cpu,
                      journal=read_journal(home, run_id))
        if returncode != 0:
            run.error = f"exit {returncode}: {failure_text(log_path)} (log: {log_path})"
        return run

    # -- kfp.local ------------------------------------------------------------------------------------------

    def run_kfp_local(self, name: str, *, use_venv: bool = False) -> tuple[float | None, float, str]:
        """(pipeline-call seconds, process seconds, error); CPU seconds go to the samples."""
        if self.kfp_python is None:
            self.kfp_python = kfp_local_python(self.uv)
        self.counter += 1
        root = tempfile.mkdtemp(prefix=f"kfp-{name}-", dir=self.tmp)
        result = Path(root) / "result.json"
        log_path = self.tmp / f"kfp-{name}-{self.counter}.log"
        command = [str(self.kfp_python), str(Path(__file__).resolve()), "--child-kfp-local",
                   json.dumps(REFS[name]), root, "1" if use_venv else "0", str(result)]
        with open(log_path, "wb") as output:
            cpu = children_cpu()
            started = time.perf_counter()
            returncode = subprocess.call(command, cwd=root, stdout=output, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            self.add(f"cpu.kfp.{name}" + ("_venv" if use_venv else ""), children_cpu() - cpu)
        if returncode != 0 or not result.exists():
            return None, wall, f"kfp.local exit {returncode}: {failure_text(log_path)} (log: {log_path})"
        call = float(json.loads(result.read_text())["call"])
        shutil.rmtree(root, ignore_errors=True)
        return call, wall, ""

    # -- the floor -----------------------------------------------------------------------------------------

    def floor(self, run: OursRun, *, concurrency: int, key: str) -> tuple[float | None, str]:
        """Wall time of every task's compiled program run directly in our cached environment."""
        try:
            programs = [self._program(Path(e["properties"]["task_dir"])) for e in run.containers()]
        except (KeyError, OSError, ValueError) as exc:
            return None, f"floor: cannot rebuild the task programs: {exc}"
        if not programs:
            return None, "floor: the run recorded no container task"
        log_path = self.tmp / f"floor-{run.run_id}.log"

        def one(program: tuple[list[str], dict[str, str], Path]) -> int:
            argv, env, cwd = program
            with open(log_path, "ab") as output:
                return subprocess.call(argv, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)

        cpu = children_cpu()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            codes = list(pool.map(one, programs))
        wall = time.perf_counter() - started
        self.add(f"cpu.floor.{key}", children_cpu() - cpu)
        if any(codes):
            return None, f"floor: a task program failed ({failure_text(log_path)}; log: {log_path})"
        return wall, ""

    def _program(self, task_dir: Path) -> tuple[list[str], dict[str, str], Path]:
        """The component's command line and environment, as the launcher plans them from the task files."""
        from spec.contracts import TaskFiles
        from spec.task_plan import plan_task

        files = TaskFiles.read(task_dir)
        plan = plan_task(files.executor_input, component_spec=files.component, container=files.container,
                         job=files.task.job_facts())
        env_dir = ready_environment(plan.python)
        if env_dir is None:
            raise ValueError(f"{task_dir.name}: no cached environment for {plan.python}")
        env = {**os.environ, **plan.variables, "VIRTUAL_ENV": str(env_dir), "PYTHONUNBUFFERED": "1",
               "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONHOME", None)
        return plan.argv, env, task_dir

    def import_floor(self, env_dir: Path, modules: str, processes: int = 8) -> float:
        """Median seconds of `_KFP_RUNTIME=true python -c "import …"` in an environment."""
        env = {**os.environ, "_KFP_RUNTIME": "true", "VIRTUAL_ENV": str(env_dir)}
        times = []
        for _ in range(processes):
            started = time.perf_counter()
            subprocess.run([str(env_dir / "bin" / "python"), "-c", f"import {modules}"], env=env, check=True)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def env_build(self, installs: list[list[str]]) -> float | None:
        """Seconds for `uv venv` plus the install lines into a fresh directory (uv's cache warm)."""
        if self.uv is None:
            return None
        target = Path(tempfile.mkdtemp(prefix="envbuild-", dir=self.tmp)) / "env"
        env = {**os.environ, **({"UV_CACHE_DIR": self.uv_cache} if self.uv_cache else {})}
        started = time.perf_counter()
        subprocess.run([self.uv, "venv", "--quiet", "--python", self.python, str(target)], env=env,
                       check=True)
        for install in installs:
            args = [t for t in install if t not in ("--quiet", "-q", "--no-warn-script-location")]
            subprocess.run([self.uv, "pip", "install", "--quiet", "--compile-bytecode", "--python",
                            str(target / "bin" / "python"), *args], env=env, check=True)
        took = time.perf_counter() - started
        shutil.rmtree(target.parent, ignore_errors=True)
        return took


def ready_environment(plan: Any) -> Path | None:
    """The launcher's cached environment for a Python plan (spec.command), if it has been built."""
    from spec.command import ENVIRONMENT_READY, environment_dir

    if plan is None:
        return None
    env_dir = environment_dir(plan)
    return env_dir if (env_dir / ENVIRONMENT_READY).exists() else None


def first_python_plan(bench: Bench, name: str) -> Any:
    """The environment plan of the first executor of a workload's pipeline, as the launcher makes it."""
    from spec.command import plan_python_component

    spec = json.loads(bench.compile(name).read_text())
    container = next(iter(spec["deploymentSpec"]["executors"].values()))["container"]
    return plan_python_component(list(container.get("command", [])), list(container.get("args", [])))


# ----------------------------------------------------------------------------------------------------
# The schedule.


def alternate(repeat: int, *steps: Callable[[], None]) -> None:
    """Run the steps in order on even repeats and in reverse on odd ones (interleaving)."""
    for step in steps if repeat % 2 == 0 else reversed(steps):
        step()


def run_all(bench: Bench, selected: set[str]) -> None:
    args = bench.args
    log(f"temp dir {bench.tmp}; driver python {bench.python}")
    # Warm our environments (the seed's numpy env; the kfp-only env of the trivial and sleeper tasks).
    for name in ("seed", "warm-trivial"):
        if name == "warm-trivial" and not selected & {"sleepers", "fanout", "chain", "loop"}:
            continue
        log(f"warm-up: ours {name}")
        warm = bench.run_ours(name)
        if warm.error:
            bench.errors[f"warm-up {name}"] = warm.error
    if selected & {"seed", "sleepers"} and not args.quick:
        log("warm-up: kfp.local seed")
        _, _, error = bench.run_kfp_local("seed")
        if error:
            bench.errors["warm-up kfp.local seed"] = error

    seed_plan = first_python_plan(bench, "seed")
    seed_env = ready_environment(seed_plan)
    for r in range(args.repeat):
        log(f"repeat {r + 1}/{args.repeat}")
        if "seed" in selected:
            seed_round(bench, r)
        if "cold" in selected:
            cold_round(bench, r, seed_plan if seed_env is not None else None)
        if "sleepers" in selected:
            sleepers_round(bench, r)
        for name in ("fanout", "chain"):
            if name in selected:
                trivial_round(bench, r, name, concurrency=1 if name == "chain" else (os.cpu_count() or 1))

    # Bare per-process floors.
    if seed_env is not None:
        bench.add("import_floor.numpy", bench.import_floor(seed_env, "kfp.dsl.executor_main, numpy"))
    trivial_env = ready_environment(first_python_plan(bench, "warm-trivial"))
    if trivial_env is not None and selected & {"sleepers", "fanout", "chain", "loop"}:
        bench.add("import_floor.kfp", bench.import_floor(trivial_env, "kfp.dsl.executor_main"))
    bench.extra["envs"] = [str(seed_env), str(trivial_env)]

    if args.slow:
        if selected & {"seed", "cold"}:
            log("slow: kfp.local seed with use_venv=True (about a minute)")
            call, wall, error = bench.run_kfp_local("seed", use_venv=True)
            bench.add("kfp.seed_venv", call)
            bench.add("kfp_process.seed_venv", wall)
            if error:
                bench.errors["kfp.local seed use_venv=True"] = error
        for name in ("chain", "fanout"):
            if name in selected:
                log(f"slow: kfp.local {name} (one run)")
                call, wall, error = bench.run_kfp_local(name)
                bench.add(f"kfp.{name}", call)
                bench.add(f"kfp_process.{name}", wall)
                if error:
                    bench.errors[f"kfp.local {name}"] = error
    if "docker" in selected:
        docker_rounds(bench, seed_plan)
    if "loop" in selected:
        log("big: ours, 1,000-iteration loop (a few minutes)")
        run = bench.run_ours("loop")
        _record_ours(bench, "loop", run)


def _record_ours(bench: Bench, key: str, run: OursRun) -> None:
    bench.add(f"ours.{key}", run.wall if not run.error else None)
    bench.add(f"rss.{key}", run.peak_rss_mb)
    bench.add(f"cpu.ours.{key}", run.cpu if not run.error else None)
    bench.add(f"cpu.driver.{key}", run.driver_cpu if not run.error else None)
    if run.error:
        bench.errors[f"ours {key}"] = run.error


def seed_round(bench: Bench, r: int) -> None:
    holder: dict[str, OursRun] = {}

    def ours() -> None:
        run = bench.run_ours("seed")
        holder["run"] = run
        _record_ours(bench, "seed", run)
        if not run.error:
            bench.add("start.first_launcher", run.first_launcher_start())
            bench.add("start.run_recorded", run.run_recorded())
            bench.add("start.first_task_created", run.first_task_created())
            bench.note("seed_timeline", timeline(run))

    def kfp() -> None:
        call, wall, error = bench.run_kfp_local("seed")
        bench.add("kfp.seed", call)
        bench.add("kfp_process.seed", wall)
        if error:
            bench.errors["kfp.local seed"] = error

    def ours_cold() -> None:
        _record_ours(bench, "seed_cold_start", bench.run_ours("seed", extra=COLD_START))

    alternate(r, ours, ours_cold, kfp)
    run = holder["run"]
    if not run.error:
        took, error = bench.floor(run, concurrency=1, key="seed")
        bench.add("floor.seed", took)
        if error:
            bench.errors["floor seed"] = error
    # Cached re-run: task cache on, the second run in the same home reuses every task.
    home = Path(tempfile.mkdtemp(prefix="home-cached-", dir=bench.tmp))
    first = bench.run_ours("seed", cache=True, home=home)
    second = bench.run_ours("seed", cache=True, home=home) if not first.error else first
    _record_ours(bench, "seed_cached", second)


def cold_round(bench: Bench, r: int, seed_plan: Any) -> None:
    def ours() -> None:
        fresh = Path(tempfile.mkdtemp(prefix="xdg-", dir=bench.tmp))
        env = {"XDG_CACHE_HOME": str(fresh)}
        if bench.uv_cache:
            env["UV_CACHE_DIR"] = bench.uv_cache
        run = bench.run_ours("seed", env=env)
        _record_ours(bench, "cold", run)
        shutil.rmtree(fresh, ignore_errors=True)

    def build() -> None:
        if seed_plan is not None:
            bench.add("envbuild.seed", bench.env_build([list(install) for install in seed_plan.installs]))

    alternate(r, ours, build)


def docker_rounds(bench: Bench, seed_plan: Any) -> None:
    """The seed under --runner docker: warm (packages already committed into an image), then cold."""
    client = docker_client(bench)
    if client is None or seed_plan is None:
        return
    docker = ("--runner", "docker")
    log("warm-up: ours seed --runner docker")
    warm = bench.run_ours("seed", extra=docker)
    if warm.error:
        bench.errors["warm-up docker seed"] = warm.error
        return
    for r in range(bench.args.repeat):
        log(f"docker repeat {r + 1}/{bench.args.repeat}")

        def warm_run() -> None:
            _record_ours(bench, "docker_seed", bench.run_ours("seed", extra=docker))

        def cold_run() -> None:
            remove_prepared_images(client, seed_plan)
            _record_ours(bench, "docker_cold", bench.run_ours("seed", extra=docker))

        alternate(r, warm_run, cold_run)


def docker_client(bench: Bench) -> Any:
    """A Docker client with the seed's image present, or None (the reason in the errors)."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        bench.errors["docker"] = f"no Docker daemon: {exc}"
        return None
    try:
        client.images.get(SEED_IMAGE)
    except docker.errors.ImageNotFound:
        try:
            client.images.get(TEST_PYTHON_IMAGE).tag(SEED_IMAGE)
            bench.note("docker_image", f"{SEED_IMAGE} tagged from {TEST_PYTHON_IMAGE} (Debian bookworm)")
        except docker.errors.ImageNotFound:
            bench.errors["docker"] = f"no {SEED_IMAGE} nor {TEST_PYTHON_IMAGE} image: run scripts/test-images"
            return None
    return client


def remove_prepared_images(client: Any, plan: Any) -> None:
    """Forget the image the Docker runner committed for these install lines (its label names them)."""
    installs = json.dumps(plan.installs)
    for image in client.images.list(filters={"label": "io.local-pipelines.installs"}):
        if image.labels.get("io.local-pipelines.installs") == installs:
            client.images.remove(image.id, force=True)


def sleepers_round(bench: Bench, r: int) -> None:
    def ours() -> None:
        _record_ours(bench, "sleepers", bench.run_ours("sleepers"))

    def kfp() -> None:
        call, wall, error = bench.run_kfp_local("sleepers")
        bench.add("kfp.sleepers", call)
        bench.add("kfp_process.sleepers", wall)
        if error:
            bench.errors["kfp.local sleepers"] = error

    alternate(r, ours, kfp)


def trivial_round(bench: Bench, r: int, name: str, *, concurrency: int) -> None:
    holder: dict[str, OursRun] = {}

    def warm() -> None:
        holder["run"] = bench.run_ours(name)
        _record_ours(bench, name, holder["run"])

    def cold() -> None:
        run = bench.run_ours(name, extra=COLD_START)
        _record_ours(bench, f"{name}_cold_start", run)
        if not bench.args.keep:
            shutil.rmtree(run.home, ignore_errors=True)

    alternate(r, warm, cold)
    run = holder["run"]
    if not run.error:
        took, error = bench.floor(run, concurrency=concurrency, key=name)
        bench.add(f"floor.{name}", took)
        if error:
            bench.errors[f"floor {name}"] = error
    if not run.error and name == "chain":
        bench.note("chain_timeline", timeline(run))
    if not bench.args.keep:
        shutil.rmtree(run.home, ignore_errors=True)


def timeline(run: OursRun) -> dict[str, float]:
    """Where a sequential run's time goes, from the journal (seconds)."""
    containers = run.containers()
    phases: dict[str, list[float]] = {"spawn_to_launch": [], "launcher_in": [], "attempt": [], "publish": [],
                                      "between": []}
    previous_published: float | None = None
    for execution in containers:
        attempt = execution["attempts"].get(0, {})
        if previous_published is not None:
            phases["between"].append(execution["created"] - previous_published)
        if "start" in attempt:
            phases["launcher_in"].append(attempt["start"] - execution["created"])
        if "start" in attempt and "end" in attempt:
            phases["attempt"].append(attempt["end"] - attempt["start"])
        if "end" in attempt and execution["published"]:
            phases["publish"].append(execution["published"] - attempt["end"])
        previous_published = execution["published"]
    result = {key: statistics.mean(values) for key, values in phases.items() if values}
    result["driver_start"] = run.run_recorded() or 0.0
    result["to_first_task"] = (run.first_task_created() or 0.0) - result["driver_start"]
    if previous_published is not None:
        result["tail"] = run.spawn_time + run.wall - previous_published
    return result


# ----------------------------------------------------------------------------------------------------
# Report.


@dataclass
class Row:
    workload: str
    ours: float | None = None
    kfp: float | None = None
    floor: float | None = None
    tasks: int | None = None
    rss_mb: float | None = None
    goal: str = ""
    cpu: float | None = None
    driver_cpu: float | None = None
    checks: list[tuple[str, bool]] = field(default_factory=list)
    unit: str = "s"
    note: str = ""

    @property
    def status(self) -> str:
        if not self.checks:
            return "" if not self.goal else "n/a"
        failed = [text for text, ok in self.checks if not ok]
        return "MET" if not failed else "NOT MET (" + "; ".join(failed) + ")"

    def as_json(self) -> dict[str, Any]:
        return {"workload": self.workload, "ours": self.ours, "kfp_local": self.kfp, "floor": self.floor,
                "tasks": self.tasks, "ours_per_task": _div(self.ours, self.tasks),
                "floor_per_task": _div(self.floor, self.tasks), "ours_over_kfp": _div(self.ours, self.kfp),
                "ours_over_floor": _div(self.ours, self.floor), "driver_peak_rss_mb": self.rss_mb,
                "ours_cpu": self.cpu, "driver_cpu": self.driver_cpu, "goal": self.goal, "status": self.status,
                "unit": self.unit, "note": self.note}


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def build_rows(bench: Bench, selected: set[str]) -> list[Row]:
    m = {key: median(values) for key, values in bench.samples.items()}
    rows: list[Row] = []
    cpu_of = {"seed, warm envs (4 tasks)": "seed", "seed, cached re-run (task cache on)": "seed_cached",
              "seed, empty env cache": "cold", "8 x sleep(1), ParallelFor(parallelism=8)": "sleepers",
              "200 trivial tasks, ParallelFor": "fanout", "50 trivial tasks, chain": "chain",
              "1,000-iteration loop, trivial tasks": "loop",
              "seed, --cold-start (every task a fresh process)": "seed_cold_start",
              "200 trivial tasks, ParallelFor, --cold-start": "fanout_cold_start",
              "50 trivial tasks, chain, --cold-start": "chain_cold_start",
              "seed, --runner docker, warm": "docker_seed",
              "seed, --runner docker, cold": "docker_cold"}

    def ratio_check(text: str, value: float | None, limit: float) -> list[tuple[str, bool]]:
        return [] if value is None else [(f"{text} {value:.2f} > {limit}", value <= limit)]

    if "seed" in selected:
        ours, kfp, floor = m.get("ours.seed"), m.get("kfp.seed"), m.get("floor.seed")
        rows.append(Row("seed, warm envs (4 tasks)", ours, kfp, floor, 4, m.get("rss.seed"),
                        goal=f"<= {GOAL_SEED_VS_KFP} x kfp, <= {GOAL_VS_FLOOR} x floor",
                        checks=ratio_check("x kfp", _div(ours, kfp), GOAL_SEED_VS_KFP)
                        + ratio_check("x floor", _div(ours, floor), GOAL_VS_FLOOR)))
        cold_start = m.get("ours.seed_cold_start")
        rows.append(Row("seed, --cold-start (every task a fresh process)", cold_start, kfp, floor, 4,
                        m.get("rss.seed_cold_start"), note="before issue 22; warm is the row above"))
        rows.append(Row("seed, warm vs the per-process floor", ours, None, floor, 4,
                        goal=f"<= {GOAL_WARM_SEED_VS_FLOOR} x floor",
                        checks=ratio_check("x floor", _div(ours, floor), GOAL_WARM_SEED_VS_FLOOR)))
        rows.append(Row("seed, cached re-run (task cache on)", m.get("ours.seed_cached"), tasks=4,
                        rss_mb=m.get("rss.seed_cached"), note="no launcher runs: every task is a cache hit"))
        start = m.get("start.first_launcher")
        rows.append(Row("driver start -> first launcher started", start, tasks=None,
                        goal=f"<= {GOAL_START_SECONDS * 1000:.0f} ms",
                        checks=[] if start is None
                        else [(f"{start * 1000:.0f} ms", start <= GOAL_START_SECONDS)],
                        note=_start_note(m)))
        if m.get("kfp.seed_venv") is not None:
            rows.append(Row("seed, kfp.local use_venv=True (1 run)", ours, m.get("kfp.seed_venv"), floor, 4,
                            note="ours here is the warm seed"))
    if "cold" in selected:
        cold, build, warm = m.get("ours.cold"), m.get("envbuild.seed"), m.get("ours.seed")
        checks = [] if cold is None else [(f"{cold:.2f} s > {GOAL_COLD_SECONDS} s",
                                           cold <= GOAL_COLD_SECONDS)]
        if cold is not None and build is not None and warm is not None:
            checks.append((f"{cold:.2f} s > build {build:.2f} + warm {warm:.2f}", cold <= build + warm))
        floor = (build + warm) if build is not None and warm is not None else None
        rows.append(Row("seed, empty env cache", cold, m.get("kfp.seed_venv"), floor, 4, m.get("rss.cold"),
                        goal=f"<= {GOAL_COLD_SECONDS:g} s and <= build + warm", checks=checks,
                        note="floor = uv env build + our warm run; kfp = use_venv=True (--slow)"))
    if "docker" in selected:
        rows.append(Row("seed, --runner docker, warm", m.get("ours.docker_seed"), None, m.get("ours.seed"), 4,
                        m.get("rss.docker_seed"),
                        note="the image with numpy committed; floor column = host runner warm seed"))
        rows.append(Row("seed, --runner docker, cold", m.get("ours.docker_cold"), None, m.get("ours.cold"), 4,
                        m.get("rss.docker_cold"),
                        note="pip preamble run in the image again; floor column = host runner cold seed"))
    if "sleepers" in selected:
        ours = m.get("ours.sleepers")
        rows.append(Row("8 x sleep(1), ParallelFor(parallelism=8)", ours, m.get("kfp.sleepers"), 1.0, None,
                        m.get("rss.sleepers"), goal=f"<= {GOAL_SLEEPERS_SECONDS} s wall",
                        checks=[] if ours is None else [(f"{ours:.2f} s", ours <= GOAL_SLEEPERS_SECONDS)],
                        note="floor = the sleep itself"))
    for name, label, tasks, goal_ms in (("fanout", "200 trivial tasks, ParallelFor", 200, GOAL_FANOUT_MS),
                                        ("chain", "50 trivial tasks, chain", 50, GOAL_CHAIN_MS)):
        if name in selected:
            ours, floor = m.get(f"ours.{name}"), m.get(f"floor.{name}")
            per_task = _div(ours, tasks)
            rows.append(Row(label, ours, m.get(f"kfp.{name}"), floor, tasks, m.get(f"rss.{name}"),
                            goal=f"per task <= {GOAL_VS_FLOOR} x floor, <= {goal_ms:g} ms",
                            checks=ratio_check("x floor", _div(ours, floor), GOAL_VS_FLOOR)
                            + ([] if per_task is None
                               else [(f"{per_task * 1000:.0f} ms/task", per_task * 1000 <= goal_ms)])))
            rows.append(Row(f"{label}, --cold-start", m.get(f"ours.{name}_cold_start"), m.get(f"kfp.{name}"),
                            floor, tasks, m.get(f"rss.{name}_cold_start"), note="before issue 22"))
    if m.get("import_floor.numpy") is not None:
        rows.append(Row("floor: python -c 'import executor_main, numpy'", m["import_floor.numpy"], tasks=1,
                        note="one process, seed environment"))
    if m.get("import_floor.kfp") is not None:
        rows.append(Row("floor: python -c 'import executor_main'", m["import_floor.kfp"], tasks=1,
                        note="one process, kfp-only environment"))
    if "loop" in selected:
        rss = m.get("rss.loop")
        rows.append(Row("1,000-iteration loop, trivial tasks", m.get("ours.loop"), None, None, 1000, rss,
                        goal=f"driver peak RSS <= {GOAL_LOOP_RSS_MB:g} MB",
                        checks=[] if rss is None else [(f"{rss:.0f} MB", rss <= GOAL_LOOP_RSS_MB)]))
    for row in rows:
        if row.workload in cpu_of:
            row.cpu = m.get(f"cpu.ours.{cpu_of[row.workload]}")
            row.driver_cpu = m.get(f"cpu.driver.{cpu_of[row.workload]}")
    return rows


def _start_note(m: dict[str, float | None]) -> str:
    parts = []
    if m.get("start.run_recorded") is not None:
        parts.append(f"run recorded at {m['start.run_recorded'] * 1000:.0f} ms")
    if m.get("start.first_task_created") is not None:
        parts.append(f"first task created at {m['start.first_task_created'] * 1000:.0f} ms")
    return ", ".join(parts)


def _fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if unit == "s" and value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} {unit}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(bench: Bench, rows: list[Row]) -> None:
    headers = ("workload", "ours", "kfp.local", "ours/kfp", "floor", "ours/floor", "ours/task", "floor/task",
               "ours CPU", "driver CPU", "driver RSS", "goal", "status")
    table = [headers]
    for row in rows:
        table.append((row.workload, _fmt(row.ours), _fmt(row.kfp), _ratio(_div(row.ours, row.kfp)),
                      _fmt(row.floor), _ratio(_div(row.ours, row.floor)),
                      _fmt(_div(row.ours, row.tasks)) if row.tasks and row.tasks > 1 else "-",
                      _fmt(_div(row.floor, row.tasks)) if row.tasks and row.tasks > 1 else "-",
                      _fmt(row.cpu), _fmt(row.driver_cpu),
                      f"{row.rss_mb:.0f} MB" if row.rss_mb else "-", row.goal, row.status))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    for index, line in enumerate(table):
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    notes = [f"  {row.workload}: {row.note}" for row in rows if row.note]
    if notes:
        print("\nnotes:")
        print("\n".join(notes))
    print(f"\nmedians of {bench.args.repeat} run(s); kfp.local = pipeline call in a fresh process"
          " (process medians in --json); floor = each task's compiled program run directly in our cached env;"
          "\nours CPU = user + system seconds of the driver and all its descendants; driver CPU = the driver"
          " process alone")
    keys = ("driver_start", "to_first_task", "launcher_in", "attempt", "publish", "between", "tail")
    labels = {"driver_start": "spawn -> run recorded (driver imports, load, validate, ledger)",
              "to_first_task": "run recorded -> first task created",
              "launcher_in": "per task: created -> launcher attempt start (spawn + imports)",
              "attempt": "per task: attempt start -> end (env lookup, component process, outputs)",
              "publish": "per task: attempt end -> published",
              "between": "per task: published -> next task created (launcher exit, driver)",
              "tail": "last task published -> driver exit"}
    for name, tasks in (("seed", 4), ("chain", 50)):
        timelines = bench.extra.get(f"{name}_timeline")
        if not timelines:
            continue
        print(f"\n{name} timeline from the ledger (median of {len(timelines)} run(s); per-task rows: means):")
        for key in keys:
            value = median(t[key] for t in timelines if key in t)
            if value is not None:
                print(f"  {labels[key]:<76} {value * 1000:7.0f} ms")
        floor = median(bench.samples.get(f"floor.{name}", []))
        if floor is not None:
            label = f"per task: the compiled program alone (floor / {tasks})"
            print(f"  {label:<76} {floor / tasks * 1000:7.0f} ms")
    print("\nsamples (seconds):")
    for key in sorted(bench.samples):
        print(f"  {key:<28} " + " ".join(f"{v:.3f}" for v in bench.samples[key]))
    if bench.errors:
        print("\nerrors:")
        for key, error in bench.errors.items():
            print(f"  {key}: {error}")


# ----------------------------------------------------------------------------------------------------
# Profile: import times and bytecode.


def import_times(python: str, module: str, runs: int = 7) -> dict[str, tuple[float, float, int]]:
    """Median (self ms, cumulative ms, depth) per module of `python -X importtime -c "import module"`."""
    samples: list[dict[str, tuple[int, int, int]]] = []
    for _ in range(runs):
        completed = subprocess.run([python, "-X", "importtime", "-c", f"import {module}"], cwd=REPO,
                                   capture_output=True, text=True, check=False)
        entries = {}
        for line in completed.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if match:
                own, cumulative, indent, name = match.groups()
                entries[name] = (int(own), int(cumulative), len(indent) // 2)
        samples.append(entries)
    names = set.intersection(*(set(entries) for entries in samples)) if samples else set()
    return {name: (statistics.median(e[name][0] for e in samples) / 1000,
                   statistics.median(e[name][1] for e in samples) / 1000, samples[0][name][2])
            for name in names}


def process_time(argv: list[str], runs: int = 7) -> float:
    """Median milliseconds to run a short process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def profile(bench: Bench) -> dict[str, Any]:
    report: dict[str, Any] = {}
    ours_packages = ("driver", "launcher", "spec", "ledger")
    for module in ("driver.run.run", "launcher.launch"):
        times = import_times(bench.python, module)
        total = times.get(module, (0.0, 0.0, 0))[1]
        own = sum(t[0] for name, t in times.items() if name.split(".")[0] in ours_packages)
        top = sorted(((t[1], t[0], t[2], name) for name, t in times.items() if t[2] <= 2), reverse=True)[:14]
        report[module] = {"total_ms": total or None, "own_modules_self_ms": own,
                          "top": [{"module": name, "cumulative_ms": c, "self_ms": s, "depth": d}
                                  for c, s, d, name in top]}
    report["python_start_ms"] = process_time([bench.python, "-c", "pass"])
    report["python_start_no_site_ms"] = process_time([bench.python, "-S", "-c", "pass"])
    tag = sys.implementation.cache_tag
    pyc: dict[str, dict[str, int]] = {}
    for package in ("driver", "launcher", "spec", "ledger"):
        sources = list((REPO / package).glob("*.py"))
        compiled = [s for s in sources if (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").exists()]
        pyc[package] = {"py": len(sources), "pyc": len(compiled)}
    for env_dir in {e for e in bench.extra.get("envs", []) if e and e != "None"}:
        sources = list(Path(env_dir).rglob("*.py"))
        compiled = [s for s in sources if (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").exists()]
        pyc[env_dir] = {"py": len(sources), "pyc": len(compiled)}
    report["bytecode"] = pyc
    report["PYTHONDONTWRITEBYTECODE"] = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    return report


def print_profile(report: dict[str, Any]) -> None:
    print("\nprofile:")
    print(f"  python start: {report['python_start_ms']:.0f} ms (-c pass),"
          f" {report['python_start_no_site_ms']:.0f} ms without site (-S);"
          f" PYTHONDONTWRITEBYTECODE={report['PYTHONDONTWRITEBYTECODE'] or '(unset)'}")
    for module in ("driver.run.run", "launcher.launch"):
        entry = report[module]
        total = entry["total_ms"]
        own = f"(our own modules' self time {entry['own_modules_self_ms']:.0f} ms)"
        print(f"  import {module} (median of 7, -X importtime): {total:.0f} ms {own}" if total
              else f"  import {module}: failed")
        for item in entry["top"]:
            print(f"      {item['cumulative_ms']:7.1f} ms  {'  ' * item['depth']}{item['module']}")
    print("  bytecode (.pyc present / .py):")
    for where, counts in report["bytecode"].items():
        print(f"      {counts['pyc']:5d} / {counts['py']:<5d} {where}")


# -- --ray: the same workloads under --runner host and --runner ray (issue 14) -----------------------------


def ray_bench(bench: Bench) -> int:
    """Seed and 200 trivial tasks, `--runner host` vs `--runner ray`, on a two-node Ray cluster started
    here (tests/ray_cluster.py: head and one worker, one CPU each, in a loopback-only network namespace).
    Both runners run inside the namespace, interleaved; the environments are built first, outside it."""
    from tests.ray_cluster import ADDRESS, start_cluster

    for name in ("seed", "fanout"):
        log(f"warm-up: host {name} (builds its environment)")
        warm = bench.run_ours(name)
        if warm.error:
            bench.errors[f"warm-up {name}"] = warm.error
    with start_cluster() as cluster:
        log(f"cluster up: {', '.join(cluster.nodes)}")
        ray = ("--runner", "ray", "--ray-address", ADDRESS)
        for name in ("seed", "fanout"):
            # The first Ray run of a cluster also starts its workers; it is not one of the samples.
            bench.run_ours(name, extra=ray, wrap=cluster.in_namespace)
            for r in range(bench.args.repeat):
                log(f"{name}: repeat {r + 1}/{bench.args.repeat}")
                for runner in (("host", "ray") if r % 2 == 0 else ("ray", "host")):
                    extra = ray if runner == "ray" else ("--runner", "host")
                    run = bench.run_ours(name, extra=extra, wrap=cluster.in_namespace)
                    if run.error:
                        bench.errors[f"{runner} {name}"] = run.error
                    else:
                        bench.add(f"{runner}.{name}", run.wall)
                    if not bench.args.keep:
                        shutil.rmtree(run.home, ignore_errors=True)
    print(f"--runner host vs --runner ray, {bench.args.repeat} runs each (medians), {os.cpu_count()} CPUs;"
          " Ray: 2 nodes x 1 CPU on this machine\n")
    print(f"{'workload':<34} {'host':>9} {'ray':>9} {'ray - host':>11} {'per task':>10}")
    workloads = (("seed", "seed pipeline (4 tasks)", 4), ("fanout", "200 trivial tasks", 200))
    for name, label, tasks in workloads:
        host = median(bench.samples.get(f"host.{name}", []))
        ray_wall = median(bench.samples.get(f"ray.{name}", []))
        extra = ray_wall - host if host is not None and ray_wall is not None else None
        per_task = f"{extra / tasks * 1000:.0f} ms" if extra is not None else "-"
        print(f"{label:<34} {_fmt(host):>9} {_fmt(ray_wall):>9} {_fmt(extra):>11} {per_task:>10}")
    for key, error in bench.errors.items():
        print(f"error: {key}: {error}")
    return 1 if bench.errors else 0


# ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--quick", action="store_true", help="one run each, no kfp.local warm-up")
    parser.add_argument("--slow", action="store_true",
                        help="also kfp.local use_venv=True on the seed and kfp.local on fanout/chain (1 run)")
    parser.add_argument("--big", action="store_true", help="also the 1,000-iteration loop (driver memory)")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead")
    parser.add_argument("--profile", action="store_true", help="add import-time and bytecode profiles")
    parser.add_argument("--python", help="interpreter for `python -m driver` (default: this one)")
    parser.add_argument("--kfp-python", help="interpreter for kfp.local (with kfp, numpy and pip installed)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (homes, logs)")
    parser.add_argument("--ray", action="store_true",
                        help="instead: seed and 200 trivial tasks under --runner host vs --runner ray, on a"
                        " two-node Ray cluster started for the occasion (needs local-pipelines[ray], root)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-kfp-local"]:
        ref, root, use_venv, result = argv[1:5]
        return child_kfp_local(json.loads(ref), root, use_venv == "1", result)
    args = parse_args(argv)
    selected = set(args.only.split(",")) if args.only else {w for w in WORKLOADS if w != "loop" or args.big}
    # The Docker rows need a daemon: by default only when one is configured here.
    if not args.only and not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        selected.discard("docker")
    unknown = selected - set(WORKLOADS)
    if unknown:
        raise SystemExit(f"bench: unknown workload(s) {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    sys.path.insert(0, str(REPO))
    bench = Bench(args)
    if args.ray:
        return ray_bench(bench)
    load_start = list(os.getloadavg())
    if load_start[0] > 0.5:
        log(f"warning: load average {load_start[0]:.2f} before starting; timings will be noisy")
    started = time.perf_counter()
    run_all(bench, selected)  # on an exception the temp dir stays, for its logs
    rows = build_rows(bench, selected)
    report = profile(bench) if args.profile else None
    if not args.keep and not bench.errors:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    from importlib.metadata import version

    machine = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
               "loadavg_start": load_start, "loadavg_end": list(os.getloadavg()),
               "platform": platform.platform(), "python": sys.version.split()[0], "kfp": version("kfp"),
               "driver_python": bench.python, "kfp_local_python": str(bench.kfp_python),
               "uv_cache_dir": bench.uv_cache, "bench_seconds": round(time.perf_counter() - started, 1)}
    if args.json:
        print(json.dumps({"machine": machine, "repeat": args.repeat, "rows": [row.as_json() for row in rows],
                          "samples": bench.samples, "seed_timeline": bench.extra.get("seed_timeline", []),
                          "chain_timeline": bench.extra.get("chain_timeline", []),
                          "errors": bench.errors, "profile": report,
                          "temp_dir": str(bench.tmp) if args.keep or bench.errors else None}, indent=2))
    else:
        print(f"local-pipelines vs kfp.local — {machine['date']}, {machine['cpus']} CPUs, Python"
              f" {machine['python']}, kfp {machine['kfp']}, {machine['bench_seconds']} s; load average"
              f" {load_start[0]:.2f} at start, {machine['loadavg_end'][0]:.2f} at end\n")
        print_table(bench, rows)
        if report is not None:
            print_profile(report)
        if args.keep or bench.errors:
            print(f"\ntemp dir kept: {bench.tmp}")
    return 1 if bench.errors else 0


if __name__ == "__main__":
    sys.exit(main())
