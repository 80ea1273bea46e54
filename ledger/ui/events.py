"""Server-sent events: a run's execution state changes and the run index's changes, found by polling files."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ledger import model
from ledger.model import RunView
from ledger.store import RUNS_INDEX, Ledger
from spec.errors import LedgerError

# One stat per poll; records are read, from where the last read stopped, only when the file changed.
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0
Event = tuple[str, dict[str, Any]]


def sse(event: str, data: dict[str, Any]) -> str:
    """One event in the `text/event-stream` format."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class RunFollower:
    """Folds one run's journal record by record from where it last read, naming each execution's state
    change and the run's; a journal that does not exist yet (a run about to be created) is waited for."""

    def __init__(self, ledger: Ledger, run_id: str) -> None:
        self.run_id = run_id
        self.path = ledger.run_path(run_id)
        self._reader = ledger.storage.reader(self.path)
        self._view = RunView(run_id=run_id)
        self._stamp: tuple[int, int] | None = None

    def poll(self, *, announce: bool = True) -> list[Event]:
        """The events of the records added since the last poll (none when `announce` is false: what was
        recorded before a client connected is not news); LedgerError on a record that does not fit."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return []
        self._stamp = stamp
        events: list[Event] = []
        for line, record in self._reader.read_numbered():
            before = self._state_before(record)
            try:
                self._view.apply(record)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                reason = f"{self.path}, line {line}: the record does not fit the run ({exc!r})"
                raise LedgerError(reason) from exc
            events += self._change(record, before=before)
        if not announce or not events:
            return []
        labels = model.label_executions(self._view)
        for kind, data in events:
            if kind == "execution":
                data["task"] = labels.get(int(data["execution_id"]), "")
        return events

    def _state_before(self, record: dict[str, Any]) -> str | None:
        if record.get("kind") == "execution_update":
            execution = self._view.executions.get(int(record.get("id", -1)))
            return execution.state if execution else None
        return self._view.state if record.get("kind") == "run_update" else None

    def _change(self, record: dict[str, Any], *, before: str | None) -> list[Event]:
        kind = record.get("kind")
        if kind in ("execution", "execution_update") and "state" in record and record["state"] != before:
            execution = self._view.executions[int(record["id"])]
            return [("execution", {"run_id": self.run_id, "execution_id": execution.id,
                                   "kind": model.kind_of(execution), "state": execution.state})]
        if kind == "run_update" and record.get("state") != before:
            return [("run", {"run_id": self.run_id, "state": record.get("state")})]
        return []


async def run_events(ledger: Ledger, run_id: str, *, stopping: threading.Event,
                     interval: float = POLL_SECONDS) -> AsyncIterator[str]:
    """A run's state changes from now on, as server-sent events, until the client goes away."""
    follower = RunFollower(ledger, run_id)
    try:
        follower.poll(announce=False)
    except LedgerError as exc:
        yield sse("damaged", {"run_id": run_id, "error": str(exc)})
        return
    yield "retry: 1000\n: following the run's journal\n\n"
    async for _ in _ticks(interval, stopping=stopping):
        try:
            events = follower.poll()
        except LedgerError as exc:
            yield sse("damaged", {"run_id": run_id, "error": str(exc)})
            return
        for kind, data in events:
            yield sse(kind, data)
        if not events:
            yield ""  # nothing; `_ticks` decides when a heartbeat comment goes out


async def runs_events(ledger: Ledger, *, stopping: threading.Event,
                      interval: float = POLL_SECONDS) -> AsyncIterator[str]:
    """An event whenever the run index or the set of run journals changes: a run started, ended or went."""
    paths = [ledger.root / RUNS_INDEX, ledger.root / "runs"]
    stamps = [_stamp(path) for path in paths]
    yield "retry: 1000\n: following the run index\n\n"
    async for _ in _ticks(interval, stopping=stopping):
        now = [_stamp(path) for path in paths]
        if now != stamps:
            stamps = now
            yield sse("runs", {"changed": True})
        else:
            yield ""


async def _ticks(interval: float, *, stopping: threading.Event) -> AsyncIterator[None]:
    """Every `interval` seconds until the server stops (or the client goes: then the generator is closed)."""
    while not stopping.is_set():
        await asyncio.sleep(interval)
        yield None


async def with_heartbeat(stream: AsyncIterator[str], *,
                         every: float = HEARTBEAT_SECONDS) -> AsyncIterator[str]:
    """The stream's events, with a comment line when it was quiet for `every` seconds (so a proxy or a
    client notices a dead connection); empty strings from the stream mean "nothing now"."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    async for chunk in stream:
        if chunk:
            last = loop.time()
            yield chunk
        elif loop.time() - last >= every:
            last = loop.time()
            yield ": still here\n\n"
