"""`python -m launcher`: run one attempt of one task from the files the driver wrote (or `replay` one)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Our own modules are imported by every driver and launcher process: keep their bytecode even where
# PYTHONDONTWRITEBYTECODE is set, or each process compiles them from source again (~30 ms).
sys.dont_write_bytecode = False

# `python -m` puts the working directory first on sys.path, where a user's own `spec.py` would shadow our
# packages: drop it before importing them, unless our packages live there (a checkout run in place).
if sys.path and sys.path[0] == os.getcwd() != os.path.dirname(os.path.dirname(os.path.abspath(__file__))):
    del sys.path[0]

EXIT_USAGE = 2


def _default_home() -> Path:
    return Path(os.environ.get("LPL_HOME", ".lpl"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m launcher",
        description=__doc__,
        epilog="python -m launcher replay --run RUN --task TASK [--pipeline FILE]: run one recorded task"
        " again, recorded as a replay (python -m launcher replay --help). Other options: the driver's.",
    )
    parser.add_argument("--home", type=Path, default=_default_home())
    parser.add_argument("--run-id")
    parser.add_argument("--execution-id", type=int)
    parser.add_argument("--task-dir", type=Path)
    parser.add_argument("--attempt", type=int, default=0)
    parser.add_argument(
        "--serve",
        metavar="CONTROL_FD",
        type=int,
        help="run as the driver's fork server: tasks on stdin, answers on this file descriptor",
    )
    parser.add_argument(
        "--preload",
        metavar="RUNNER",
        action="append",
        default=[],
        help="with --serve: import this runner once for every launcher (repeatable)",
    )
    return parser


def _replay_parser(home: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m launcher replay",
        description="Run one recorded task again from its ExecutorInput, recorded as a new linked execution.",
    )
    parser.add_argument("--home", type=Path, default=home, help="the home that holds the run")
    parser.add_argument(
        "--run", required=True, metavar="RUN_ID", help="the run holding the task: id, unique prefix or `last`"
    )
    parser.add_argument(
        "--task", required=True, metavar="KEY", help="task key, task path (outer/inner) or execution id"
    )
    parser.add_argument(
        "--iteration", type=int, metavar="N", help="which loop iteration, if the task ran in several"
    )
    parser.add_argument(
        "--runner", metavar="NAME", help="where to run it: host, docker or ray (default: where it ran)"
    )
    parser.add_argument(
        "--pipeline", type=Path, metavar="FILE",
        help="run the task's component as FILE defines it (the pipeline recompiled after a fix, or its DSL"
        " file FILE.py[:FUNCTION]), with the inputs the run recorded",
    )
    parser.add_argument("--ray-address", metavar="ADDR", help="as `python -m driver` takes it")
    parser.add_argument("--docker-network", choices=("none", "host"), help="as `python -m driver` takes it")
    parser.add_argument("--ignore-accelerators", action="store_true", help="as `python -m driver` takes it")
    return parser


def _replay_args(argv: list[str]) -> argparse.Namespace | None:
    """The replay options when `replay` is the first word after the options, else None (a driver's call)."""
    home_parser = argparse.ArgumentParser(add_help=False)
    home_parser.add_argument("--home", type=Path, default=_default_home())
    known, rest = home_parser.parse_known_args(argv)
    if not rest or rest[0] != "replay":
        return None
    return _replay_parser(known.home).parse_args(rest[1:])


def _replay(args: argparse.Namespace) -> int:
    from launcher.replay import ReplayOptions, replay
    from spec.errors import LplError
    from spec.runner_choice import parse_runner_choice, runner_options

    try:
        runner = parse_runner_choice(args.runner, []).default if args.runner else None
        return replay(
            ReplayOptions(
                home=args.home,
                run_id=args.run,
                task=args.task,
                iteration=args.iteration,
                pipeline=args.pipeline,
                runner=runner,
                runner_options=runner_options(
                    ignore_accelerators=args.ignore_accelerators,
                    docker_network=args.docker_network,
                    ray_address=args.ray_address,
                ),
            )
        )
    except LplError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    replay_args = _replay_args(arguments)
    if replay_args is not None:
        return _replay(replay_args)
    parser = _parser()
    args = parser.parse_args(arguments)
    if args.serve is None and (args.run_id is None or args.execution_id is None or args.task_dir is None):
        parser.error("--run-id, --execution-id and --task-dir are required (or --serve)")
    from spec.errors import LplError

    try:
        return _serve(args) if args.serve is not None else _launch(args)
    except (LplError, OSError) as exc:  # started by hand with what no driver wrote: one line, not a traceback
        print(f"error: python -m launcher: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _serve(args: argparse.Namespace) -> int:
    from launcher.forkserver import serve

    try:
        os.fstat(args.serve)
    except OSError:
        message = f"--serve {args.serve}: not an open file descriptor (the driver starts the server)"
        raise OSError(message) from None
    return serve(home=args.home, control_fd=args.serve, preload=tuple(args.preload))


def _launch(args: argparse.Namespace) -> int:
    from launcher.launch import launch
    from spec.contracts import TaskFiles

    try:
        TaskFiles.read(args.task_dir)  # what the driver wrote for the attempt, before anything is recorded
    except OSError as exc:
        raise OSError(f"--task-dir {args.task_dir}: no task written there ({exc.strerror})") from None
    return launch(
        home=args.home,
        run_id=args.run_id,
        execution_id=args.execution_id,
        task_dir=args.task_dir,
        attempt=args.attempt,
    )


def _exit_now(code: int) -> None:
    """Flush and leave without interpreter teardown: everything is written, and the driver (or the user)
    is waiting on this process's exit, so the tens of milliseconds of module cleanup are pure latency."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
