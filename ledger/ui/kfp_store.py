"""What only the KFP REST API knows (experiments, pipelines, versions, a run's display name and experiment),
kept in `<home>/api/store.json`: read whole, changed under a lock, replaced atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from spec.errors import LedgerError

STORE_VERSION = 1
KINDS = ("experiments", "pipelines", "versions", "runs")
T = TypeVar("T")

Document = dict[str, dict[str, dict[str, Any]]]


class ApiStore:
    """One JSON document of objects by kind and id; every change is a read-modify-replace under an flock, so
    runs created concurrently (by threads or by two servers over one home) never lose each other."""

    def __init__(self, home: Path) -> None:
        self.root = home / "api"
        self.path = self.root / "store.json"
        self._lock = self.root / "lock"

    def read(self) -> Document:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {kind: {} for kind in KINDS}
        except OSError as exc:
            raise LedgerError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        try:
            document = json.loads(text)
        except ValueError as exc:  # replaced atomically, so never half-written: damaged by something else
            raise LedgerError(f"{self.path} is damaged ({exc}); move it aside to start afresh") from exc
        return {kind: dict(document.get(kind) or {}) for kind in KINDS}

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.read()[kind].get(key)

    def change(self, apply: Callable[[Document], T]) -> T:
        """Apply `apply` to the document under the lock and write the result; its return value is returned."""
        with self._locked():
            document = self.read()
            result = apply(document)
            self._write(document)
        return result

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        def apply(document: Document) -> None:
            document[kind][key] = record

        self.change(apply)

    def update(self, kind: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge `fields` into the record (created when absent); the record as written."""

        def apply(document: Document) -> dict[str, Any]:
            record = {**document[kind].get(key, {}), **fields}
            document[kind][key] = record
            return record

        return self.change(apply)

    def delete(self, kind: str, key: str) -> None:
        def apply(document: Document) -> None:
            document[kind].pop(key, None)

        self.change(apply)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, document: Document) -> None:
        text = json.dumps({"store_version": STORE_VERSION, **document}, ensure_ascii=False, indent=1)
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".store-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
