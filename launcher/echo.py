"""Which lines of a component's output reach the console: the task log gets every line, the user their own.

Every runner streams a task attempt's combined output through one `OutputStream`, so the console rules are the
same wherever the component runs. The KFP SDK's executor (`kfp.dsl.executor_main`) logs its own bookkeeping on
the component's stdout: where it found the component, the whole `ExecutorInput` as indented JSON (about 40
lines per task) and where it wrote its output file. That is noise on a console and stays in the log; the
user's own prints and log records (even those the executor's logging format prefixes) pass.
"""

from __future__ import annotations

import re
from typing import BinaryIO

# Console modes, as the driver's `--quiet` / default / `--verbose` choose them (the task file's `console`).
QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"
CONSOLE_MODES = (QUIET, NORMAL, VERBOSE)

_EXECUTOR_RECORD = re.compile(rb"^\[KFP Executor [^\]]* INFO\]: (?P<message>.*)$")
# The executor's own INFO messages (kfp/dsl/executor_main.py), by their fixed openings.
_EXECUTOR_MESSAGES = (
    b"Looking for component `",
    b"Loading KFP component ",
    b"Got executor_input:",
    b"Wrote executor output file to ",
    b"Did not write output file.",
)
_INPUT_DUMP_OPENING = b"Got executor_input:"


class ExecutorNoise:
    """Recognises the KFP executor's boilerplate line by line (its `ExecutorInput` dump spans many lines)."""

    def __init__(self) -> None:
        self._in_dump = False
        self._dump_expected = False

    def is_noise(self, line: bytes) -> bool:
        text = line.rstrip(b"\r\n")
        if (self._dump_expected or self._in_dump) and self._continues_dump(text):
            return True
        match = _EXECUTOR_RECORD.match(text)
        if match is None:
            return False
        message = match.group("message")
        self._dump_expected = message.startswith(_INPUT_DUMP_OPENING)
        return message.startswith(_EXECUTOR_MESSAGES)

    def _continues_dump(self, text: bytes) -> bool:
        # `json.dumps(indent=4)`: "{" opens it, only its closing "}" is in the first column.
        if self._dump_expected:
            self._dump_expected = False
            self._in_dump = text == b"{"
            return self._in_dump
        if text == b"}":
            self._in_dump = False
            return True
        if text.startswith(b" "):
            return True
        self._in_dump = False  # not the dump's shape after all: show it
        return False


class OutputStream:
    """One task attempt's output: every line to the log, the lines the console mode allows to `console`."""

    def __init__(self, *, log: BinaryIO, console: BinaryIO, label: str, mode: str = NORMAL) -> None:
        self.log = log
        self.console = console
        self.prefix = f"[{label}] ".encode()
        self.mode = mode
        self._noise = ExecutorNoise()

    def write_line(self, line: bytes) -> None:
        self.log.write(line)
        self.log.flush()  # each line reaches the file as it comes: `ledger ui` follows a running task's log
        noise = self._noise.is_noise(line)
        if self.mode == QUIET or (noise and self.mode != VERBOSE):
            return
        self.console.write(self.prefix + line if line.endswith(b"\n") else self.prefix + line + b"\n")
        self.console.flush()

    def close(self) -> None:
        self.log.flush()
