"""The JSON ledger: a home's runs, their journals, id allocation and the cache index.

Layout under `<home>/ledger/`:
    store.json              {"schema_version": N}
    lock                    the store-wide writer lock (flock)
    sequence                one line per id allocation: the last id handed out
    runs.jsonl              one record per run start and run end
    runs/<run_id>.jsonl     the run's journal: executions, artifacts, events
    cache/<pipeline>/<xx>.jsonl   cache entries of a pipeline, in 256 partitions by fingerprint hash
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ledger import journal
from ledger.model import RUNNING, SCHEMA_VERSION, Artifact, ArtifactDraft, RunView, count_tasks
from ledger.properties import AttemptEnd, AttemptRecord, PropertyGroup, merge
from ledger.run_header import RunHeader, RunNote
from spec.errors import LedgerCorrupt, LedgerError, RunBusy

DAMAGED = "DAMAGED"  # a run whose journal cannot be read (not an MLMD state: shown by `ledger runs`)

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class RunSummary:
    """One run as the run index records it."""

    run_id: str
    pipeline_name: str
    state: str
    create_time: float
    end_time: float | None
    # Tasks by state as the run finished (None while it runs, or if it never finished).
    task_counts: dict[str, int] | None = None
    # Why this run could not be read (its journal is damaged: file and line), or "".
    damage: str = ""
    # The run's parameters (None: a run indexed before the index held them).
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class CacheEntry:
    """A successful execution that later tasks with the same fingerprint may reuse."""

    fingerprint: str
    run_id: str
    execution_id: int
    outputs: dict[str, Any]
    artifacts: dict[str, list[Artifact]]
    create_time: float = 0.0
    # Artifact files that existed when the entry was written; a hit needs them all still there.
    required_files: tuple[str, ...] = ()


class RecordReader(Protocol):
    """Reads one journal incrementally (`journal.JournalReader` on disk)."""

    def read_numbered(self) -> list[tuple[int, dict[str, Any]]]: ...


BatchBuilder = Callable[[list[int]], dict[Path, list[dict[str, Any]]]]


RUN_DELETED = "run_deleted"  # an index record: the run was pruned
RUNS_INDEX = "runs.jsonl"
LAST_RUN = "last"  # the alias of the newest run wherever a run id is taken


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):  # not `match` with `$`, which lets a trailing newline through
        raise LedgerError(f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-'")
    return run_id


class Storage(Protocol):
    """Where a ledger's journals and locks live: files under `<home>/ledger/` (`FileStorage`), or memory
    (`ledger.memory.MemoryStorage`). Paths name journals whatever the storage keeps them in."""

    def append_batch(self, build: BatchBuilder, *, ids: int) -> list[int]:
        """Allocate `ids` fresh ids and append the records `build` makes from them, as one write."""
        ...

    def read(self, path: Path) -> list[dict[str, Any]]: ...

    def exists(self, path: Path) -> bool: ...

    def run_ids(self) -> set[str]: ...

    def reader(self, path: Path) -> RecordReader: ...

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store-wide writer lock (a reader that must tell damage from a write in progress)."""
        ...

    def lock_run(self, run_id: str, *, with_readers: bool = False) -> None: ...

    def remove_run(self, run_id: str) -> None:
        """Remove a run's journal and its lock (the run index has already recorded the deletion)."""
        ...

    def hold_as_launcher(self, run_id: str) -> None: ...

    def hold_for_reading(self, run_id: str) -> bool: ...

    def wait_for_launchers(self, run_id: str, *, timeout: float) -> None: ...


