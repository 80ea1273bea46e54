"""Measure `python -m ledger ui` (issue 20's goals): the runs page with 1,000 runs in the home, the run page
of a 2,000-task run, the latency from a ledger write to the page's event, and the server's memory.

    python scripts/bench_ui.py [--runs 1000] [--iterations 2000] [--home DIR] [--browser]

Runs are synthesised through the ledger's store API (`Ledger.create_run`, `Ledger.append`, `finish_run`), not
by running pipelines; the 2,000-task run is a `ParallelFor` of 2,000 iterations of one task, compiled from a
DSL function here so that the page draws its graph. `--browser` also times the run page's first paint in
headless chromium (Selenium). Goals: runs page <= 300 ms, 2,000-task run page <= 1 s, event latency <= 1 s,
server RSS <= 150 MB.
"""


import argparse
import contextlib
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ledger.model import COMPLETE, CONTAINER_EXECUTION, DAG_EXECUTION, RUNNING  # noqa: E402
from ledger.store import Ledger  # noqa: E402
from tests.ui.server import UiServer, start_ui  # noqa: E402


def wide_spec(iterations: int) -> dict[str, Any]:
    """A compiled pipeline: one loop of `iterations` iterations of one task."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def square(x: int) -> int:
        return x * x

    @dsl.pipeline(name="bench-wide")
    def wide() -> None:
        with dsl.ParallelFor(items=list(range(iterations))) as x:
            square(x=x)

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "wide.json"
        compiler.Compiler().compile(wide, str(path))
        return dict(json.loads(path.read_text()))


def add_small_runs(ledger: Ledger, count: int) -> None:
    """`count` finished runs of two executions each (a root and a task)."""
    for number in range(count):
        run = ledger.create_run({"run_id": f"small-{number:05d}", "pipeline_name": f"p{number % 7}",
                                 "parameters": {"n": number, "lr": 0.01}})

        def build(ids: list[int], number: int = number) -> list[dict[str, Any]]:
            return [
                {"kind": "execution", "id": ids[0], "type": DAG_EXECUTION, "state": COMPLETE,
                 "properties": {"task_name": "", "dag_kind": "root"}},
                {"kind": "execution", "id": ids[1], "type": CONTAINER_EXECUTION, "state": COMPLETE,
                 "properties": {"task_name": "train", "parent_dag_id": ids[0],
                                "outputs": {"Output": number}}},
            ]

        ledger.append(run.path, build, ids=2)
        run.finish_run(COMPLETE)


def add_wide_run(ledger: Ledger, spec: dict[str, Any], iterations: int, *, run_id: str) -> tuple[Any, int]:
    """A running run: its loop's `iterations` iterations, each with its task complete but the last one's,
    which is running; returns the run and that task's execution id."""
    loop_key = next(iter(spec["root"]["dag"]["tasks"]))
    run = ledger.create_run({"run_id": run_id, "pipeline_name": "bench-wide", "pipeline_spec": spec,
                             "parameters": {}})

    def build(ids: list[int]) -> list[dict[str, Any]]:
        root, loop = ids[0], ids[1]
        records = [
            {"kind": "execution", "id": root, "type": DAG_EXECUTION, "state": RUNNING,
             "properties": {"task_name": "", "dag_kind": "root"}},
            {"kind": "execution", "id": loop, "type": DAG_EXECUTION, "state": RUNNING,
             "properties": {"task_name": loop_key, "dag_kind": "loop", "parent_dag_id": root,
                            "iteration_count": iterations}},
        ]
        for index in range(iterations):
            iteration, task = ids[2 + 2 * index], ids[3 + 2 * index]
            state = RUNNING if index == iterations - 1 else COMPLETE
            records += [
                {"kind": "execution", "id": iteration, "type": DAG_EXECUTION, "state": state,
                 "properties": {"task_name": loop_key, "dag_kind": "iteration", "parent_dag_id": loop,
                                "iteration_index": index,
                                "inputs": {"pipelinechannel--loop-item-param-1": index}}},
                {"kind": "execution", "id": task, "type": CONTAINER_EXECUTION, "state": state,
                 "properties": {"task_name": "square", "parent_dag_id": iteration, "inputs": {"x": index},
                                "outputs": {"Output": index * index} if state == COMPLETE else {}}},
            ]
        return records

    ids = ledger.append(run.path, build, ids=2 + 2 * iterations)
    return run, ids[-1]


