"""Append-only JSON Lines journals: one locked write and fsync per append, damaged tails tolerated."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spec.errors import LedgerCorrupt, LedgerError

_CHUNK = 65536


@contextmanager
def store_lock(lock_path: Path) -> Iterator[None]:
    """Hold the store-wide exclusive lock; every writer of every journal takes it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def try_lock(fd: int) -> bool:
    """Take an exclusive flock on `fd` without waiting; False when another open file holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def decode(raw: bytes) -> dict[str, Any] | None:
    """A journal line as a record, or None when it is not one (bad JSON, or not an object with a kind)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "kind" in record else None


def _decode_all(lines: list[bytes]) -> list[dict[str, Any]] | None:
    """All lines as records in one parse (twice as fast as line by line), or None if any is not one."""
    try:
        records: list[dict[str, Any]] = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return None
    # A damaged line can still parse as part of the array (`1, 2`); one record per line, or none.
    if len(records) != len(lines) or not all(isinstance(r, dict) and "kind" in r for r in records):
        return None
    return records


def append_locked(path: Path, records: list[dict[str, Any]]) -> None:
    """Append records as one write + fsync; the caller holds the store lock.

    Writers hold the lock, so a damaged tail can only be a record whose writer died mid-write (no
    newline) or a last line the disk lost: it is cut off (and kept in `<path>.damaged`) rather than
    buried under the next record, which would turn a tolerated tail into damage in the middle.
    """
    if not all("kind" in record for record in records):
        raise ValueError("every journal record needs a 'kind'; a line without one reads as damage")
    created = not path.exists()
    if created:
        _make_parents(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _drop_damaged_tail(fd, path)
        end = os.lseek(fd, 0, os.SEEK_END)
        data = b"".join(encode(record) for record in records)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise LedgerError(f"{path}: short write ({written} of {len(data)} bytes): is the disk full?")
            os.fsync(fd)
        except (OSError, LedgerError):
            # A full disk: leave no partial record behind (truncating needs no room), then report.
            os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)
    if created:
        fsync_directory(path.parent)


def _make_parents(path: Path) -> None:
    missing = [parent for parent in path.parents if not parent.is_dir()]
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        fsync_directory(directory.parent)


def fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable, so a power cut cannot lose a whole new file."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_damaged_tail(fd: int, path: Path) -> None:
    size = os.fstat(fd).st_size
    if size == 0:
        return
    keep = _line_start(fd, size) if os.pread(fd, 1, size - 1) != b"\n" else size
    if keep > 0:
        last_start = _line_start(fd, keep - 1)
        if decode(os.pread(fd, keep - last_start, last_start)) is None:
            keep = last_start
    if keep < size:
        _keep_damaged(path, os.pread(fd, size - keep, keep))
        os.ftruncate(fd, keep)


def _line_start(fd: int, end: int) -> int:
    """The offset just after the last newline before `end` (0 when there is none)."""
    cut = end
    while cut > 0:
        start = max(0, cut - _CHUNK)
        newline = os.pread(fd, cut - start, start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        cut = start
    return 0


def _keep_damaged(path: Path, data: bytes) -> None:
    with open(path.with_name(path.name + ".damaged"), "ab") as handle:
        handle.write(data if data.endswith(b"\n") else data + b"\n")


class JournalReader:
    """Reads a journal incrementally: each read returns the complete records added since the last one.

    A last line without a newline is in flight (or torn by a crash) and a last line that is not a record
    may be torn too: neither is consumed, so the next read sees it again, completed or cut by a writer.
    A bad line with complete lines after it is damage: `LedgerCorrupt` with the file and line number.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line = 0

    def read_numbered(self) -> list[tuple[int, dict[str, Any]]]:
        """New records with their 1-based line numbers."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        except OSError as exc:  # unreadable, or a directory where a journal should be
            raise LedgerError(f"{self.path}: cannot read the ledger: {exc.strerror or exc}") from exc
        complete = data.split(b"\n")[:-1]
        records = _decode_all(complete)
        if records is None:
            return self._read_lines(complete)
        numbered = list(enumerate(records, start=self.line + 1))
        self.line += len(records)
        self.offset += sum(len(raw) + 1 for raw in complete)
        return numbered

    def _read_lines(self, complete: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
        """One line at a time, to find the damaged one."""
        records: list[tuple[int, dict[str, Any]]] = []
        for position, raw in enumerate(complete):
            record = decode(raw)
            if record is None:
                if position == len(complete) - 1:
                    break
                raise LedgerCorrupt("not a JSON record", file=self.path, line=self.line + 1)
            self.line += 1
            self.offset += len(raw) + 1
            records.append((self.line, record))
        return records

    def read_new(self) -> list[dict[str, Any]]:
        return [record for _, record in self.read_numbered()]


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