class FileStorage:
    """The journals as JSON Lines files under `<home>/ledger/`, written under one store-wide lock; run locks
    as flocks on files beside the run journals."""

    def __init__(self, home: Path, *, create: bool) -> None:
        self.home = home
        self.root = home / "ledger"
        self._lock = self.root / "lock"
        self._runs_index = self.root / RUNS_INDEX
        self._run_locks: dict[str, int] = {}
        try:
            self._open(create=create)
        except OSError as exc:  # a home that is a file, an unreadable store: one line, not a traceback
            raise LedgerError(f"cannot open the ledger in {home}: {exc.strerror or exc}") from exc

    def _open(self, *, create: bool) -> None:
        meta = self.root / "store.json"
        for directory in (self.root, self.root / "runs"):
            if directory.exists() and not directory.is_dir():  # never read as an empty store
                raise LedgerCorrupt("not a directory: the store is damaged", file=directory, line=0)
        if not meta.exists():
            if not create:
                self._refuse_headless(meta)
                raise LedgerError(f"no ledger in {self.home} (nothing has run with this --home)")
            self._create(meta)
        try:
            version = json.loads(meta.read_text())["schema_version"]
        except (ValueError, KeyError, TypeError) as exc:
            raise LedgerCorrupt(f"unreadable store header ({exc})", file=meta, line=1) from exc
        if version != SCHEMA_VERSION:
            raise LedgerError(f"{meta}: schema version {version}, this program reads {SCHEMA_VERSION}")

    def _create(self, meta: Path) -> None:
        if not self.root.exists():
            self._create_whole()
            return
        (self.root / "runs").mkdir(parents=True, exist_ok=True)  # a header lost or never written: its records
        with journal.store_lock(self._lock):
            if meta.exists():
                return
            self._refuse_headless(meta)
            _write_atomically(meta, json.dumps({"schema_version": SCHEMA_VERSION}) + "\n")

    def _create_whole(self) -> None:
        """A new store appears whole or not at all: built beside, then renamed into place, so a process
        starting at the same moment never finds a store directory without its header."""
        self.home.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ledger-", dir=self.home))
        try:
            (staging / "runs").mkdir()
            _write_atomically(staging / "store.json", json.dumps({"schema_version": SCHEMA_VERSION}) + "\n")
            with contextlib.suppress(OSError):  # another process's store took the place first: it is used
                os.rename(staging, self.root)
                journal.fsync_directory(self.home)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _refuse_headless(self, meta: Path) -> None:
        """A store that lost its header but holds records is damaged; it is never taken for an empty one."""
        runs = self.root / "runs"
        journals = sorted(runs.glob("*.jsonl")) if runs.is_dir() else []
        held = [self._runs_index, self.root / "sequence", *journals]
        if any(path.exists() for path in held):
            raise LedgerCorrupt("store header missing from a store that holds records", file=meta, line=1)

    def lock_run(self, run_id: str, *, with_readers: bool = False) -> None:
        """Take the run exclusively for this process's lifetime (a driver running or resuming it); with
        `with_readers` (prune) also its task lock, which its launchers, replays and the drivers of other
        runs that took a cache hit from it hold shared.

        An flock on `runs/<run_id>.lock`: the kernel releases it when the process dies, however it dies, so a
        killed driver never blocks a resume and a recycled pid never looks like a live driver.
        """
        fd = self._lock_file(run_id, f"{check_run_id(run_id)}.lock")
        if not journal.try_lock(fd):
            os.close(fd)
            raise RunBusy(f"run {run_id!r} is still running (another driver holds it); stop it first")
        self._run_locks[run_id] = fd
        if not with_readers:
            return
        for suffix in ("tasks", "readers"):
            fd = self._lock_file(run_id, f"{run_id}.{suffix}.lock")
            if not journal.try_lock(fd):
                os.close(fd)
                raise RunBusy(f"run {run_id!r} is in use (a launcher, a replay or another run's cache hit)")
            self._run_locks[f"{run_id}.{suffix}"] = fd

    def _lock_file(self, run_id: str, name: str) -> int:
        path = self.root / "runs" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot lock run {run_id!r} in {self.home}: {exc.strerror or exc}") from exc

    def remove_run(self, run_id: str) -> None:
        runs = self.root / "runs"
        check_run_id(run_id)
        for name in (f"{run_id}.jsonl", f"{run_id}.lock", f"{run_id}.tasks.lock", f"{run_id}.readers.lock"):
            with contextlib.suppress(FileNotFoundError):
                (runs / name).unlink()
        for key in (run_id, f"{run_id}.tasks", f"{run_id}.readers"):
            fd = self._run_locks.pop(key, None)
            if fd is not None:
                os.close(fd)

    def hold_as_launcher(self, run_id: str) -> None:
        """A launcher holds its run's task lock (shared) for its lifetime, so that a resume can wait until
        the launchers of an earlier driver have stopped and recorded their attempts (`wait_for_launchers`)
        and prune leaves the run alone."""
        self._hold_shared(run_id, "tasks", wait=True)  # best effort: a launcher that cannot lock still runs

    def hold_for_reading(self, run_id: str) -> bool:
        """Hold the run's readers lock (shared) for this process's lifetime; False when prune holds it."""
        return self._hold_shared(run_id, "readers", wait=False)

    def _hold_shared(self, run_id: str, suffix: str, *, wait: bool) -> bool:
        key = f"{check_run_id(run_id)}.{suffix}"
        if key in self._run_locks:
            return True
        try:
            fd = os.open(self.root / "runs" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return False
        self._run_locks[key] = fd
        return True

    def wait_for_launchers(self, run_id: str, *, timeout: float) -> None:
        """Wait until no launcher holds the run's task lock; RunBusy if one still does after `timeout`."""
        path = self.root / "runs" / f"{check_run_id(run_id)}.tasks.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot lock run {run_id!r} in {self.home}: {exc.strerror or exc}") from exc
        try:
            deadline = time.monotonic() + timeout
            while not journal.try_lock(fd):
                if time.monotonic() > deadline:
                    raise RunBusy(f"run {run_id!r}: tasks of its earlier driver are still stopping")
                time.sleep(0.05)
        finally:
            os.close(fd)  # releases it: only the absence of launchers was to be seen

    def append_batch(self, build: BatchBuilder, *, ids: int) -> list[int]:
        """Allocate ids and append to one or more journals under one hold of the lock, stamping the time."""
        try:
            with journal.store_lock(self._lock):
                now = time.time()  # under the lock, so times never go backwards along a journal
                allocated = self._allocate_ids(ids) if ids else []
                for path, records in build(allocated).items():
                    self._check_run_journal(path, records)
                    journal.append_locked(path, [{"time": now, **record} for record in records])
        except OSError as exc:  # a full disk, a read-only home: the store cannot be written
            raise LedgerError(f"cannot write the ledger in {self.home}: {exc}") from exc
        return allocated

    def _check_run_journal(self, path: Path, records: list[dict[str, Any]]) -> None:
        """A run's journal is created by its header record only: a late write to a pruned run is refused,
        never turned into a headless journal."""
        if path.parent == self.root / "runs" and not path.exists() and records[0].get("kind") != "run":
            raise LedgerError(f"run {path.stem!r} is no longer in {self.home} (removed by prune)")

    def read(self, path: Path) -> list[dict[str, Any]]:
        return journal.read_all(path)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store-wide writer lock (a reader that must tell damage from a write in progress)."""
        return journal.store_lock(self._lock)

    def exists(self, path: Path) -> bool:
        return path.exists()

    def run_ids(self) -> set[str]:
        return {path.stem for path in (self.root / "runs").glob("*.jsonl")}

    def reader(self, path: Path) -> RecordReader:
        return journal.JournalReader(path)

    def _allocate_ids(self, count: int) -> list[int]:
        sequence = self.root / "sequence"
        last = journal.read_last_line(sequence)
        record = journal.decode(last) if last is not None else None
        current = record.get("last") if record is not None else None
        if not isinstance(current, int):
            current = self._max_recorded_id()  # counter missing or damaged: still never reuse an id
        journal.append_locked(sequence, [{"kind": "seq", "last": current + count}])
        return list(range(current + 1, current + count + 1))

    def _max_recorded_id(self) -> int:
        journals = [*(self.root / "runs").glob("*.jsonl"), *(self.root / "cache").glob("*/*.jsonl")]
        return max((_max_id(record) for path in journals for record in journal.read_all(path)), default=0)


class Ledger:
    """A home's store; cheap to open, safe to share between processes.

    What it records and how it reads it back is here; where the journals and locks live is its `storage`
    (`FileStorage` by default; `ledger.memory.MemoryLedger` composes a `MemoryStorage`).
    """

    def __init__(self, home: Path, *, create: bool = True, storage: Storage | None = None) -> None:
        self.home = home
        self.root = home / "ledger"
        self._runs_index = self.root / RUNS_INDEX
        self.index_damage = ""  # set by `list_runs` when the run index is damaged
        self.storage: Storage = storage if storage is not None else FileStorage(home, create=create)

    @staticmethod
    def exists_in(home: Path) -> bool:
        """Whether `home` holds a ledger: callers that must not create one ask this first."""
        return (home / "ledger" / "store.json").exists()

    def lock_run(self, run_id: str, *, with_readers: bool = False) -> None:
        """Take the run exclusively for this process's lifetime (a driver running or resuming it); with
        `with_readers` (prune) only while no launcher, replay or other run's cache hit reads it either.

        On files an flock on `runs/<run_id>.lock`: the kernel releases it when the process dies, however it
        dies, so a killed driver never blocks a resume and a recycled pid never looks like a live driver.
        """
        self.storage.lock_run(run_id, with_readers=with_readers)

    def delete_run(self, run_id: str) -> None:
        """Forget a run (`python -m ledger prune`): a `run_deleted` index record, then its journal and lock.

        The caller holds the run (`lock_run`), so no driver writes it meanwhile; a crash between the two steps
        leaves a journal nobody lists, never a listed run without its journal.
        """
        self.append(self._runs_index, [{"kind": RUN_DELETED, "run_id": check_run_id(run_id)}])
        self.storage.remove_run(run_id)

    def hold_as_launcher(self, run_id: str) -> None:
        """Hold the run's task lock (shared) for this process's lifetime: a launcher or a replay running one
        of its tasks. A resume waits for them (`wait_for_launchers`); prune leaves a held run alone."""
        self.storage.hold_as_launcher(run_id)

    def hold_for_reading(self, run_id: str) -> bool:
        """Hold the run (shared) for this process's lifetime, as a driver does that took a cache hit from
        it and hands its files on: prune leaves it alone meanwhile. False when prune is removing it now
        (then its files are no hit)."""
        return self.storage.hold_for_reading(run_id)

    def wait_for_launchers(self, run_id: str, *, timeout: float) -> None:
        """Wait until no launcher holds the run's task lock; RunBusy if one still does after `timeout`."""
        self.storage.wait_for_launchers(run_id, timeout=timeout)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store-wide writer lock (a reader that must tell damage from a write in progress)."""
        return self.storage.locked()

    def run_path(self, run_id: str) -> Path:
        return self.root / "runs" / f"{check_run_id(run_id)}.jsonl"

    def append(
        self,
        path: Path,
        records: list[dict[str, Any]] | Callable[[list[int]], list[dict[str, Any]]],
        *,
        ids: int = 0,
    ) -> list[int]:
        """Append records under the store lock as one write.

        With `ids`, that many fresh ids are allocated under the same lock and `records` is a function
        that builds the records from them, so a record can refer to an id allocated with it.
        """
        return self.storage.append_batch(lambda allocated: {path: _build(records, allocated)}, ids=ids)


    def append_run_end(self, path: Path, record: dict[str, Any], summary: dict[str, Any]) -> None:
        """A run's end in its journal and, in the same write, its summary in the run index."""
        self.storage.append_batch(lambda _: {path: [record], self._runs_index: [summary]}, ids=0)

    # Runs ---------------------------------------------------------------------------------------------

    def create_run(self, header: RunHeader) -> RunLedger:
        run_id = check_run_id(header.run_id)
        path = self.run_path(run_id)
        record = {"kind": "run", "schema_version": SCHEMA_VERSION, **header.to_json()}

        def build(_: list[int]) -> dict[Path, list[dict[str, Any]]]:
            if self.storage.exists(path):  # checked under the lock: two drivers cannot both create one run
                raise LedgerError(f"run {run_id!r} already exists in {self.home}")
            # The run's own journal first: a crash between the two writes leaves a run that
            # `list_runs` still finds by its journal.
            return {path: [record], self._runs_index: [_index_record(record)]}

        self.storage.append_batch(build, ids=0)
        return RunLedger(self, run_id)

    def open_run(self, run_id: str) -> RunLedger:
        if not self.storage.exists(self.run_path(run_id)):
            raise LedgerError(f"no run {run_id!r} in {self.home}")
        return RunLedger(self, run_id)

    def resolve_run_id(self, ref: str) -> str:
        """The run a user means: its id, a prefix only one run id starts with, or `last` (the newest run).

        A run actually named `last` keeps that name; every command that takes a run id goes through here.
        """
        if ref and self.storage.exists(self.run_path(ref)):
            return ref
        runs = self.list_runs()
        if ref == LAST_RUN and runs:
            return max(runs, key=lambda run: (run.create_time, run.run_id)).run_id
        candidates = sorted(run.run_id for run in runs if ref and run.run_id.startswith(ref))
        if len(candidates) > 1:
            raise LedgerError(f"run id prefix {ref!r} is ambiguous: {', '.join(candidates[:5])}")
        if not candidates:
            raise LedgerError(f"no run {ref!r} in {self.home}")
        return candidates[0]

    def list_runs(self) -> list[RunSummary]:
        """Every run, in the order they were created.

        Damage stays local: a damaged run journal lists that run as DAMAGED (with file and line), and a
        damaged index is read past by listing every run from its own journal (`index_damage` says why).
        """
        runs: dict[str, dict[str, Any]] = {}
        self.index_damage = ""
        try:
            index = self.storage.read(self._runs_index)
        except LedgerCorrupt as exc:
            self.index_damage, index = str(exc), []
        deleted: set[str] = set()
        for record in index:
            if record["kind"] == RUN_DELETED:
                deleted.add(str(record.get("run_id")))
                runs.pop(str(record.get("run_id")), None)
                continue
            entry = runs.setdefault(str(record.get("run_id")), {})
            if record["kind"] == "run":
                entry.update(record)
            elif record["kind"] == "run_update":
                entry["state"] = record.get("state")
                entry["end_time"] = record.get("time")
                entry["task_counts"] = record.get("task_counts")
        for run_id in sorted(self.storage.run_ids() - runs.keys() - deleted):
            runs[run_id] = self._unindexed_run(run_id)
        for run_id, entry in runs.items():
            if entry.get("state", RUNNING) == RUNNING:
                entry.update(self._journal_end(run_id))
        return [_summary(run_id, entry) for run_id, entry in runs.items()]

    def _unindexed_run(self, run_id: str) -> dict[str, Any]:
        try:
            view = self.open_run(run_id).view()
        except LedgerError as exc:
            return {"state": DAMAGED, "damage": str(exc)}
        counts = count_tasks(view) if view.end_time is not None else None
        return {**view.header.to_json(), "time": view.header.time, "state": view.state,
                "end_time": view.end_time, "task_counts": counts}

    def _journal_end(self, run_id: str) -> dict[str, Any]:
        """The run's final state from its journal, when the index missed it (a driver killed between the
        two writes of `finish_run`): the journal's last record is then that `run_update`."""
        path = self.run_path(run_id)
        last = journal.read_last_line(path) if self.storage.exists(path) else None
        record = journal.decode(last) if last is not None else None
        if record is None or record.get("kind") != "run_update" or record.get("state") == RUNNING:
            return {}
        return {"state": record.get("state"), "end_time": record.get("time")}

    # Cache --------------------------------------------------------------------------------------------

    def _cache_path(self, pipeline_name: str, fingerprint: str) -> Path:
        # Both hashed: names may hold any character, and importer keys share a prefix ("import-").
        folder = hashlib.sha256(pipeline_name.encode()).hexdigest()[:16]
        partition = hashlib.sha256(fingerprint.encode()).hexdigest()[:2]
        return self.root / "cache" / folder / f"{partition}.jsonl"

    def add_cache_entry(self, pipeline_name: str, entry: CacheEntry) -> None:
        path = self._cache_path(pipeline_name, entry.fingerprint)
        record = {
            "kind": "cache",
            "pipeline_name": pipeline_name,
            "fingerprint": entry.fingerprint,
            "run_id": entry.run_id,
            "execution_id": entry.execution_id,
            "outputs": entry.outputs,
            "artifacts": {k: [a.to_json() for a in v] for k, v in entry.artifacts.items()},
            "required_files": list(entry.required_files),
        }
        self.append(path, [record])

    def lookup_cache(self, pipeline_name: str, fingerprint: str) -> list[CacheEntry]:
        """Entries for this fingerprint, newest first."""
        path = self._cache_path(pipeline_name, fingerprint)
        entries = []
        for line, record in self.storage.reader(path).read_numbered():
            if record.get("fingerprint") == fingerprint and record.get("pipeline_name") == pipeline_name:
                try:
                    entries.append(_cache_entry(record))
                except (KeyError, ValueError, TypeError, AttributeError) as exc:
                    raise LedgerCorrupt(f"cache record does not fit ({exc!r})", file=path, line=line) from exc
        return entries[::-1]