def timed_get(ui: UiServer, path: str, *, repeat: int) -> tuple[float, list[float]]:
    """The first request's time and the following ones', in milliseconds."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        status, _, body = ui.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status, body[:200])
    return times[0], times[1:]


def event_latency(ui: UiServer, run: Any, execution_id: int, *, samples: int) -> list[float]:
    """Milliseconds from a state change appended to the journal to its event arriving at a client."""
    connection = socket.create_connection(("127.0.0.1", ui.port))
    request = f"GET /api/runs/{run.run_id}/events HTTP/1.1\r\nHost: 127.0.0.1:{ui.port}\r\n\r\n"
    connection.sendall(request.encode())
    received: list[float] = []
    ready = threading.Event()

    def read() -> None:
        buffer = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:  # closed when the measuring is done
                return
            if not chunk:
                return
            buffer += chunk
            if b": following" in buffer:
                ready.set()
            while b"event: execution" in buffer:
                received.append(time.perf_counter())
                buffer = buffer.split(b"event: execution", 1)[1]

    threading.Thread(target=read, daemon=True).start()
    ready.wait(10)
    latencies = []
    for number in range(samples):
        state = COMPLETE if number % 2 == 0 else RUNNING
        written = time.perf_counter()
        run.update_execution(execution_id, state=state)
        deadline = time.monotonic() + 5
        while len(received) <= number and time.monotonic() < deadline:
            time.sleep(0.005)
        latencies.append((received[number] - written) * 1000 if len(received) > number else float("inf"))
        time.sleep(0.05)
    connection.close()
    return latencies


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless chromium through chromedriver (Selenium), or None where either is missing."""
    binary, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not chromedriver:
        yield None
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    with tempfile.TemporaryDirectory() as profile:
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def first_paint(driver: Any, ui: UiServer, path: str) -> float | None:
    """Milliseconds to the first contentful paint of a page."""
    driver.get(ui.url + path.lstrip("/"))
    paint = driver.execute_script("var p = performance.getEntriesByName('first-contentful-paint')[0];"
                                  " return p ? p.startTime : null;")
    return float(paint) if paint is not None else None


def page_latency(driver: Any, ui: UiServer, ledger: Ledger, *, samples: int) -> list[float]:
    """Milliseconds from a state change appended to the journal to the open run page showing it."""
    run = ledger.create_run({"run_id": "latency", "pipeline_name": "latency", "parameters": {}})
    root = run.create_execution(type=DAG_EXECUTION, state=RUNNING, properties={"task_name": ""})
    task = run.create_execution(type=CONTAINER_EXECUTION, state=RUNNING,
                                properties={"task_name": "work", "parent_dag_id": root})
    driver.get(ui.url + "runs/latency")
    shown = f"var row = document.querySelector('#table-box tr[data-execution=\"{task}\"]');" \
            " return row ? row.dataset.state : null;"
    time.sleep(1)  # the page's event stream is connected
    latencies = []
    for number in range(samples):
        state = COMPLETE if number % 2 == 0 else RUNNING
        written = time.perf_counter()
        run.update_execution(task, state=state)
        while driver.execute_script(shown) != state and time.perf_counter() - written < 5:
            time.sleep(0.01)
        latencies.append((time.perf_counter() - written) * 1000)
        time.sleep(0.3)
    return latencies


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--home", type=Path, help="where to build the home (default: a temporary directory)")
    parser.add_argument("--browser", action="store_true", help="also time the first paint in chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch) / "home"
        ledger = Ledger(home)
        started = time.perf_counter()
        add_small_runs(ledger, args.runs - 1)
        run, running_task = add_wide_run(ledger, wide_spec(args.iterations), args.iterations, run_id="wide")
        print(f"home: {args.runs} runs, one of {2 * args.iterations + 2} executions,"
              f" made in {time.perf_counter() - started:.1f}s")
        ui = start_ui(home)
        try:
            report(ui, ledger, run, running_task, browser=args.browser)
        finally:
            ui.stop()
    return 0


def report(ui: UiServer, ledger: Ledger, run: Any, running_task: int, *, browser: bool) -> None:
    first, rest = timed_get(ui, "/", repeat=5)
    print(f"runs page (/): first {first:.0f} ms, then median {statistics.median(rest):.0f} ms"
          "  (goal <= 300 ms)")
    first, rest = timed_get(ui, "/api/runs", repeat=3)
    print(f"/api/runs: first {first:.0f} ms, then median {statistics.median(rest):.0f} ms")
    first, rest = timed_get(ui, "/runs/wide", repeat=3)
    print(f"2,000-task run page (/runs/wide): first {first:.0f} ms,"
          f" then median {statistics.median(rest):.0f} ms  (goal <= 1000 ms)")
    first, rest = timed_get(ui, "/runs/wide/live", repeat=3)
    print(f"its live parts (/runs/wide/live): median {statistics.median(rest):.0f} ms")
    latencies = event_latency(ui, run, running_task, samples=10)
    live = statistics.median(rest)
    print(f"ledger write -> event: median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms;"
          f" -> page updated (event + live parts): about {statistics.median(latencies) + live:.0f} ms"
          "  (goal <= 1000 ms)")
    if browser:
        with chromium() as driver:
            if driver is None:
                print("no chromium: nothing measured in a browser")
            else:
                paint = first_paint(driver, ui, "/runs/wide")
                print(f"2,000-task run page, first contentful paint in chromium: {paint or 0:.0f} ms")
                shown = page_latency(driver, ui, ledger, samples=10)
                print("ledger write -> open run page shows it (chromium):"
                      f" median {statistics.median(shown):.0f} ms, max {max(shown):.0f} ms"
                      "  (goal <= 1000 ms)")
    print(f"server RSS: {rss_mb(ui.process.pid):.0f} MB  (goal <= 150 MB)")


if __name__ == "__main__":
    sys.exit(main())
