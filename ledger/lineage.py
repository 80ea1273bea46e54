"""An artifact's lineage across the runs of a home: every execution, in any run, that wrote it or read it.

A cache hit links the artifact a run wrote into the run that reused it (the artifact's record is repeated in
that run's journal, under the same id), so the runs that hold the id in an event are the runs that used it.
Journals are first searched as text for the id, and only the runs that name it are read in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.model import label_executions
from ledger.store import Ledger
from spec.errors import LedgerError


@dataclass(frozen=True)
class ArtifactUse:
    """One execution that wrote (`OUTPUT`) or read (`INPUT`) the artifact."""

    run_id: str
    execution_id: int
    label: str
    state: str
    event_type: str  # OUTPUT | INPUT
    name: str  # the output or input name


def artifact_uses(ledger: Ledger, artifact_id: int) -> list[ArtifactUse]:
    """Every use of artifact `artifact_id` in the runs of `ledger`, oldest run first; damaged runs skipped."""
    needle = f'"artifact_id":{artifact_id},'.encode()
    uses: list[ArtifactUse] = []
    for summary in sorted(ledger.list_runs(), key=lambda run: run.create_time):
        try:
            if needle not in ledger.run_path(summary.run_id).read_bytes():
                continue
            view = ledger.open_run(summary.run_id).view()
        except (OSError, LedgerError):
            continue
        labels = label_executions(view)
        uses += [
            ArtifactUse(view.run_id, event.execution_id, labels.get(event.execution_id, "?"),
                        view.executions[event.execution_id].state, event.type, event.path)
            for event in view.events
            if event.artifact_id == artifact_id and event.execution_id in view.executions
        ]
    return uses
