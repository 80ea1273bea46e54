"""What the driver tells the user while a run goes: plain lines, or JSON events via structlog."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO


class Console:
    """Prints run and task events; `json` mode emits one structlog JSON object per event."""

    def __init__(self, *, log_format: str = "text", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.log_format = log_format
        self.color = (
            log_format == "text" and self.stream.isatty() and "NO_COLOR" not in os.environ
        )
        self._logger: Any = None
        if log_format == "json":
            import structlog

            structlog.configure(
                processors=[structlog.processors.TimeStamper(fmt="iso"), structlog.processors.JSONRenderer()],
                logger_factory=structlog.PrintLoggerFactory(self.stream),
            )
            self._logger = structlog.get_logger()

    def event(self, event: str, message: str, **fields: Any) -> None:
        if self._logger is not None:
            self._logger.info(event, **fields)
            return
        print(f"{self._paint(event, '[lpl]')} {message}", file=self.stream, flush=True)

    def _paint(self, event: str, text: str) -> str:
        if not self.color:
            return text
        code = {"task_failed": "31", "run_failed": "31", "task_cached": "36", "task_skipped": "33"}.get(event, "2")
        return f"\033[{code}m{text}\033[0m"

    def summary(self, rows: list[tuple[str, str, float | None, str]]) -> None:
        """A closing table: task, state, duration, key outputs."""
        if self._logger is not None:
            for task, state, duration, outputs in rows:
                self._logger.info("task_summary", task=task, state=state, duration=duration, outputs=outputs)
            return
        if not rows:
            return
        width = max(len(row[0]) for row in rows)
        for task, state, duration, outputs in rows:
            took = f"{duration:6.2f}s" if duration is not None else "      -"
            print(f"  {task:<{width}}  {state:<9} {took}  {outputs}"[:200], file=self.stream, flush=True)


def elapsed(start: float) -> float:
    return time.monotonic() - start
