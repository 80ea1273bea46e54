"""`python -m driver PIPELINE [options]`: run a compiled KFP v2 pipeline on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driver.run.server_process import ServerProcess
    from spec.runner_choice import RunnerChoice

# Our own modules are imported by every driver and launcher process: keep their bytecode even where
# PYTHONDONTWRITEBYTECODE is set, or each process compiles them from source again (~30 ms).
sys.dont_write_bytecode = False

# `python -m` puts the working directory first on sys.path, where a user's own `spec.py` would shadow our
# packages: drop it before importing them, unless our packages live there (a checkout run in place).
if sys.path and sys.path[0] == os.getcwd() != os.path.dirname(os.path.dirname(os.path.abspath(__file__))):
    del sys.path[0]


def default_home() -> Path:
    return Path(os.environ.get("LPL_HOME", ".lpl"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m driver", description=__doc__)
    _add_input_options(parser.add_argument_group("the pipeline and its inputs"))
    _add_run_options(parser.add_argument_group("the run"))
    _add_runner_options(parser.add_argument_group("where tasks run"))
    parser.set_defaults(caller_pid=None)  # not an option: `main` takes it from run_pipeline's variable
    _add_console_options(parser.add_argument_group("the console"))
    _add_explain_options(parser.add_argument_group("explain (run nothing)"))
    return parser


def _add_input_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "pipeline", nargs="?", type=Path,
        help="a .json/.yaml/.yml file written by kfp.compiler, or a DSL file FILE.py[:FUNCTION] to compile"
    )
    group.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a root input parameter, parsed by its declared type (repeatable)",
    )
    group.add_argument("--params-file", type=Path, help="a JSON object of root parameters")
    group.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="the local source of Kubernetes secret NAME: a directory with one file per key, or an env"
        " file of KEY=VALUE lines (repeatable)",
    )
    group.add_argument(
        "--config-map",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="the local source of Kubernetes config map NAME, as for --secret (repeatable)",
    )
    group.add_argument(
        "--mount",
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help="map a remote URI prefix (gs://bucket, s3://bucket, minio://bucket) to a local dir",
    )


def _add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--home", type=Path, default=default_home(), help="ledger and default pipeline root")
    group.add_argument("--pipeline-root", type=Path, help="where artifacts go (default <home>/pipeline_root)")
    group.add_argument("--run-id", help="name the run (default: a fresh UUID)")
    group.add_argument(
        "--run-name",
        help="the run's display name, {{$.pipeline_job_name}} (default: '<pipeline name> <date time>')",
    )
    group.add_argument("--no-cache", action="store_true", help="disable cache lookups for this run")
    group.add_argument(
        "--parallelism",
        type=int,
        help="at most N task attempts at once, loops included (default: a loop's own parallelism limit"
        " is honoured; other work runs one attempt per CPU, and up to 16 while a CPU is idle; see the"
        " README)",
    )
    group.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="continue a failed or interrupted run (id, unique prefix or `last`)",
    )
    group.add_argument("--workspace", type=Path, help="the run's workspace directory (kept after the run)")


def _add_runner_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--runner",
        metavar="NAME",
        help="where task attempts run: host (default: this machine), docker (each task in its image) or"
        " ray (each attempt a task on a Ray cluster)",
    )
    group.add_argument(
        "--ray-address",
        metavar="ADDR",
        default="",
        help="the Ray cluster for --runner ray (default: Ray's own resolution: $RAY_ADDRESS, else the"
        " cluster `ray start` began on this machine)",
    )
    group.add_argument(
        "--runner-for",
        action="append",
        default=[],
        metavar="PATTERN=NAME",
        help="send the tasks whose key, path or image matches the glob PATTERN to runner NAME"
        " (repeatable; the first match wins, then --runner)",
    )
    group.add_argument(
        "--docker-network",
        choices=("none", "host"),
        help="the network of --runner docker containers (default none: no network)",
    )
    starts = group.add_mutually_exclusive_group()
    starts.add_argument(
        "--cold-start",
        action="store_true",
        help="start every component as a fresh process (also with LPL_COLD_START=1; default: a lightweight"
        " Python component is forked from a warm interpreter of its environment; docs/architecture.md)",
    )
    starts.add_argument(
        "--warm-start",
        action="store_true",
        help="the default, said explicitly: fork lightweight Python components from a warm interpreter",
    )
    group.add_argument(
        "--ignore-accelerators",
        action="store_true",
        help="run tasks that request GPUs without them (default: such a task fails when none is available)",
    )
    group.add_argument(
        "--kfp-package",
        metavar="SPEC",
        help="install this instead of the kfp version a lightweight component pins (a path to an SDK"
        " checkout or wheel, or a requirement), as the backend's CI does with KFP_PACKAGE_PATH",
    )


def _add_console_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--log-format", choices=("text", "json"), default="text")
    noise = group.add_mutually_exclusive_group()
    noise.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const="quiet",
        dest="verbosity",
        help="print only warnings, failures and the run's outcome (components' output stays in their logs)",
    )
    noise.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const="verbose",
        dest="verbosity",
        help="also print the KFP executor's own lines (its ExecutorInput dump), which by default only the"
        " task logs hold",
    )
    group.add_argument("--debug", action="store_true", help="show tracebacks for errors")


def _add_explain_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--explain",
        action="store_true",
        help="show what each task would receive (ExecutorInput, command, environment,"
        " condition, cache fingerprint); run nothing, record nothing",
    )
    group.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="KEY",
        help="with --explain: only this task (key, path or path[i]; repeatable)",
    )
    group.add_argument(
        "--from-run",
        metavar="RUN_ID",
        help="with --explain: take upstream values from this recorded run (id, unique prefix or `last`)",
    )
    group.add_argument("--json", action="store_true", help="with --explain: print one JSON document")


def _mounts(items: list[str]) -> dict[str, str]:
    from spec.errors import OptionError

    mounts: dict[str, str] = {}
    for item in items:
        prefix, sep, directory = item.rpartition("=")
        if not sep or "://" not in prefix or not directory:
            raise OptionError(f"--mount {item!r}: expected PREFIX=DIR, e.g. gs://bucket=/data/bucket")
        mounts[prefix] = str(Path(directory).resolve())
    return mounts


def _local_sources(items: list[str], *, option: str) -> dict[str, str]:
    from spec.errors import OptionError
    from spec.sources import MAX_SOURCE_BYTES, check_source

    sources: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise OptionError(f"{option} {item!r}: expected NAME=PATH, e.g. {option} db-creds=./secrets/db")
        try:
            check_source(Path(path), limit=MAX_SOURCE_BYTES)
        except FileNotFoundError:
            raise OptionError(f"{option} {item!r}: {path} does not exist") from None
        except OSError as exc:
            raise OptionError(f"{option} {item!r}: {exc.filename} {exc.strerror}") from None
        sources[name] = str(Path(path).resolve())
    return sources


def _kfp_package(spec: str | None) -> str:
    """A path is made absolute (the launcher installs from another directory); a requirement is kept."""
    if not spec:
        return ""
    path = Path(spec)
    return str(path.resolve()) if path.exists() else spec


def _runner_choice(args: argparse.Namespace) -> RunnerChoice | None:
    """--runner and --runner-for, or None when neither is given (a resume keeps the run's choice). Ray asked
    for but not installed is refused here, before anything runs."""
    import importlib.util

    from spec.runner_choice import parse_runner_choice

    if args.runner is None and not args.runner_for:
        if args.ray_address and not args.resume:
            from spec.errors import OptionError

            raise OptionError("--ray-address goes with --runner ray (or --runner-for PATTERN=ray)")
        return None
    choice = parse_runner_choice(args.runner, args.runner_for)
    if "ray" in choice.names and importlib.util.find_spec("ray") is None:
        from spec.errors import OptionError

        raise OptionError(
            "--runner ray needs Ray, which is not installed: pip install 'local-pipelines[ray]'"
        )
    if args.ray_address and "ray" not in choice.names:
        from spec.errors import OptionError

        raise OptionError("--ray-address goes with --runner ray (or --runner-for PATTERN=ray)")
    return choice


COLD_START_VARIABLE = "LPL_COLD_START"


def _runner_options(args: argparse.Namespace) -> dict[str, Any]:
    from spec.runner_choice import runner_options

    return runner_options(
        ignore_accelerators=args.ignore_accelerators,
        docker_network=args.docker_network,
        ray_address=args.ray_address,
        # LPL_COLD_START=1 makes --cold-start the default (--warm-start still wins): a whole test suite, or
        # a shell, can run every component as a fresh process without editing its commands.
        cold_start=args.cold_start or (os.environ.get(COLD_START_VARIABLE) == "1" and not args.warm_start),
    )


def _explain(args: argparse.Namespace) -> int:
    from driver.explain.explain import ExplainOptions, explain
    from spec.errors import OptionError

    if not args.explain:
        raise OptionError("--task, --from-run and --json go with --explain")
    if args.resume:
        raise OptionError("--explain does not take --resume; use --from-run RUN_ID to fill upstream values")
    return explain(
        ExplainOptions(
            pipeline=args.pipeline,
            home=args.home,
            params=args.param,
            params_file=args.params_file,
            pipeline_root=args.pipeline_root,
            workspace=args.workspace,
            mounts=_mounts(args.mount),
            cache=not args.no_cache,
            tasks=args.task,
            from_run=args.from_run,
            as_json=args.json,
            kfp_package=_kfp_package(args.kfp_package),
            runner=_runner_choice(args),
            runner_options=_runner_options(args),
        )
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from driver.entry import CALLER_VARIABLE

    # Taken out before any process is started, so that no launcher or component inherits it.
    caller = os.environ.pop(CALLER_VARIABLE, "")
    args.caller_pid = int(caller) if caller.isdigit() else None
    explaining = args.explain or args.task or args.from_run or args.json
    early = None
    if not explaining and (args.pipeline is not None or args.resume):
        # Start the launcher fork server now, before importing anything heavy: its start-up overlaps with
        # the driver's imports and checks. (Forking it from this process after the imports would save it
        # CPU, but the driver would then run the launcher's code: they meet only through files.)
        from driver.run.server_process import ServerProcess

        try:
            early = ServerProcess.start(args.home.resolve(), runners=_runners_named(args))
        except OSError as exc:  # no process or pipe left on this machine: nothing has been recorded
            print(f"error: cannot start the launcher fork server: {exc.strerror or exc}", file=sys.stderr)
            return 2
    try:
        return _main(args, early=early)
    finally:
        if early is not None:
            early.dismiss()


def _runners_named(args: argparse.Namespace) -> set[str]:
    """The runners `--runner` and `--runner-for PATTERN=RUNNER` name (checked later, with the rest)."""
    named = {rule.rpartition("=")[2].strip() for rule in args.runner_for or []}
    return named | ({args.runner} if args.runner else set())


def _main(args: argparse.Namespace, *, early: ServerProcess | None) -> int:
    from driver.run.run import EXIT_USAGE, RunOptions, execute
    from spec.dsl_file import is_dsl_file
    from spec.errors import LplError, SpecErrors

    try:
        if args.parallelism is not None and args.parallelism < 1:
            from spec.errors import OptionError

            raise OptionError(f"--parallelism must be at least 1, not {args.parallelism}")
        if args.pipeline is not None and is_dsl_file(args.pipeline):
            from spec.dsl_file import DslFileError, compile_dsl_file
            from spec.errors import OptionError

            try:
                args.pipeline = compile_dsl_file(args.pipeline, directory=args.home.resolve() / "pipelines")
            except DslFileError as exc:
                raise OptionError(str(exc)) from None
        if early is None and (args.explain or args.task or args.from_run or args.json):
            return _explain(args)
        options = RunOptions(
            pipeline=args.pipeline,
            home=args.home,
            params=args.param,
            params_file=args.params_file,
            pipeline_root=args.pipeline_root,
            run_id=args.run_id,
            run_name=args.run_name,
            secrets=_local_sources(args.secret, option="--secret"),
            config_maps=_local_sources(args.config_map, option="--config-map"),
            kfp_package=_kfp_package(args.kfp_package),
            cache=not args.no_cache,
            parallelism=args.parallelism,
            resume=args.resume,
            mounts=_mounts(args.mount),
            workspace=args.workspace,
            log_format=args.log_format,
            verbosity=args.verbosity or "normal",
            runner=_runner_choice(args),
            runner_options=_runner_options(args),
            caller_pid=args.caller_pid,
        )
        return execute(options, early=early)
    except SpecErrors as exc:
        for problem in exc.problems:
            print(f"error: {_one_line(problem.render())}", file=sys.stderr)
        return EXIT_USAGE
    except LplError as exc:
        # Anything of ours raised before tasks run is about the input, the options or the store.
        if args.debug:
            raise
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(text: str) -> str:
    """An error is one line even when it quotes a name holding line breaks (a hostile spec key)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _exit_now(code: int) -> None:
    """Flush and leave without interpreter teardown: everything is written, and the driver (or the user)
    is waiting on this process's exit, so the tens of milliseconds of module cleanup are pure latency."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
