"""Append-only JSON Lines journals: one locked write and fsync per append, torn tails tolerated."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spec.errors import LedgerCorrupt, LedgerError


@contextmanager
def store_lock(lock_path: Path) -> Iterator[None]:
    """Hold the store-wide exclusive lock; every writer of every journal takes it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def append_locked(path: Path, records: list[dict[str, Any]]) -> None:
    """Append records as one write + fsync; the caller holds the store lock.

    A tail without a newline can only be a record whose writer died mid-write (writers hold the lock),
    so it is cut off before appending rather than glued to the next record.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _drop_torn_tail(fd)
        os.lseek(fd, 0, os.SEEK_END)
        data = b"".join(encode(record) for record in records)
        written = os.write(fd, data)
        if written != len(data):
            raise LedgerError(f"{path}: short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_torn_tail(fd: int) -> None:
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    cut = size
    while cut > 0:
        start = max(0, cut - 4096)
        chunk = os.pread(fd, cut - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        cut = start
    os.ftruncate(fd, 0)


class JournalReader:
    """Reads a journal incrementally: each `read_new` returns the complete records added since the last."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line = 0
        self._pending_bad: tuple[int, str] | None = None

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        records: list[dict[str, Any]] = []
        consumed = 0
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # in flight, or torn by a crash: read it when (if) it completes
            self._check_pending_bad()
            self.line += 1
            consumed += len(raw)
            record = self._decode(raw)
            if record is not None:
                records.append(record)
        self.offset += consumed
        return records

    def _decode(self, raw: bytes) -> dict[str, Any] | None:
        try:
            record = json.loads(raw)
        except ValueError as exc:
            # Only a bad *last* line may be a torn record; decide when we see whether more follows.
            self._pending_bad = (self.line, f"invalid JSON ({exc})")
            return None
        if not isinstance(record, dict) or "kind" not in record:
            raise LedgerCorrupt("record is not an object with a 'kind'", file=self.path, line=self.line)
        return record

    def _check_pending_bad(self) -> None:
        if self._pending_bad is not None:
            line, message = self._pending_bad
            raise LedgerCorrupt(message, file=self.path, line=line)


def read_all(path: Path) -> list[dict[str, Any]]:
    return JournalReader(path).read_new()


def read_last_line(path: Path) -> bytes | None:
    """The last complete line of a small counter file, without reading all of it."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256))
            tail = handle.read()
    except FileNotFoundError:
        return None
    lines = [line for line in tail.split(b"\n")[:-1] if line.strip()]
    return lines[-1] if lines else None
