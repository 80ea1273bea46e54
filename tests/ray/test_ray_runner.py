"""`--runner ray` end to end, on a real two-node Ray cluster (tests/ray/conftest.py): the driver runs inside
the cluster's loopback-only namespace; each test pipeline is first run on the host, outside, so that its
environments are cached (the namespace reaches no package registry) — which is also the host run whose
results the caching test reuses.

Where an attempt ran is read from its log: the Ray runner's first line there is `[launcher] on Ray node ID`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.model import CACHED, CANCELED, COMPLETE, CONTAINER_EXECUTION, FAILED, Execution, RunView
from ledger.store import Ledger
from tests.cli import REPO_ROOT
from tests.e2e.finished_run import CompilePipeline
from tests.ray.conftest import RunInCluster
from tests.ray_cluster import ADDRESS, RayCluster

RAY = ("--runner", "ray", "--ray-address", ADDRESS)
_ON_NODE = re.compile(r"^\[launcher\] on Ray node (?P<node>[0-9a-f]+) at ")
GONE_WITHIN = 10.0


def _view(home: Path, run_id: str) -> RunView:
    return Ledger(home, create=False).open_run(run_id).view()


def _containers(view: RunView) -> list[Execution]:
    return [e for e in view.executions.values() if e.type == CONTAINER_EXECUTION]


def _nodes_of(execution: Execution) -> list[str]:
    """The Ray node of each attempt, in order, from the execution's log."""
    log = Path(str(execution.properties["log"])).read_text(errors="replace")
    return [m.group("node") for line in log.splitlines() if (m := _ON_NODE.match(line))]


def _run(
    run_in_cluster: RunInCluster, pipeline: Path, home: Path, *args: str, run_id: str = "ray"
) -> subprocess.CompletedProcess[str]:
    return run_in_cluster("driver", str(pipeline), *RAY, "--run-id", run_id, *args, home=home)


@pytest.fixture
def seed(seed_pipeline: Path, prebuild: Callable[..., None]) -> Path:
    prebuild(seed_pipeline)
    return seed_pipeline


@pytest.fixture
def compiled(
    compile_pipeline: CompilePipeline, prebuild: Callable[..., None], tmp_path_factory: pytest.TempPathFactory
) -> CompilePipeline:
    def compile_and_build(name: str) -> Path:
        package = compile_pipeline(name)
        if name in ("ray_node_loss", "ray_raylet_loss"):  # its marker in place: the host run does not hold
            markers = tmp_path_factory.mktemp("markers")
            (markers / "first").touch()
            prebuild(package, "-p", f"marker_dir={markers}")
        else:
            prebuild(package)
        return package

    return compile_and_build


