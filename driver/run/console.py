"""What the driver tells the user while a run goes: plain lines, a live status line, or structlog JSON."""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ledger import model
from ledger.model import DAG_EXECUTION, FAILED, Execution, RunView, is_current
from ledger.views.commands import explain_options
from spec.ir import pipeline_spec_pb2
from spec.outline import DAG, LOOP, OutlineTask

SummaryRow = tuple[str, str, float | None, str]
Paint = Callable[[str, str], str]

# SGR colour codes per event and per state; plain text when colour is off.
_EVENT_COLORS = {
    "task_failed": "31", "run_failed": "1;31", "task_cached": "36", "task_skipped": "33", "task_retry": "33",
    "warning": "33", "task_finished": "32", "run_finished": "1;32", "run_interrupted": "1;33",
}
_STATE_COLORS = {"COMPLETE": "32", "FAILED": "31", "CACHED": "36", "CANCELED": "2", "RUNNING": "33"}
_DONE_EVENTS = frozenset({"task_finished", "task_failed", "task_cached", "task_skipped", "task_resumed"})
# What `--quiet` still prints: what went wrong, and how the run ended.
_QUIET_EVENTS = frozenset({"warning", "task_failed", "run_failed", "run_finished", "run_interrupted"})
# The launcher's console modes (launcher/echo.py) carry the same names.
VERBOSITIES = ("quiet", "normal", "verbose")
_LOG_TAIL_LINES = 12
_MAX_FAILURES_SHOWN = 3


def wants_color(stream: TextIO) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    return _is_tty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class Progress:
    """Counts taken from task events: what the live status line shows."""

    total: int = 0
    exact: bool = True
    done: int = 0
    cached: int = 0
    skipped: int = 0
    failed: int = 0
    retries: int = 0
    running: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def observe(self, event: str, task: str | None) -> None:
        if event == "task_started" and task:
            self.running[task] += 1
        elif event in _DONE_EVENTS or event == "task_retry":
            if task and self.running[task] > 0:
                self.running[task] -= 1
            self.running += Counter()  # drops zero counts
        if event in _DONE_EVENTS:
            self.done += 1
        self.cached += event == "task_cached"
        self.skipped += event == "task_skipped"
        self.failed += event == "task_failed"
        self.retries += event == "task_retry"

    def render(self) -> str:
        total = max(self.total, self.done + sum(self.running.values()))
        parts = [f"{self.done}/{'' if self.exact else '~'}{total} done" if total else f"{self.done} done"]
        if self.running:
            names = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in self.running.items())
            parts.append(f"running {sum(self.running.values())}: {names}")
        parts += [f"{n} {what}" for n, what in ((self.cached, "cached"), (self.skipped, "skipped"),
                                                (self.retries, "retries"), (self.failed, "failed")) if n]
        parts.append(f"{time.monotonic() - self.started:.0f}s")
        return "[lpl] " + " · ".join(parts)


