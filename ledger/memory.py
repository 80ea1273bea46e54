"""An in-memory ledger for tests: the same records, ids and folds as the JSON store, and no files."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from ledger import journal
from ledger.store import BatchBuilder, Ledger, RecordReader
from spec.errors import RunBusy


class MemoryLedger(Ledger):
    """A `Ledger` composed with a `MemoryStorage`; `RunLedger` works on it unchanged. Nothing is written to
    disk, not even under `home`; not shared between processes."""

    def __init__(self, home: Path = Path("/memory")) -> None:
        self.memory = MemoryStorage(home / "ledger")
        super().__init__(home, storage=self.memory)


class MemoryStorage:
    """`Storage` as lists of encoded lines: records go through the same JSON encoding as on disk, so a test
    sees what a reader of the files would (tuples become lists, keys become strings)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.journals: dict[Path, list[bytes]] = {}
        self._run_locks: set[str] = set()
        self._last_id = 0

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def hold_as_launcher(self, run_id: str) -> None:
        pass  # one process: no launcher outlives its driver here

    def hold_for_reading(self, run_id: str) -> bool:
        return True  # one process: nothing prunes meanwhile

    def wait_for_launchers(self, run_id: str, *, timeout: float) -> None:
        pass

    def lock_run(self, run_id: str, *, with_readers: bool = False) -> None:
        if run_id in self._run_locks:
            raise RunBusy(f"run {run_id!r} is still running (another driver holds it); stop it first")
        self._run_locks.add(run_id)

    def remove_run(self, run_id: str) -> None:
        self.journals.pop(self.root / "runs" / f"{run_id}.jsonl", None)
        self._run_locks.discard(run_id)

    def append_batch(self, build: BatchBuilder, *, ids: int) -> list[int]:
        now = time.time()
        allocated = list(range(self._last_id + 1, self._last_id + ids + 1))
        self._last_id += ids
        for path, records in build(allocated).items():
            self.journals.setdefault(path, []).extend(journal.encode({"time": now, **r}) for r in records)
        return allocated

    def read(self, path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.journals.get(path, [])]

    def exists(self, path: Path) -> bool:
        return path in self.journals

    def run_ids(self) -> set[str]:
        return {path.stem for path in self.journals if path.parent == self.root / "runs"}

    def reader(self, path: Path) -> RecordReader:
        return _MemoryReader(self.journals, path)


class _MemoryReader:
    """`JournalReader` over a list of lines: each read returns the lines added since the last one."""

    def __init__(self, journals: dict[Path, list[bytes]], path: Path) -> None:
        self._journals = journals
        self._path = path
        self._line = 0

    def read_numbered(self) -> list[tuple[int, dict[str, Any]]]:
        lines = self._journals.get(self._path, [])
        fresh = enumerate(lines[self._line :], start=self._line + 1)
        new = [(number, json.loads(raw)) for number, raw in fresh]
        self._line = len(lines)
        return new
