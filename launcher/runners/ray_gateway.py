"""`python -m launcher.runners.ray_gateway`: the one Ray driver of a run, which launchers hand their attempts.

Why a process of its own: a Ray driver costs a second to connect and its workers are per driver (job), so
a driver per launcher would pay Python, Ray's start-up and fresh workers on every attempt. One gateway per
owner (the driver process of the run, or a `launcher replay`) connects once; each launcher connects to it
over an abstract unix socket (same user only), sends one attempt and reads its stream back:

    launcher -> gateway   {"attempt", "request", "shared", "label"}, then possibly "stop"
    gateway -> launcher   ("node", {...}), ("out", bytes)..., then ("exit", code), ("error", msg) or
                          ("lost", msg)

Lifetimes: a launcher that goes away (killed) cancels its Ray task; when the owner process ends, every Ray
task still running is cancelled and the gateway exits, which ends its Ray job (Ray then stops the job's
workers, and their components die with them). The ledger is none of its business.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pickle
import select
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from launcher.runners.ray_request import NodeInfo, RayRequest, unsatisfiable

CANCEL_GRACE_SECONDS = 6.0  # then the worker is killed outright: no task outlives a stop by 10 s
_HEADER = struct.Struct("!I")


def gateway_name(*, owner: int, address: str) -> str:
    """The abstract socket of the gateway of `owner` for the cluster at `address`."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, address or "auto").hex[:12]
    return f"\0lpl-ray-gateway-{owner}-{digest}"


def send_message(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message)
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive_message(sock: socket.socket) -> Any:
    """The next message, or EOFError when the other side closed."""
    (size,) = _HEADER.unpack(_receive_exactly(sock, _HEADER.size))
    return pickle.loads(_receive_exactly(sock, size))


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            raise EOFError
        data += part
    return data


def _same_user(conn: socket.socket) -> bool:
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return bool(uid == os.getuid())


class Gateway:
    """The Ray connection and the attempts running through it."""

    def __init__(self, *, address: str) -> None:
        self.address = address
        self.failure = ""  # why Ray cannot be used; every attempt then fails with it
        self.remote: Any = None
        self.running: set[Any] = set()
        self.lock = threading.Lock()
        self.root_checks: dict[str, str] = {}  # pipeline root -> "" (every node sees it) or the problem
        self.root_lock = threading.Lock()

    def connect(self) -> None:
        try:
            import ray

            from launcher.runners.ray_node import attempt_on_node
        except ImportError as exc:
            self.failure = f"Ray is not installed here ({exc}): pip install 'local-pipelines[ray]'"
            return
        try:
            ray.init(
                address=self.address or os.environ.get("RAY_ADDRESS") or "auto",
                logging_level=logging.ERROR,
                log_to_driver=False,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or os.environ.get("RAY_ADDRESS") or "the local default (ray start --head)"
            self.failure = f"cannot connect to the Ray cluster at {where}: {exc}"
            return
        self.remote = ray.remote(attempt_on_node)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = receive_message(conn)
            except (EOFError, OSError):
                return
            try:
                problem = self.failure or self._check(request)
                if not problem:
                    self._run(conn, request)
                    return
            except Exception as exc:  # a bug of ours or a Ray failure: the attempt fails with it, loudly
                problem = f"the Ray gateway failed: {type(exc).__name__}: {exc}"
                traceback.print_exc()
            with contextlib.suppress(OSError):
                send_message(conn, ("error", problem))

    def _check(self, request: dict[str, Any]) -> str:
        nodes = alive_nodes()
        reason = unsatisfiable(request["request"], nodes)
        if reason:
            return reason
        # Once per pipeline root; each attempt checks its own directories on its node.
        return self.check_root(request["shared"][0], nodes=nodes)

    def check_root(self, root: str, *, nodes: list[NodeInfo] | None = None) -> str:
        """"" when every alive node sees the pipeline root, else the problem; checked once per root."""
        with self.root_lock:
            if root not in self.root_checks:
                self.root_checks[root] = check_shared((root,), nodes if nodes is not None else alive_nodes())
            return self.root_checks[root]

    def _run(self, conn: socket.socket, request: dict[str, Any]) -> None:
        import ray

        ray_request: RayRequest = request["request"]
        generator = self.remote.options(
            num_returns="streaming",
            name=f"lpl:{request['label']}"[:100],
            max_retries=0,  # Ray retries nothing: the task's retry policy decides, in the driver
            retry_exceptions=False,
            **ray_request.options(),
        ).remote(request["attempt"], tuple(request["shared"]))
        with self.lock:
            self.running.add(generator)
        threading.Thread(target=self._watch_launcher, args=(conn, generator), daemon=True).start()
        node: dict[str, Any] = {}
        last: tuple[str, Any] = ("error", "the Ray task ended without an exit code")
        try:
            for item_ref in generator:
                item = ray.get(item_ref)
                if item[0] == "node":
                    node = item[1]
                if item[0] in ("exit", "error"):
                    last = item
                    break
                send_message(conn, item)
        except ray.exceptions.TaskCancelledError:
            last = ("exit", 130)
        except ray.exceptions.RayTaskError as exc:  # our node-side code raised: not a lost node
            last = ("error", f"the attempt failed on {node_name(node)}: {exc}")
        except ray.exceptions.RayError as exc:
            last = ("lost", lost_message(node, exc))
        except OSError:
            cancel(generator)  # the launcher went away
            return
        finally:
            with self.lock:
                self.running.discard(generator)
        with contextlib.suppress(OSError):
            send_message(conn, last)

    def _watch_launcher(self, conn: socket.socket, generator: Any) -> None:
        """A "stop" from the launcher, or its end (killed): cancel the Ray task."""
        with contextlib.suppress(EOFError, OSError):
            while True:
                if receive_message(conn) == "stop":
                    break
        with self.lock:
            if generator not in self.running:
                return
        cancel(generator)

    def cancel_all(self) -> None:
        with self.lock:
            running = list(self.running)
        for generator in running:
            threading.Thread(target=cancel, args=(generator,), daemon=True).start()
        deadline = time.monotonic() + CANCEL_GRACE_SECONDS + 2
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)