class RunLedger:
    """One run's journal: writes go straight to disk, reads fold incrementally."""

    def __init__(self, ledger: Ledger, run_id: str) -> None:
        self.ledger = ledger
        self.run_id = run_id
        self.path = ledger.run_path(run_id)
        self._reader = ledger.storage.reader(self.path)
        self._view = RunView(run_id=run_id)
        self._damage: LedgerCorrupt | None = None

    def view(self) -> RunView:
        """The run as recorded so far (refreshed from disk); damage is reported on every call."""
        if self._damage is None:
            self._fold()
            if not self._view.has_header:
                # Empty, or its first line torn: damage unless a writer is creating it right now, which
                # the store lock (held by every writer) tells apart.
                with self.ledger.locked():
                    self._fold()
                if not self._view.has_header:
                    self._damage = LedgerCorrupt(
                        "the run header is missing (the journal is empty or its first line is torn)",
                        file=self.path,
                        line=1,
                    )
        if self._damage is not None:
            raise self._damage
        return self._view

    def _fold(self) -> None:
        for line, record in self._reader.read_numbered():
            try:
                if line == 1 and record.get("kind") != "run":
                    raise ValueError(f"the first record is a {record.get('kind')!r}, not the run header")
                self._view.apply(record)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                reason = str(exc) if line == 1 else f"record does not fit the run ({exc!r})"
                self._damage = LedgerCorrupt(reason, file=self.path, line=line)
                raise self._damage from exc

    def create_execution(
        self,
        *,
        type: str,
        state: str,
        properties: Sequence[PropertyGroup],
        name: str = "",
        input_artifacts: dict[str, list[Artifact]] | None = None,
    ) -> int:
        """Record a new execution and its input events; `properties` are merged in order."""
        merged = merge(properties)

        def build(ids: list[int]) -> list[dict[str, Any]]:
            execution = {"kind": "execution", "id": ids[0], "type": type, "name": name, "state": state,
                         "properties": merged}
            return [execution, *_link_records(input_artifacts or {}, "INPUT", execution_id=ids[0])]

        return self.ledger.append(self.path, build, ids=1)[0]

    def update_execution(
        self,
        execution_id: int,
        *,
        state: str | None = None,
        properties: Sequence[PropertyGroup] = (),
        attempt: AttemptRecord | None = None,
    ) -> None:
        """Change an execution: its state, properties (each key replaces) and attempt (merged by number)."""
        record: dict[str, Any] = {"kind": "execution_update", "id": execution_id}
        if state is not None:
            record["state"] = state
        merged = merge(properties)
        if merged:
            record["properties"] = merged
        if attempt is not None:
            record["attempt"] = attempt.to_json()
        self.ledger.append(self.path, [record])

    def publish_execution(
        self,
        execution_id: int,
        *,
        state: str,
        properties: Sequence[PropertyGroup],
        new_artifacts: dict[str, list[ArtifactDraft]] | None = None,
        linked_artifacts: dict[str, list[Artifact]] | None = None,
        attempt: AttemptEnd | None = None,
    ) -> dict[str, list[Artifact]]:
        """Record new output artifacts, link existing ones and set the state, all in one append.

        Returns every output artifact by name, the new ones with their ids.
        """
        merged = merge(properties)
        drafts = [(name, draft) for name, items in (new_artifacts or {}).items() for draft in items]
        published: dict[str, list[Artifact]] = {}

        def build(ids: list[int]) -> list[dict[str, Any]]:
            for (name, draft), artifact_id in zip(drafts, ids, strict=True):
                artifact = Artifact.from_json({"id": artifact_id, "state": "LIVE", **draft.to_json()})
                published.setdefault(name, []).append(artifact)
            for name, artifacts in (linked_artifacts or {}).items():
                published.setdefault(name, []).extend(artifacts)
            update: dict[str, Any] = {"kind": "execution_update", "id": execution_id, "state": state,
                                      "properties": merged}
            if attempt is not None:
                update["attempt"] = attempt.to_json()
            return [*_link_records(published, "OUTPUT", execution_id=execution_id), update]

        self.ledger.append(self.path, build, ids=len(drafts))
        return published

    def add_note(self, note: RunNote) -> None:
        self.ledger.append(self.path, [{"kind": "note", **note.to_json()}])

    def finish_run(self, state: str) -> None:
        record = {"kind": "run_update", "run_id": self.run_id, "state": state}
        # The index keeps the task counts, so that listing runs needs no journal but the index.
        summary = record | {"task_counts": count_tasks(self.view())}
        self.ledger.append_run_end(self.path, record, summary)


