"""Journals tolerate a damaged last record, report damage anywhere else, and read incrementally."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import journal
from spec.errors import LedgerCorrupt


def _append(path: Path, *records: dict[str, object]) -> None:
    with journal.store_lock(path.with_name("lock")):
        journal.append_locked(path, list(records))


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_appended_records_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1}, {"kind": "a", "n": 2})
    _append(path, {"kind": "a", "n": 3})

    assert [r["n"] for r in journal.read_all(path)] == [1, 2, 3]


def test_a_missing_journal_reads_as_empty(tmp_path: Path) -> None:
    assert journal.read_all(tmp_path / "absent.jsonl") == []


def test_a_torn_last_record_is_skipped_by_readers(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1})
    with open(path, "ab") as handle:
        handle.write(b'{"kind":"a","n":2')  # the writer died mid-write: no newline

    assert [r["n"] for r in journal.read_all(path)] == [1]


def test_the_next_append_cuts_a_torn_tail_instead_of_gluing_to_it(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1})
    with open(path, "ab") as handle:
        handle.write(b'{"kind":"a","n":2')

    _append(path, {"kind": "a", "n": 3})

    assert [r["n"] for r in journal.read_all(path)] == [1, 3]
    assert (tmp_path / "j.jsonl.damaged").read_bytes() == b'{"kind":"a","n":2\n'


def test_a_journal_that_is_only_a_torn_record_is_cut_to_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"kind":"a"')

    _append(path, {"kind": "a", "n": 1})

    assert _lines(path) == ['{"kind":"a","n":1}']


def test_a_bad_complete_last_line_is_tolerated_and_cut_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1})
    with open(path, "ab") as handle:
        handle.write(b"\x00\x00garbage\n")

    assert [r["n"] for r in journal.read_all(path)] == [1]
    _append(path, {"kind": "a", "n": 2})
    assert [r["n"] for r in journal.read_all(path)] == [1, 2]


@pytest.mark.parametrize(
    "bad_line",
    [b"{not json", b"[1, 2]", b'{"no_kind": true}', b"", b"\x00\x00\x00\x00"],
    ids=["bad-json", "not-an-object", "no-kind", "blank", "zeros"],
)
def test_damage_before_the_last_line_names_the_file_and_line(tmp_path: Path, bad_line: bytes) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1})
    with open(path, "ab") as handle:
        handle.write(bad_line + b"\n")
    _append_raw_good_line(path)

    with pytest.raises(LedgerCorrupt) as caught:
        journal.read_all(path)

    assert caught.value.file == str(path)
    assert caught.value.line == 2
    assert f"{path}:2:" in str(caught.value)


def _append_raw_good_line(path: Path) -> None:
    # Not through append_locked: a writer would cut the bad last line first.
    with open(path, "ab") as handle:
        handle.write(journal.encode({"kind": "a", "n": 3}))


def test_the_reader_returns_only_records_added_since_its_last_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    reader = journal.JournalReader(path)
    assert reader.read_new() == []

    _append(path, {"kind": "a", "n": 1}, {"kind": "a", "n": 2})
    assert [r["n"] for r in reader.read_new()] == [1, 2]
    assert reader.read_new() == []
    _append(path, {"kind": "a", "n": 3})
    assert reader.read_numbered() == [(3, {"kind": "a", "n": 3})]


def test_the_reader_picks_up_an_in_flight_record_once_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    reader = journal.JournalReader(path)
    with open(path, "ab") as handle:
        handle.write(b'{"kind":"a","n":1}\n{"kind":"a",')
        handle.flush()
        assert [r["n"] for r in reader.read_new()] == [1]
        handle.write(b'"n":2}\n')
    assert [r["n"] for r in reader.read_new()] == [2]


def test_the_reader_stays_aligned_when_a_writer_cuts_a_bad_tail(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _append(path, {"kind": "a", "n": 1})
    with open(path, "ab") as handle:
        handle.write(b"garbage\n")
    reader = journal.JournalReader(path)
    assert [r["n"] for r in reader.read_new()] == [1]

    _append(path, {"kind": "a", "n": 2})

    assert [r["n"] for r in reader.read_new()] == [2]
    assert reader.line == 2
