"""`python -m ledger prune`: remove old runs and environments unused for a while, saying what that frees.

A pruned run loses its journal (its index entry gets a `run_deleted` record), its task files
(`<home>/runs/<id>`) and its artifacts (`<pipeline_root>/<pipeline>/<id>`). Cache entries that point into
it become misses, as any entry whose files are gone. A run a driver still holds is never pruned.
Environments live in the user cache directory, shared by every home: one is removed when it was not used for
the given time (the launcher marks an environment used each time a task runs in it) and nobody is building
it.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import secret_files
from ledger.store import Ledger, RunSummary
from spec.command import ENVIRONMENT_READY, environment_root
from spec.errors import LedgerError, UsageError

_AGE = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """`90s`, `45m`, `12h`, `30d`, `2w` in seconds."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"age {text!r}: expected a number and a unit (s, m, h, d, w), e.g. 30d or 12h")
    return float(match.group("number")) * _SECONDS[match.group("unit")]


@dataclass(frozen=True)
class PruneOptions:
    keep: int | None = None  # keep this many newest runs
    older_than: float | None = None  # seconds; with `keep`, a run must be beyond both to go
    envs_unused_for: float | None = None  # seconds
    dry_run: bool = False


@dataclass
class Removed:
    """One run or environment removed (or, on a dry run, that would be)."""

    kind: str  # "run" | "environment" | "secret files"
    name: str
    note: str
    paths: list[str]
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "note": self.note, "paths": self.paths, "bytes": self.bytes
        }


@dataclass
class PruneResult:
    removed: list[Removed] = field(default_factory=list)
    kept_busy: list[str] = field(default_factory=list)  # runs a driver holds

    def to_json(self, *, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": dry_run,
            "removed": [item.to_json() for item in self.removed],
            "freed_bytes": sum(item.bytes for item in self.removed),
            "kept_busy": self.kept_busy,
        }


def prune(ledger: Ledger | None, options: PruneOptions, *, now: float | None = None) -> PruneResult:
    now = time.time() if now is None else now
    result = PruneResult()
    if ledger is not None and not options.dry_run:  # key files of launchers killed before they removed them
        for directory in secret_files.remove_orphaned(ledger.home):
            result.removed.append(Removed("secret files", directory.name, "left by a killed launcher", [], 0))
    if ledger is not None and (options.keep is not None or options.older_than is not None):
        chosen = runs_to_prune(ledger.list_runs(), keep=options.keep, older_than=options.older_than, now=now)
        for run in chosen:
            _prune_run(ledger, run, dry_run=options.dry_run, result=result)
    if options.envs_unused_for is not None:
        unused = environments_to_prune(environment_root(), unused_for=options.envs_unused_for, now=now)
        for env_dir, last_used in unused:
            _prune_environment(env_dir, last_used=last_used, dry_run=options.dry_run, result=result)
    return result


def runs_to_prune(
    runs: list[RunSummary], *, keep: int | None, older_than: float | None, now: float
) -> list[RunSummary]:
    """Runs beyond the `keep` newest and created more than `older_than` seconds ago (each when given)."""
    newest_first = sorted(runs, key=lambda run: (run.create_time, run.run_id), reverse=True)
    chosen = []
    for position, run in enumerate(newest_first):
        beyond = keep is None or position >= keep
        old = older_than is None or run.create_time < now - older_than
        if beyond and old:
            chosen.append(run)
    return chosen


def _prune_run(ledger: Ledger, run: RunSummary, *, dry_run: bool, result: PruneResult) -> None:
    try:
        ledger.lock_run(run.run_id, with_readers=True)
    except LedgerError:
        result.kept_busy.append(run.run_id)
        return
    paths = _run_paths(ledger, run.run_id)
    size = sum(_size(path) for path in paths)
    note = f"{run.pipeline_name}, {run.state}, created {_date(run.create_time)}"
    result.removed.append(Removed("run", run.run_id, note, [str(p) for p in paths], size))
    if dry_run:
        return
    ledger.delete_run(run.run_id)
    for path in paths:
        _remove(path)


def _run_paths(ledger: Ledger, run_id: str) -> list[Path]:
    """The run's journal, task files and artifact directory (the last only where the header names it)."""
    paths = [ledger.run_path(run_id), ledger.home / "runs" / run_id]
    try:
        run_root = ledger.open_run(run_id).view().header.run_root
    except LedgerError:  # a damaged journal: its artifacts cannot be located, the rest still goes
        run_root = ""
    if run_root and Path(run_root).name == run_id:
        paths.append(Path(run_root))
    return [path for path in paths if path.exists()]


def environments_to_prune(root: Path, *, unused_for: float, now: float) -> list[tuple[Path, float]]:
    """Environments under `root` last used (or, if never finished, last touched) before `now - unused_for`."""
    if not root.is_dir():
        return []
    found = []
    for env_dir in sorted(path for path in root.iterdir() if path.is_dir()):
        marker = env_dir / ENVIRONMENT_READY
        try:
            last_used = (marker if marker.exists() else env_dir).stat().st_mtime
        except FileNotFoundError:
            continue
        if last_used <= now - unused_for:
            found.append((env_dir, last_used))
    return found


def _prune_environment(env_dir: Path, *, last_used: float, dry_run: bool, result: PruneResult) -> None:
    lock_path = env_dir.parent / f"{env_dir.name}.lock"
    with open(lock_path, "a") as lock:
        try:  # held by its builder and (shared) by every launcher running in it: then it is not touched
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        size = _size(env_dir)
        result.removed.append(Removed("environment", str(env_dir), f"last used {_date(last_used)}",
                                      [str(env_dir)], size))
        if not dry_run:
            _remove(env_dir)
    # The lock file stays: a launcher waiting on it must meet the next builder on the same file.


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _size(path: Path) -> int:
    """Disk space held by a file or a directory tree, directories included (blocks, as `du` counts them;
    symlinks not followed): what removing it frees."""
    if not path.is_dir() or path.is_symlink():
        return _blocks(str(path))
    total = 0
    for directory, subdirectories, files in os.walk(path):
        total += _blocks(directory)
        total += sum(_blocks(os.path.join(directory, name)) for name in files)
        total += sum(_blocks(os.path.join(directory, name)) for name in subdirectories
                     if os.path.islink(os.path.join(directory, name)))
    return total


def _blocks(path: str) -> int:
    try:
        return os.lstat(path).st_blocks * 512
    except OSError:  # gone meanwhile
        return 0


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def render_prune(document: dict[str, Any]) -> str:
    verb = "would remove" if document["dry_run"] else "removed"
    lines = [f"{verb} {item['kind']} {item['name']} ({item['note']}): {human_bytes(item['bytes'])}"
             for item in document["removed"]]
    lines += [f"kept run {run_id}: a driver, launcher, replay or another run's cache hit is using it"
              for run_id in document["kept_busy"]]
    runs = sum(item["kind"] == "run" for item in document["removed"])
    envs = sum(item["kind"] == "environment" for item in document["removed"])
    total = human_bytes(document["freed_bytes"])
    freed = "would free" if document["dry_run"] else "freed"
    lines.append(f"{freed} {total}: {runs} run(s), {envs} environment(s)")
    return "\n".join(lines)