class StatusLine:
    """A line pinned to the bottom row of the terminal, below a scroll region that holds all other output.

    Launchers write to the same terminal without going through us, so the line is not redrawn with `\\r`
    (their output would land on it); like apt's progress bar, the rows above it scroll and it stays put.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.rows = 0
        atexit.register(self.close)

    def draw(self, text: str) -> None:
        columns, rows = shutil.get_terminal_size()
        if rows < 3:
            return
        prefix = self._reserve(rows) if rows != self.rows else ""
        line = text[: max(1, columns - 1)]
        self._write(f"{prefix}\0337\033[{rows};1H\033[2K\033[7m{line}\033[0m\0338")

    def _reserve(self, rows: int) -> str:
        # Down and up again scrolls the screen when the cursor is on the bottom row, so the cursor is inside
        # the region before it is set (setting it homes the cursor; save and restore bring it back).
        self.rows = rows
        return f"\n\033[1A\0337\033[1;{rows - 1}r\0338"

    def close(self) -> None:
        if self.rows:
            self._write(f"\0337\033[r\033[{self.rows};1H\033[2K\0338")
            self.rows = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.rows = 0  # the terminal went away; nothing left to restore


class Console:
    """Prints run and task events; `json` mode emits one structlog JSON object per event.

    On a terminal (`status_stream`, stderr by default) a status line shows done/total, what runs, cache hits,
    skips and retries; `set_total` gives the expected number of tasks. `verbosity` "quiet" keeps only
    warnings, failures and the run's outcome (no table); components' output follows it in the launcher.
    """

    def __init__(self, *, log_format: str = "text", stream: TextIO | None = None,
                 status_stream: TextIO | None = None, color: bool | None = None,
                 live: bool | None = None, verbosity: str = "normal") -> None:
        self.stream = stream or sys.stdout
        self.log_format = log_format
        self.verbosity = verbosity
        self.color = log_format == "text" and (wants_color(self.stream) if color is None else color)
        status = status_stream or sys.stderr
        if live is None:
            live = _is_tty(status) and os.environ.get("TERM") != "dumb" and verbosity != "quiet"
        self.status = StatusLine(status) if log_format == "text" and live else None
        self.progress = Progress()
        self._logger: Any = None
        if log_format == "json":
            import structlog

            self._logger = structlog.wrap_logger(
                structlog.WriteLogger(self.stream),
                processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                            structlog.processors.JSONRenderer()],
            )

    def set_total(self, total: int, *, exact: bool = True) -> None:
        """The number of tasks the run is expected to execute (an estimate when `exact` is false)."""
        self.progress.total, self.progress.exact = total, exact

    def event(self, event: str, message: str, **fields: Any) -> None:
        task = fields.get("task")
        self.progress.observe(event, str(task) if task is not None else None)
        if self._logger is not None:
            level = "warning" if event in ("warning", "task_failed", "run_failed") else "info"
            getattr(self._logger, level)(event, message=message, **fields)
            return
        if self.verbosity == "quiet" and event not in _QUIET_EVENTS:
            return
        tag = self._paint(_EVENT_COLORS.get(event, "2"), "[lpl]")
        self._line(f"{tag} {message}")
        if self.status is not None:
            if event in ("run_finished", "run_failed"):
                self.status.close()
            else:
                self.status.draw(self.progress.render())

    def summary(self, rows: list[SummaryRow]) -> None:
        """A closing table: task, state, duration, key outputs."""
        if self._logger is not None:
            for task, state, duration, outputs in rows:
                self._logger.info("task_summary", task=task, state=state, duration=duration, outputs=outputs)
            return
        if self.verbosity == "quiet":
            return
        if self.status is not None:
            self.status.close()
        for line in summary_table(rows, paint=self._paint):
            self._line(line)

    def close(self) -> None:
        """Give the terminal its last row back (also done at exit)."""
        if self.status is not None:
            self.status.close()

    def _line(self, text: str) -> None:
        # One write per line: launchers write to the same stream, and with PYTHONUNBUFFERED `print` sends the
        # text and its newline as two writes, between which a launcher's line could land.
        self.stream.write(text + "\n")
        self.stream.flush()

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color and code else text


def count_tasks(tasks: tuple[OutlineTask, ...]) -> tuple[int, bool]:
    """Container and importer tasks the run will execute (of the pipeline's `spec.outline.outline`), and
    whether that is exact (no conditions and no loop over a runtime value) or an estimate."""
    total, exact = 0, True
    for task in tasks:
        count, body_exact = count_tasks(task.body) if task.kind in (DAG, LOOP) else (1, True)
        times, times_exact = _iterations(task.spec)
        total += count * times
        exact = exact and body_exact and times_exact and not task.spec.trigger_policy.condition
    return total, exact


def _iterations(task: pipeline_spec_pb2.PipelineTaskSpec) -> tuple[int, bool]:
    if not task.HasField("parameter_iterator"):
        return (1, not task.HasField("artifact_iterator"))
    try:
        items = json.loads(task.parameter_iterator.items.raw) if task.parameter_iterator.items.raw else None
    except ValueError:
        items = None
    return (len(items), True) if isinstance(items, list) else (1, False)


def summary_table(rows: list[SummaryRow], *, paint: Paint | None = None, width: int = 160) -> list[str]:
    """The summary as aligned text lines; `paint(code, text)` colours the state column."""
    if not rows:
        return []
    header: SummaryRow = ("TASK", "STATE", None, "OUTPUTS")
    name_width = max(len(row[0]) for row in [header, *rows])
    lines = [f"  {'TASK':<{name_width}}  {'STATE':<9} {'DURATION':>8}  OUTPUTS"]
    for task, state, duration, outputs in rows:
        took = f"{duration:7.2f}s" if duration is not None else f"{'-':>8}"
        shown = f"{state:<9}"
        if paint is not None:
            shown = paint(_STATE_COLORS.get(state, ""), shown)
        budget = max(10, width - name_width - 24)
        lines.append(f"  {task:<{name_width}}  {shown} {took}  {_clip(outputs, budget)}".rstrip())
    return lines


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_rows(view: RunView) -> list[SummaryRow]:
    """One row per container or importer task of the run, in the order they were recorded: the current
    execution of each (not the ones a resume superseded, nor replays); a skipped task or group says why."""
    labels = model.label_executions(view)
    rows: list[SummaryRow] = []
    for execution in sorted(view.executions.values(), key=lambda e: e.id):
        skipped_group = execution.type == DAG_EXECUTION and execution.state_reason
        if (execution.type == DAG_EXECUTION and not skipped_group) or not is_current(execution):
            continue
        outputs = ", ".join(f"{k}={v!r}" for k, v in execution.outputs.items())
        reason = execution.state_reason
        outputs = outputs or (f"({reason})" if reason else "")
        duration = model.span(*model.execution_times(execution))
        rows.append((labels[execution.id], execution.state, duration, outputs))
    return rows


def failure_report(view: RunView, pipeline_source: str, *, home: Path | None = None) -> list[str]:
    """For each failed task: its error, the tail of its log, where the full log is, how to explain it.

    `home` is the run's home when the user chose one (the explain command must find the run there).
    """
    failed = [e for e in sorted(view.executions.values(), key=lambda e: e.id)
              if e.state == FAILED and e.type != DAG_EXECUTION and is_current(e)]
    source = pipeline_source or view.header.source or "PIPELINE"
    labels = model.label_executions(view)
    rerun = explain_options(view, home=home)
    lines: list[str] = []
    for execution in failed[:_MAX_FAILURES_SHOWN]:
        lines += _failure_lines(execution, label=labels[execution.id], explain=f"{source} --explain"
                                f" --task {shlex.quote(labels[execution.id])}{rerun}")
    if len(failed) > _MAX_FAILURES_SHOWN:
        lines.append(f"… and {len(failed) - _MAX_FAILURES_SHOWN} more failed tasks:"
                     f" python -m ledger show {view.run_id}")
    return lines


def _failure_lines(execution: Execution, *, label: str, explain: str) -> list[str]:
    lines = [f"failed task: {label}: {execution.error or 'no error recorded'}"]
    log = execution.log
    tail = read_log_tail(Path(log), lines=_LOG_TAIL_LINES) if log else []
    if tail:
        lines.append(f"  last {len(tail)} lines of its log:")
        lines += [f"    | {line}" for line in tail]
    if log:
        lines.append(f"  full log: {log}")
    lines.append(f"  explain:  python -m driver {explain}")
    return lines


def read_log_tail(path: Path, *, lines: int, max_bytes: int = 64_000) -> list[str]:
    """The last `lines` lines of a log file (reading at most `max_bytes` from its end); [] if unreadable."""
    try:
        text, _ = model.read_log_end(path, max_bytes=max_bytes)
    except OSError:
        return []
    text = text.rstrip("\n")
    return text.splitlines()[-lines:] if text else []