def cancel(generator: Any) -> None:
    """Cancel a Ray task: its component gets SIGTERM, then the worker is killed if it has not ended."""
    import ray

    with contextlib.suppress(Exception):
        ray.cancel(generator)
    deadline = time.monotonic() + CANCEL_GRACE_SECONDS
    while time.monotonic() < deadline:
        ready, _ = ray.wait([generator.completed()], timeout=0.2)
        if ready:
            return
    with contextlib.suppress(Exception):
        ray.cancel(generator, force=True)


def alive_nodes() -> list[NodeInfo]:
    import ray

    return [
        NodeInfo(
            node_id=str(node["NodeID"]),
            address=str(node.get("NodeManagerAddress", "")),
            resources={str(key): float(value) for key, value in node.get("Resources", {}).items()},
            labels={str(key): str(value) for key, value in (node.get("Labels") or {}).items()},
        )
        for node in ray.nodes()  # type: ignore[no-untyped-call]  # Ray leaves it unannotated
        if node.get("Alive")
    ]


def node_name(node: dict[str, Any]) -> str:
    if not node:
        return "the Ray node chosen for it (before it reported)"
    return f"Ray node {node['node_id'][:12]} at {node['address']}"


def lost_message(node: dict[str, Any], exc: Exception) -> str:
    return f"{node_name(node)} was lost while running this attempt ({type(exc).__name__})"


def check_shared(shared: tuple[str, ...], nodes: list[NodeInfo]) -> str:
    """"" when every alive node sees the directories in `shared` (the first holds a probe file written here,
    so a node that has a different directory at the same path is caught too); else what is wrong."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = Path(shared[0]) / f".lpl-ray-probe-{uuid.uuid4().hex}"
    probe.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    probe.write_text(token)
    try:
        checker = ray.remote(_sees)
        refs = {
            node.node_id: checker.options(
                num_cpus=0,
                max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
            ).remote(str(probe), token, shared[1:])
            for node in nodes
        }
        blind = [node for node in nodes if not _probe_result(refs[node.node_id])]
    finally:
        probe.unlink(missing_ok=True)
    if not blind:
        return ""
    names = ", ".join(node.describe().split(" (")[0] for node in blind)
    return (
        f"Ray node(s) {names} do not see the pipeline root {shared[0]} as this machine does: the pipeline"
        " root and the home must be one shared directory, mounted at the same path on every node"
    )


def _probe_result(ref: Any) -> bool:
    """Whether the node saw the probe; a node that left the cluster meanwhile is no longer asked."""
    import ray

    try:
        return bool(ray.get(ref, timeout=120))
    except ray.exceptions.RayError:
        return True  # gone (or going): it runs no attempt, and an attempt checks its own node again


def _sees(probe: str, token: str, directories: tuple[str, ...]) -> bool:
    try:
        return Path(probe).read_text() == token and all(os.path.isdir(path) for path in directories)
    except OSError:
        return False


def _watch_owner(owner: int, gateway: Gateway, server: socket.socket) -> None:
    """Block until the owner process ends; then cancel what still runs and leave."""
    try:
        fd = os.pidfd_open(owner)
    except (OSError, AttributeError):
        fd = -1
    if fd >= 0:
        select.select([fd], [], [])
    else:
        while Path(f"/proc/{owner}").exists():
            time.sleep(0.2)
    server.close()
    gateway.cancel_all()
    sys.stdout.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.runners.ray_gateway", description=__doc__)
    parser.add_argument("--address", default="", help="the Ray cluster (default: Ray's own resolution)")
    parser.add_argument("--owner", type=int, required=True, help="the process this gateway serves")
    parser.add_argument(
        "--pipeline-root", default="", help="check now that every node sees it (and start their workers)"
    )
    args = parser.parse_args(argv)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(gateway_name(owner=args.owner, address=args.address))
    except OSError:
        return 0  # another gateway of this owner won the race
    server.listen(256)
    gateway = Gateway(address=args.address)
    threading.Thread(target=_watch_owner, args=(args.owner, gateway, server), daemon=True).start()
    gateway.connect()
    print(f"gateway for owner {args.owner}: {gateway.failure or 'connected'}", flush=True)
    if args.pipeline_root and not gateway.failure:
        # Before the first attempt asks: it overlaps with the driver's start, and warms a worker per node.
        threading.Thread(target=gateway.check_root, args=(args.pipeline_root,), daemon=True).start()
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return 0
        if _same_user(conn):
            threading.Thread(target=gateway.serve, args=(conn,), daemon=True).start()
        else:
            conn.close()


if __name__ == "__main__":
    os._exit(main())
