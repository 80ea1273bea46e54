"""Measure run wall time against the attempt cap on I/O-bound and CPU-bound fan-outs (no loop limit).

    python scripts/measure_parallelism.py [--caps default,2,4,8,16,32] [--repeat 3] [--io 32] [--cpu 8]
                                          [--trivial 60]

Each pipeline runs once to warm its environment, then once per cap and repeat (`--parallelism CAP`; `default`
is no flag: one attempt per CPU, more up to 16 while a CPU is idle), interleaved; the table prints median
seconds. The README's
"Parallelism" section explains the default chosen from these figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _compile(factory: str, tasks: int, target: Path, *, source: str = "bound") -> Path:
    from kfp import compiler

    path = REPO / "scripts" / "bench_pipelines" / f"{source}.py"
    spec = importlib.util.spec_from_file_location(source, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiler.Compiler().compile(getattr(module, factory)(tasks), str(target))
    return target


def _run(package: Path, cap: int | None, home: Path) -> float:
    command = [sys.executable, "-m", "driver", str(package), "--home", str(home), "--no-cache"]
    if cap is not None:
        command += ["--parallelism", str(cap)]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caps", default="default,2,4,8,16,32")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--io", type=int, default=32, help="tasks in the I/O-bound fan-out")
    parser.add_argument("--cpu", type=int, default=8, help="tasks in the CPU-bound fan-out")
    parser.add_argument("--trivial", type=int, default=60, help="tasks in the fan-out of trivial tasks")
    args = parser.parse_args()
    caps = [None if cap == "default" else int(cap) for cap in args.caps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        packages = {
            f"io ({args.io} x 1 s wait)": _compile("make_io", args.io, Path(tmp) / "io.json"),
            f"cpu ({args.cpu} x ~0.5 s compute)": _compile("make_cpu", args.cpu, Path(tmp) / "cpu.json"),
            f"trivial ({args.trivial} x no-op)": _compile(
                "make_fanout", args.trivial, Path(tmp) / "trivial.json", source="trivial"
            ),
        }
        samples: dict[tuple[str, int | None], list[float]] = {}
        for package in packages.values():
            _run(package, 2, Path(tmp) / "warm")
        for _ in range(args.repeat):
            for name, package in packages.items():
                for cap in caps:
                    home = Path(tempfile.mkdtemp(dir=tmp))
                    samples.setdefault((name, cap), []).append(_run(package, cap, home))
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    names = ["default" if cap is None else f"cap {cap}" for cap in caps]
    print("workload".ljust(34) + "".join(name.rjust(9) for name in names))
    for name in packages:
        row = "".join(f"{statistics.median(samples[(name, cap)]):9.2f}" for cap in caps)
        print(name.ljust(34) + row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
