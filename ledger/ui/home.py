"""The home the UI serves: its ledger, runs resolved as the CLI resolves them, folds kept between requests."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ledger.model import RunView
from ledger.store import Ledger, RunLedger

# Folded runs kept between requests: a run's next view then folds only the records added since.
KEPT_RUNS = 32


@dataclass
class ServedHome:
    """One home; every route reads through it."""

    path: Path
    ledger: Ledger
    # Set when the server stops: open event streams end at their next poll, so Ctrl-C never waits on them.
    stopping: threading.Event = field(default_factory=threading.Event)
    _runs: OrderedDict[str, RunLedger] = field(default_factory=OrderedDict)

    @classmethod
    def open(cls, path: Path) -> ServedHome:
        resolved = path.resolve()
        return cls(path=resolved, ledger=Ledger(resolved, create=False))

    def resolve(self, ref: str) -> str:
        """The run id `ref` names (an id, a unique prefix, `last`); LedgerError when none or several do."""
        return self.ledger.resolve_run_id(ref)

    def view(self, run_id: str) -> RunView:
        """The run as recorded so far; LedgerCorrupt when its journal is damaged."""
        run = self._runs.pop(run_id, None) or self.ledger.open_run(run_id)
        self._runs[run_id] = run
        while len(self._runs) > KEPT_RUNS:
            self._runs.popitem(last=False)
        return run.view()
