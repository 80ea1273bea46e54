"""ledger/secret_files.py: secret keys as files only this user reads, gone with the attempt or after it."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from ledger import prune, secret_files
from ledger.store import Ledger
from spec.kubernetes import LocalSourceError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_files_are_readable_by_this_user_only(tmp_path: Path) -> None:
    directory = secret_files.write_key_files(tmp_path, {"user": "alice", "token": "s3cret"})

    assert directory.parent == tmp_path / "runtime" / "secrets"
    assert _mode(directory.parent) == 0o700 and _mode(directory) == 0o700
    assert {p.name: (p.read_text(), _mode(p)) for p in directory.iterdir()} == {
        "user": ("alice", 0o600), "token": ("s3cret", 0o600)
    }


def test_a_key_that_cannot_be_a_file_name_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(LocalSourceError, match="cannot be a file name"):
        secret_files.write_key_files(tmp_path, {"ok": "1", "../escape": "2"})
    secrets = tmp_path / "runtime" / "secrets"
    assert not secrets.exists() or list(secrets.iterdir()) == []


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_files_of_a_killed_launcher_are_removed_by_the_next_attempt_and_by_prune(tmp_path: Path) -> None:
    live = secret_files.write_key_files(tmp_path, {"k": "v"})  # this process is alive: kept
    dead = tmp_path / "runtime" / "secrets" / f"{_dead_pid()}-abc"
    dead.mkdir()
    (dead / "k").write_text("v")

    assert secret_files.remove_orphaned(tmp_path) == [dead]
    assert live.exists() and not dead.exists()

    dead.mkdir()
    Ledger(tmp_path, create=True)
    result = prune.prune(Ledger(tmp_path), prune.PruneOptions())
    assert [item.kind for item in result.removed] == ["secret files"]
    assert live.exists() and not dead.exists()
