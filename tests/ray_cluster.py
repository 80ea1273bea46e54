"""A real Ray cluster of several nodes on this machine, inside a network namespace that holds only loopback.

Outside such a namespace Ray binds to the machine's own address; inside it, `lo` is the only interface, so
every Ray process (and every driver run through `in_namespace`) talks over 127.0.0.1 and nothing leaves the
machine. A holder process (`unshare -n`, then `sleep`) keeps the namespace alive; `ray start` and the
drivers under test enter it with `nsenter --net`. Package registries are unreachable in there: build the
environments a test needs before entering (`LPL_PREBUILD`-style warm-up runs outside are the caller's job).

Stopping kills, by pid, every process whose network namespace is this one (Ray's daemons, its workers, any
driver still running in it), SIGTERM first then SIGKILL, then the holder: nothing is left behind, and no
Ray process outside the namespace is touched.

Used by tests/ray (a module fixture) and by scripts/bench.py (`--ray`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEAD_PORT = 6379
ADDRESS = f"127.0.0.1:{HEAD_PORT}"
# Node death is noticed after period x threshold; Ray's defaults (3 s x 5, ...) make a killed node linger.
FAST_HEALTH_CHECKS = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "500",
    "RAY_health_check_failure_threshold": "3",
}


# Prints {lpl-node label: node id} of the alive nodes (run inside the namespace).
_NODE_IDS = """
import json, ray
ray.init(address=ADDRESS, logging_level="ERROR", log_to_driver=False)
print(json.dumps({n["Labels"].get("lpl-node", ""): n["NodeID"] for n in ray.nodes() if n["Alive"]}))
"""


class ClusterError(RuntimeError):
    """The cluster could not be started (the message says which step and shows its output)."""


def ray_cli() -> list[str]:
    """The `ray` command of this interpreter's installation."""
    return [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def namespace_supported() -> str | None:
    """None when `unshare -n` works here, else why not (for a skip or a failure message)."""
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return f"unshare -n fails here: {probe.stderr.strip()}"
    return None


@dataclass
class Node:
    """One `ray start`: its name, the daemons it left running (their pids) and what it offers."""

    name: str
    pids: set[int]
    resources: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


class RayCluster:
    """A namespace and the Ray nodes started in it. Use `start_cluster()` as a context manager."""

    def __init__(self) -> None:
        self.temp_dir = Path(tempfile.mkdtemp(prefix="lplray-", dir="/tmp"))  # socket paths must stay short
        self.holder = _start_holder()
        self.namespace = os.readlink(f"/proc/{self.holder}/ns/net")
        self.nodes: dict[str, Node] = {}
        self.address = ADDRESS
        self.stopped = False

    def in_namespace(self, argv: list[str]) -> list[str]:
        """`argv` as a command that runs inside the cluster's network namespace."""
        return ["nsenter", f"--net=/proc/{self.holder}/ns/net", *argv]

    def start_node(
        self,
        name: str,
        *,
        num_cpus: int = 1,
        resources: dict[str, float] | None = None,
        labels: dict[str, str] | None = None,
        hide: Path | None = None,
    ) -> Node:
        """`ray start` one node (the first one is the head) with its own CPUs, resources and labels;
        `hide`: a directory this node sees empty (a tmpfs over it, in a mount namespace of the node's own),
        as a node would that does not share the machine's file system."""
        resources = dict(resources or {})
        labels = {"lpl-node": name, **(labels or {})}
        argv = [*ray_cli(), "start", f"--num-cpus={num_cpus}", "--disable-usage-stats"]
        if not self.nodes:
            argv += ["--head", f"--port={HEAD_PORT}", f"--temp-dir={self.temp_dir}"]
            argv += ["--include-dashboard=false", "--node-ip-address=127.0.0.1"]
        else:
            argv += [f"--address={self.address}", "--node-ip-address=127.0.0.1"]
        if resources:
            argv.append(f"--resources={json.dumps(resources)}")
        argv.append("--labels=" + ",".join(f"{key}={value}" for key, value in labels.items()))
        if hide is not None:
            mount = 'mount -t tmpfs lpl-hidden "$0" && exec "$@"'
            argv = ["unshare", "-m", "sh", "-c", mount, str(hide), *argv]
        before = self.processes()
        started = subprocess.run(
            self.in_namespace(argv),
            capture_output=True,
            text=True,
            env={**os.environ, **FAST_HEALTH_CHECKS, "RAY_USAGE_STATS_ENABLED": "0"},
            timeout=120,
            check=False,
        )
        if started.returncode != 0:
            raise ClusterError(f"ray start ({name}) failed:\n{started.stdout}\n{started.stderr}")
        # The new daemons; not the workers that earlier nodes happened to start meanwhile (their children).
        new = {pid for pid in self.processes() - before if _parent(pid) not in before}
        node = Node(name=name, pids=new, resources=resources, labels=labels)
        self.nodes[name] = node
        return node

    def node_ids(self) -> dict[str, str]:
        """The id of each alive node, by the name it was started with (its `lpl-node` label)."""
        script = _NODE_IDS.replace("ADDRESS", repr(self.address))
        completed = self.run([sys.executable, "-c", script])
        if completed.returncode != 0:
            raise ClusterError(f"cannot list the nodes: {completed.stderr}")
        # Ray may print its own warnings on stdout too: ours is the line holding a JSON object.
        line = next(line for line in reversed(completed.stdout.splitlines()) if line.startswith("{"))
        ids: dict[str, str] = json.loads(line)
        return ids

    def kill_node(self, name: str, *, leaves_first: float = 0.0) -> None:
        """SIGKILL one node's daemons and everything they started (its workers, the tasks they run).

        A machine going down kills its processes in no particular order. `leaves_first` (seconds) kills the
        processes that started none (a component's, an idle worker) first and the rest that much later: the
        hardest order for the gateway, whose worker then sees its component die by a signal."""
        node = self.nodes.pop(name)
        victims = _descendants(node.pids)
        if leaves_first:
            parents = {_parent(pid) for pid in victims}
            leaves = victims - parents
            for pid in leaves:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(leaves_first)
            victims -= leaves
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # Until the head has noticed, the node is still listed as alive (and gets work).
        deadline = time.monotonic() + 60
        while name in self.node_ids() and time.monotonic() < deadline:
            time.sleep(0.2)

    def processes(self) -> set[int]:
        """Every process in the namespace but the holder."""
        found: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.holder:
                continue
            with contextlib.suppress(OSError):
                if os.readlink(entry / "ns" / "net") == self.namespace:
                    found.add(int(entry.name))
        return found

    def run(self, argv: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the namespace to its end (text output captured)."""
        return subprocess.run(
            self.in_namespace(argv), capture_output=True, text=True, timeout=timeout, check=False
        )

    def stop(self) -> None:
        """Stop every process in the namespace (SIGTERM, then SIGKILL after a grace), then the holder."""
        if self.stopped:
            return
        self.stopped = True
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.processes():
                break
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.holder, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _start_holder() -> int:
    """The pid of a `sleep` in a new network namespace with `lo` up. It is no descendant of this process (its
    parent shell exits at once), so a test that stops this process's descendants cannot take the namespace."""
    started = subprocess.run(
        ["sh", "-c", 'unshare -n sh -c "ip link set lo up && exec sleep 86400" </dev/null >/dev/null 2>&1 &'
         " echo $!"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pid = int(started.stdout.strip())
    own = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            in_namespace = os.readlink(f"/proc/{pid}/ns/net") != own
            # `exec sleep` runs once `lo` is up
            if in_namespace and Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                return pid
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.02)
    raise ClusterError("could not create a loopback-only network namespace (unshare -n)")


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(roots: set[int]) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, set()).add(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


@contextlib.contextmanager
def start_cluster() -> Iterator[RayCluster]:
    """A head node (1 CPU, label lpl-node=head) and a worker `b` (1 CPU, resource `b`, labels lpl-node=b,
    disk=ssd), stopped on exit whatever happens."""
    cluster = RayCluster()
    try:
        cluster.start_node("head")
        cluster.start_node("b", resources={"b": 1}, labels={"disk": "ssd"})
        yield cluster
    finally:
        cluster.stop()