def _link_records(
    artifacts: dict[str, list[Artifact]], event_type: str, *, execution_id: int
) -> list[dict[str, Any]]:
    """Artifact records (repeated per run so a run's journal stands alone) and their events."""
    records: list[dict[str, Any]] = []
    for name, items in artifacts.items():
        for index, artifact in enumerate(items):
            records.append({"kind": "artifact", **artifact.to_json()})
            records.append({"kind": "event", "execution_id": execution_id, "artifact_id": artifact.id,
                            "type": event_type, "path": name, "index": index})
    return records


# The run index holds what `list_runs` shows; the header's big fields stay in the run's own journal.
_INDEX_FIELDS = ("time", "kind", "schema_version", "run_id", "pipeline_name", "source", "create_time",
                 "parameters")


def _index_record(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in _INDEX_FIELDS if key in record}


def _summary(run_id: str, entry: dict[str, Any]) -> RunSummary:
    return RunSummary(
        damage=str(entry.get("damage", "")),
        run_id=run_id,
        pipeline_name=str(entry.get("pipeline_name", "")),
        state=str(entry.get("state", "RUNNING")),
        create_time=float(entry.get("time", 0.0)),
        end_time=entry.get("end_time"),
        task_counts=entry.get("task_counts"),
        parameters=entry.get("parameters"),
    )


def _cache_entry(record: dict[str, Any]) -> CacheEntry:
    return CacheEntry(
        fingerprint=record["fingerprint"],
        run_id=record["run_id"],
        execution_id=int(record["execution_id"]),
        outputs=record.get("outputs", {}),
        artifacts={k: [Artifact.from_json(a) for a in v] for k, v in record.get("artifacts", {}).items()},
        create_time=float(record["time"]),
        required_files=tuple(record.get("required_files", ())),
    )


def _build(
    records: list[dict[str, Any]] | Callable[[list[int]], list[dict[str, Any]]], ids: list[int]
) -> list[dict[str, Any]]:
    return records(ids) if callable(records) else records


def _max_id(record: dict[str, Any]) -> int:
    """The largest id a record names (executions, artifacts, cache entries and their artifacts)."""
    found = [record.get("id"), record.get("execution_id")]
    found += [a.get("id") for items in record.get("artifacts", {}).values() for a in items]
    return max((value for value in found if isinstance(value, int)), default=0)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    journal.fsync_directory(path.parent)