def test_seed_pipeline_runs_on_the_cluster_as_on_the_host(
    seed: Path, run_in_cluster: RunInCluster, lpl_home: Path, tmp_path: Path
) -> None:
    completed = _run(run_in_cluster, seed, lpl_home, "--no-cache")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    host_home = tmp_path / "host"
    argv = [sys.executable, "-m", "driver", str(seed), "--home", str(host_home), "--run-id", "host"]
    host = subprocess.run(
        [*argv, "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert host.returncode == 0, host.stderr
    ray_tasks = {e.task_name: e for e in _containers(_view(lpl_home, "ray"))}
    host_tasks = {e.task_name: e for e in _containers(_view(host_home, "host"))}
    assert sorted(ray_tasks) == sorted(host_tasks)
    for name, execution in ray_tasks.items():
        assert execution.state == COMPLETE
        assert execution.properties["outputs"] == host_tasks[name].properties["outputs"]
        assert len(execution.attempts) == 1
        assert _nodes_of(execution), f"{name}: no Ray node in its log"
    # the components' output is streamed back to the console, as on the host
    assert re.search(r"^\[[^\]]+\] ", completed.stdout, re.MULTILINE), completed.stdout


def test_parallel_for_iterations_spread_over_both_nodes(
    compiled: CompilePipeline, run_in_cluster: RunInCluster, lpl_home: Path
) -> None:
    completed = _run(run_in_cluster, compiled("ray_spread"), lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    iterations = [e for e in _containers(_view(lpl_home, "ray")) if e.task_name == "where"]
    assert len(iterations) == 4 and {e.state for e in iterations} == {COMPLETE}
    nodes = {node for e in iterations for node in _nodes_of(e)}
    assert len(nodes) == 2, nodes
    # Forked from a warm interpreter on each node (issue 22), as on the host: the parent is its keeper.
    parents = [re.findall(r"parent (\S+)", Path(str(e.properties["log"])).read_text()) for e in iterations]
    assert parents == [["python3"]] * 4, parents


def test_a_task_asking_for_a_resource_only_one_node_has_runs_there(
    compiled: CompilePipeline, run_in_cluster: RunInCluster, ray_cluster: RayCluster, lpl_home: Path
) -> None:
    completed = _run(run_in_cluster, compiled("ray_requests"), lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (pinned,) = [e for e in _containers(_view(lpl_home, "ray")) if e.task_name == "pinned"]
    assert _nodes_of(pinned) == [ray_cluster.node_ids()["b"][:12]]


def test_a_node_selector_places_the_task_on_the_labelled_node(
    compiled: CompilePipeline, run_in_cluster: RunInCluster, ray_cluster: RayCluster, lpl_home: Path
) -> None:
    completed = _run(run_in_cluster, compiled("ray_node_selector"), lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (task,) = _containers(_view(lpl_home, "ray"))
    assert _nodes_of(task) == [ray_cluster.node_ids()["b"][:12]]


def test_parallelism_still_bounds_the_attempts_in_flight(
    compiled: CompilePipeline, run_in_cluster: RunInCluster, lpl_home: Path
) -> None:
    completed = _run(run_in_cluster, compiled("ray_spread"), lpl_home, "--parallelism", "1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    spans = sorted(
        (a["start"], a["end"]) for e in _containers(_view(lpl_home, "ray")) for a in e.attempts
    )
    assert len(spans) == 4
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans)), spans


def test_a_request_no_node_can_satisfy_fails_at_once(
    compiled: CompilePipeline, run_in_cluster: RunInCluster, lpl_home: Path
) -> None:
    started = time.monotonic()
    completed = _run(run_in_cluster, compiled("ray_requests"), lpl_home, "-p", "impossible=true")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert time.monotonic() - started < 120
    (too_big,) = [e for e in _containers(_view(lpl_home, "ray")) if e.task_name == "too-big"]
    assert too_big.state == FAILED
    assert "no node of the Ray cluster can ever run it" in str(too_big.properties["error"])
    assert "CPU 64" in str(too_big.properties["error"])


def test_a_lost_node_fails_the_attempt_naming_it_and_the_retry_runs_elsewhere(
    compiled: CompilePipeline, ray_cluster: RayCluster, lpl_home: Path, tmp_path: Path
) -> None:
    pipeline = compiled("ray_node_loss")
    markers = tmp_path / "markers"
    markers.mkdir()
    ray_cluster.start_node("spare-1", resources={"spare": 1})
    try:
        driver = _start_driver(ray_cluster, pipeline, lpl_home, "-p", f"marker_dir={markers}")
        _wait_for(lambda: (markers / "first").exists(), driver, what="the first attempt")
        ray_cluster.start_node("spare-2", resources={"spare": 1})
        lost = ray_cluster.node_ids()["spare-1"]
        ray_cluster.kill_node("spare-1", leaves_first=0.5)  # the component dies first, its worker after
        out, _ = driver.communicate(timeout=180)
        assert driver.returncode == 0, out
    finally:
        for name in ("spare-1", "spare-2"):
            if name in ray_cluster.nodes:
                ray_cluster.kill_node(name)
    (fragile,) = _containers(_view(lpl_home, "ray"))
    assert fragile.state == COMPLETE
    attempts = sorted(fragile.attempts, key=lambda a: a["number"])
    assert [a["state"] for a in attempts] == [FAILED, COMPLETE]
    assert lost[:12] in str(attempts[0]["error"]) and "lost" in str(attempts[0]["error"])
    assert _nodes_of(fragile)[0] == lost[:12] and _nodes_of(fragile)[1] != lost[:12]


def test_a_raylet_killed_under_a_task_leaves_none_of_the_tasks_processes(
    compiled: CompilePipeline, ray_cluster: RayCluster, lpl_home: Path, tmp_path: Path
) -> None:
    pipeline = compiled("ray_raylet_loss")
    markers = tmp_path / "markers"
    markers.mkdir()
    node = ray_cluster.start_node("lonely-1", resources={"lonely": 1})
    driver = _start_driver(ray_cluster, pipeline, lpl_home, "-p", f"marker_dir={markers}")
    try:
        _wait_for(lambda: (markers / "child").exists(), driver, what="the task's own child")
        child = int((markers / "child").read_text())
        (raylet,) = [pid for pid in node.pids if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                     .endswith(b"/raylet")]
        os.kill(raylet, signal.SIGKILL)
        deadline = time.monotonic() + GONE_WITHIN
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(child), "the task's child still runs 10 s after its node's raylet was killed"
    finally:
        driver.kill()
        driver.wait()
        if "lonely-1" in ray_cluster.nodes:
            ray_cluster.kill_node("lonely-1")


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_of_the_driver_leaves_no_ray_task_running_and_resume_completes(
    compile_pipeline: CompilePipeline,
    prebuild: Callable[..., None],
    ray_cluster: RayCluster,
    run_in_cluster: RunInCluster,
    lpl_home: Path,
    tmp_path: Path,
) -> None:
    pipeline = compile_pipeline("signals")
    release = tmp_path / "release"
    release.touch()
    prebuild_home = tmp_path / "prebuild"
    subprocess.run(
        [sys.executable, "-m", "driver", str(pipeline), "--home", str(prebuild_home), "--no-cache",
         "-p", f"release={release}"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    )  # fmt: skip
    release.unlink()
    driver = _start_driver(ray_cluster, pipeline, lpl_home, "-p", f"release={release}")
    started = Path(f"{release}.started")
    _wait_for(started.exists, driver, what="the held task")
    _wait_for(lambda: _busy_workers(ray_cluster), driver, what="a busy Ray worker")
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + GONE_WITHIN
    while _busy_workers(ray_cluster) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _busy_workers(ray_cluster), "a Ray task still runs 10 s after the driver was killed"
    assert not _processes_naming(ray_cluster, str(release)), "the held component still runs"
    release.touch()
    completed = run_in_cluster("driver", "--resume", "ray", *RAY, home=lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    states = {e.task_name: e.state for e in _containers(_view(lpl_home, "ray"))}
    assert states == {"step": COMPLETE, "hold": COMPLETE, "step-2": COMPLETE}, states


def test_sigint_of_the_driver_cancels_the_ray_task(
    compile_pipeline: CompilePipeline, ray_cluster: RayCluster, lpl_home: Path, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    driver = _start_driver(ray_cluster, compile_pipeline("signals"), lpl_home, "-p", f"release={release}")
    _wait_for(Path(f"{release}.started").exists, driver, what="the held task")
    driver.send_signal(signal.SIGINT)
    out, _ = driver.communicate(timeout=30)
    assert driver.returncode == 130, out
    states = {e.task_name: e.state for e in _containers(_view(lpl_home, "ray"))}
    assert states["hold"] == CANCELED
    assert not _busy_workers(ray_cluster)


def test_a_host_run_serves_a_ray_run_from_the_cache(
    seed_pipeline: Path, run_in_cluster: RunInCluster, lpl_home: Path
) -> None:
    host = subprocess.run(
        [sys.executable, "-m", "driver", str(seed_pipeline), "--home", str(lpl_home), "--run-id", "host"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert host.returncode == 0, host.stderr
    completed = _run(run_in_cluster, seed_pipeline, lpl_home)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    executions = _containers(_view(lpl_home, "ray"))
    assert executions and {e.state for e in executions} == {CACHED}


def test_replay_runs_a_recorded_task_on_the_cluster(
    seed: Path, run_in_cluster: RunInCluster, lpl_home: Path
) -> None:
    assert _run(run_in_cluster, seed, lpl_home, "--no-cache").returncode == 0
    task = _containers(_view(lpl_home, "ray"))[0].task_name
    replayed = run_in_cluster("launcher", "replay", "--run", "ray", "--task", task, *RAY, home=lpl_home)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    replays = [e for e in _containers(_view(lpl_home, "ray")) if e.properties.get("replay_of")]
    assert replays and _nodes_of(replays[-1])


def _start_driver(cluster: RayCluster, pipeline: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "driver", str(pipeline), "--home", str(home), *RAY, "--run-id", "ray"]
    argv += args
    return subprocess.Popen(
        cluster.in_namespace(argv),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(
    predicate: Callable[[], bool], driver: subprocess.Popen[str], *, what: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if driver.poll() is not None:
            out = driver.stdout.read() if driver.stdout else ""
            pytest.fail(f"the driver exited ({driver.returncode}) before {what}:\n{out}")
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.05)


def _busy_workers(cluster: RayCluster) -> list[int]:
    """Ray workers of the cluster running one of our attempts: Ray titles a busy worker `ray::<task name>`,
    and the gateway names each attempt's task `lpl:<task label>`."""
    busy = []
    for pid in cluster.processes():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::lpl:"):
            busy.append(pid)
    return busy


def _processes_naming(cluster: RayCluster, text: str) -> list[int]:
    found = []
    for pid in cluster.processes():
        try:
            if text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def test_a_node_that_does_not_see_the_pipeline_root_fails_the_run_with_a_clear_message(
    compiled: CompilePipeline, ray_cluster: RayCluster, run_in_cluster: RunInCluster, tmp_path: Path
) -> None:
    pipeline = compiled("ray_requests")
    home = tmp_path / "blind-home"
    home.mkdir()
    ray_cluster.start_node("blind", resources={"blind": 1}, hide=tmp_path)
    try:
        completed = _run(run_in_cluster, pipeline, home)
    finally:
        ray_cluster.kill_node("blind")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    (pinned,) = [e for e in _containers(_view(home, "ray")) if e.task_name == "pinned"]
    assert pinned.state == FAILED
    error = str(pinned.properties["error"])
    assert "do not see the pipeline root" in error and "blind" in error, error


_API_RUN = """
import json, sys
from driver import run_pipeline
result = run_pipeline(sys.argv[1], home=sys.argv[2], runner="ray", cache=False, echo=False,
                      cli_args=["--ray-address", sys.argv[3]])
print(json.dumps({"state": result.state, "tasks": {k: t.state for k, t in result.tasks.items()}}))
"""


def test_the_python_api_runs_on_the_cluster(seed: Path, ray_cluster: RayCluster, lpl_home: Path) -> None:
    completed = ray_cluster.run([sys.executable, "-c", _API_RUN, str(seed), str(lpl_home), ADDRESS])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(next(x for x in reversed(completed.stdout.splitlines()) if x.startswith("{")))
    assert report["state"] == COMPLETE and set(report["tasks"].values()) == {COMPLETE}, report
    assert all(_nodes_of(e) for e in _containers(_view(lpl_home, _only_run(lpl_home))))


def _only_run(home: Path) -> str:
    (run_id,) = [path.stem for path in (home / "ledger" / "runs").glob("*.jsonl")]
    return run_id
