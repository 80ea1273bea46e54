"""`python -m ledger [--home DIR] [--json] COMMAND`: runs, a run, an execution, a log, a diff, a report;
prune."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger import model, prune
from ledger.model import RunView, count_tasks
from ledger.store import DAMAGED, Ledger, RunSummary
from ledger.views import describe, render, report
from ledger.views.diff import diff_runs
from spec.errors import LedgerError, LplError, UsageError

EXIT_OK, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2
RUN_HELP = "run id, a unique prefix of one, or `last` (the newest run)"


def default_home() -> Path:
    """`$LPL_HOME`, else `./.lpl`: the same default as `python -m driver`."""
    return Path(os.environ.get("LPL_HOME", ".lpl"))


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a subcommand's parser from resetting what was given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, default=argparse.SUPPRESS,
                        help="the home holding the ledger (default $LPL_HOME or ./.lpl)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document (fields in docs/ledger.md)")
    return common


TASK_HELP = ("the task as the console names it (exit-handler-1/for-loop-2[1]/train), its tail, NAME[i],"
             " a task path, a unique task key, or an execution id")


def build_parser(prog: str = "python -m ledger") -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, parents=[common])
    parser.set_defaults(prog=prog)  # what a command's own stderr lines are prefixed with
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    runs = commands.add_parser("runs", parents=[common], help="runs, newest first")
    runs.add_argument("-n", "--limit", type=int, default=0, help="only the N newest runs")
    show = commands.add_parser("show", parents=[common], help="a run's tasks, one line each")
    show.add_argument("run", help=RUN_HELP)
    show.add_argument("--long", action="store_true",
                      help="every execution with its inputs, outputs, artifacts and log")
    execution = commands.add_parser("execution", aliases=["exec"], parents=[common],
                                    help="one execution in full, with its ExecutorInput")
    execution.add_argument("run", help=RUN_HELP)
    execution.add_argument("task", help=TASK_HELP)
    log = commands.add_parser("log", parents=[common], help="print a task's log")
    log.add_argument("run", help=RUN_HELP)
    log.add_argument("task", help=TASK_HELP)
    diff = commands.add_parser(
        "diff",
        parents=[common],
        help="tasks that differ between two runs",
        description="Tasks that differ between two runs (matched by label): state, inputs, outputs,"
        " artifacts.",
        epilog="exit status: 0 the runs do not differ, 1 they differ (as diff(1) and git diff --exit-code),"
        " 2 an error (no such run, a bad option)",
    )
    diff.add_argument("run_a", help=RUN_HELP)
    diff.add_argument("run_b", help=RUN_HELP)
    report.add_report_command(commands, parents=[common])
    _add_ui_command(commands, parents=[common])
    _add_prune_command(commands, parents=[common])
    return parser


def _add_prune_command(commands: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    prune_parser = commands.add_parser(
        "prune",
        parents=parents,
        help="remove old runs and unused environments, saying what that frees",
        description="Remove runs (their journal, task files and artifacts) and cached environments."
        " Runs: those beyond the --keep newest and older than --older-than (each when given)."
        " Environments (shared by every home): those not used for --envs-unused-for.",
        epilog="AGE is a number and a unit: 90s, 45m, 12h, 30d, 2w. A run a driver is running is kept.",
    )
    prune_parser.add_argument("--keep", type=int, metavar="N", help="keep the N newest runs")
    prune_parser.add_argument("--older-than", metavar="AGE", help="only runs created longer ago than AGE")
    prune_parser.add_argument("--envs-unused-for", metavar="AGE",
                              help="remove environments no task used for AGE (0s: all not being built)")
    prune_parser.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")


def _add_ui_command(commands: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    ui = commands.add_parser(
        "ui", parents=parents, help="serve a local web UI and the KFP REST API over the home",
        description="Serve the runs of one home in a browser: runs, a run's graph changing live, task panels,"
        " artifact views, compare (docs/ui.md); and the KFP v2beta1 REST API for kfp.Client"
        " (docs/kfp-api.md). Ctrl-C stops it.",
        epilog="exit status: 0 stopped with Ctrl-C, 2 the port is taken or the options are wrong")
    ui.add_argument("--host", default="127.0.0.1",
                    help="the address to listen on (default 127.0.0.1; any other is reachable by others)")
    ui.add_argument("--port", type=int, default=8765, help="the port (default 8765; 0: any free port)")
    ui.add_argument("--open", action="store_true", help="open the UI in a web browser")


def resolve_run(ledger: Ledger, ref: str) -> RunView:
    """A run by id, by a prefix that only one run id starts with, or `last`."""
    try:
        return ledger.open_run(ledger.resolve_run_id(ref)).view()
    except LedgerError as exc:
        raise UsageError(str(exc)) from exc


# Commands: each returns the JSON document, how to render it as text, and the exit status ---------------


Result = tuple[dict[str, Any], Callable[[dict[str, Any]], str], int]


def command_runs(ledger: Ledger, args: argparse.Namespace) -> Result:
    document, damages = runs_document(ledger, limit=args.limit)
    # Damage is named (one line per damaged part, on stderr, exit 2) and the rest of the store listed.
    for damage in damages:
        print(f"{args.prog}: {damage}", file=sys.stderr)
    status = EXIT_ERROR if damages else EXIT_OK
    return document, lambda document: render.render_runs(document["runs"]), status


def runs_document(ledger: Ledger, *, limit: int = 0,
                  view_of: Callable[[str], RunView] | None = None) -> tuple[dict[str, Any], list[str]]:
    """What `runs --json` prints (and the UI's `/api/runs` serves), and the damage found on the way.

    `view_of` reads an unfinished run (default: a fold from its journal's start); the UI passes the folds it
    keeps between requests, so a long run is not read again from its start every time the list is asked for.
    """
    summaries = sorted(ledger.list_runs(), key=lambda run: run.create_time, reverse=True)
    if limit > 0:
        summaries = summaries[:limit]
    read = view_of or (lambda run_id: ledger.open_run(run_id).view())
    counted = [_counted(summary, view_of=read) for summary in summaries]
    damages = [damage for damage in [ledger.index_damage, *(s.damage for s, _ in counted)] if damage]
    return {"runs": [describe.describe_run_summary(summary, counts) for summary, counts in counted]}, damages


def _counted(summary: RunSummary, *,
             view_of: Callable[[str], RunView]) -> tuple[RunSummary, dict[str, int]]:
    """Tasks by state as the index recorded them when the run finished; a run still going (or killed) is
    folded from its journal, and one whose journal is damaged is listed as DAMAGED."""
    if summary.task_counts is not None or summary.damage:
        return summary, summary.task_counts or {}
    try:
        return summary, count_tasks(view_of(summary.run_id))
    except LedgerError as exc:
        return dataclasses.replace(summary, state=DAMAGED, damage=str(exc)), {}


def command_show(ledger: Ledger, args: argparse.Namespace) -> Result:
    shown = render.render_show if args.long else render.render_show_compact
    return show_document(resolve_run(ledger, args.run)), shown, EXIT_OK


def show_document(view: RunView) -> dict[str, Any]:
    """What `show RUN --json` prints (and the UI's `/api/runs/{run}` serves)."""
    labels = model.label_executions(view)
    executions = [
        {**describe.describe_execution(view, execution, labels=labels), "depth": depth}
        for depth, execution in model.tree_order(view)
    ]
    return {"run": describe.describe_run(view), "executions": executions}


def command_execution(ledger: Ledger, args: argparse.Namespace) -> Result:
    view = resolve_run(ledger, args.run)
    labels = model.label_executions(view)
    execution = describe.find_execution(view, args.task, labels=labels)
    document = {"run_id": view.run_id, **describe.describe_execution(view, execution, labels=labels)}
    document |= describe.describe_executor_input(execution.task_dir)
    return document, render.render_execution, EXIT_OK


def command_log(ledger: Ledger, args: argparse.Namespace) -> Result:
    view = resolve_run(ledger, args.run)
    labels = model.label_executions(view)
    execution = describe.find_execution(view, args.task, labels=labels)
    log = model.log_path(execution, view.artifacts_of(execution.id, "OUTPUT"))
    if log is None:
        raise UsageError(f"task {labels[execution.id]!r} (execution {execution.id}, {execution.state})"
                         " has no log: only a launched process writes one")
    try:
        text = log.read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"log of task {labels[execution.id]!r} unreadable: {exc}") from exc
    document = {"run_id": view.run_id, "execution_id": execution.id, "task": labels[execution.id],
                "log": str(log), "text": text}
    return document, lambda document: str(document["text"]).removesuffix("\n"), EXIT_OK


def command_diff(ledger: Ledger, args: argparse.Namespace) -> Result:
    document = diff_runs(resolve_run(ledger, args.run_a), resolve_run(ledger, args.run_b))
    different = document["changed"] or document["only_in_a"] or document["only_in_b"]
    return document, render.render_diff, EXIT_DIFFERENT if different else EXIT_OK


def command_report(ledger: Ledger, args: argparse.Namespace) -> Result:
    view = resolve_run(ledger, args.run)
    path = report.write_view_report(view, report.report_path(args, view.run_id))
    return {"run_id": view.run_id, "report": str(path)}, _wrote_report, EXIT_OK


def _wrote_report(document: dict[str, Any]) -> str:
    return f"wrote {document['report']}"


COMMANDS: dict[str, Callable[[Ledger, argparse.Namespace], Result]] = {
    "runs": command_runs,
    "show": command_show,
    "execution": command_execution,
    "exec": command_execution,
    "log": command_log,
    "diff": command_diff,
    "report": command_report,
}


def command_prune(home: Path, args: argparse.Namespace) -> Result:
    options = prune.PruneOptions(
        keep=args.keep,
        older_than=prune.parse_age(args.older_than) if args.older_than else None,
        envs_unused_for=prune.parse_age(args.envs_unused_for) if args.envs_unused_for else None,
        dry_run=args.dry_run,
    )
    if options.keep is None and options.older_than is None and options.envs_unused_for is None:
        raise UsageError("prune: say what to remove: --keep N, --older-than AGE and/or --envs-unused-for AGE")
    if options.keep is not None and options.keep < 0:
        raise UsageError(f"prune: --keep must be 0 or more, not {options.keep}")
    # Environments can be pruned from a home where nothing ran: no store is created for that.
    ledger = Ledger(home, create=False) if Ledger.exists_in(home) else None
    result = prune.prune(ledger, options)
    return result.to_json(dry_run=options.dry_run), prune.render_prune, EXIT_OK


def main(argv: list[str] | None = None, *, prog: str = "python -m ledger") -> int:
    """`python -m ledger`, or `lpl COMMAND` (`prog` names the command in usage and error lines)."""
    args = build_parser(prog).parse_args(argv)
    home: Path = getattr(args, "home", None) or default_home()
    try:
        if args.command == "ui":
            from ledger.ui.server import serve  # here: the web stack is imported only to serve

            return serve(home, host=args.host, port=args.port, open_browser=args.open)
        if args.command == "prune":
            document, render_text, status = command_prune(home, args)
        else:
            ledger = Ledger(home, create=False)
            document, render_text, status = COMMANDS[args.command](ledger, args)
    except LplError as exc:  # LedgerCorrupt's message names the file and line
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # `report -o` into a directory or a read-only place, an unreadable file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    _print(_as_json(document) if getattr(args, "json", False) else render_text(document))
    return status


def _as_json(document: dict[str, Any]) -> str:
    # Indented for a person at a terminal; one line otherwise, which json's C encoder writes ~20x faster.
    indent = 2 if sys.stdout.isatty() else None
    return json.dumps(document, indent=indent, ensure_ascii=False)


def _print(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
