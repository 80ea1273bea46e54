"""The one way a task is named to the user: its place in the run, e.g. `for-loop-1[0]/train`.

Task keys from the root joined by `/`, and after a loop's key the index of the iteration the task sits in
(`outer[1]/inner[0]/train` inside two loops). Unlike a task key or path, a label tells apart the copies of a
task that loops make. The console, the summary, the ledger, `--explain`, the report and error messages all
build labels here, so one task has one name everywhere. It imports nothing of ours: `run_pipeline`'s
process loads it by path (driver/entry.own_module), where a user's own `spec.py` may be importable as `spec`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

ROOT = ""  # the root DAG's place: tasks at the top of the pipeline are labelled by their key alone


def child_label(parent: str, key: str) -> str:
    """The label of task `key` inside the DAG whose label is `parent` (ROOT at the top)."""
    return f"{parent}/{key}" if parent else key


def iteration_label(loop: str, index: int | str) -> str:
    """The label of iteration `index` of the loop labelled `loop` (`?` where the index is not known yet)."""
    return f"{loop}[{index}]"


def task_label(steps: Iterable[tuple[str, int | None]]) -> str:
    """A label from (task key, iteration index or None) pairs from the root: [("for-loop-1", 0), ("train",
    None)] is `for-loop-1[0]/train`."""
    label = ROOT
    for key, index in steps:
        label = child_label(label, key)
        if index is not None:
            label = iteration_label(label, index)
    return label


# --- A task as a user names it: one resolver for every command that takes a task ----------------------------

_INDEX = re.compile(r"\[(\d+|\?)\]")


def task_key_of(label: str) -> str:
    """`outer[1]/inner[0]/train` → `train`; an iteration's own label `loop[2]` → `loop`."""
    return _INDEX.sub("", label.rsplit("/", 1)[-1])


def short_label(label: str) -> str:
    """`exit-handler-1/for-loop-3[2]/train` → `train[2]`: the task key and the iteration indices around it,
    outermost first (`train[1][0]` inside two loops); the bare key outside loops."""
    return task_key_of(label) + "".join(f"[{index}]" for index in _INDEX.findall(label))


def _forms(label: str) -> tuple[frozenset[str], ...]:
    """The names a user may give this task, most specific first: the label; its tail after any `/` (the
    label without its outer groups, `for-loop-3[2]/train`); the short form; the task path with the indices
    after it (as earlier versions printed it); the task path; the task key."""
    path = _INDEX.sub("", label)
    indices = "".join(f"[{index}]" for index in _INDEX.findall(label))
    parts = label.split("/")
    tails = frozenset("/".join(parts[start:]) for start in range(1, len(parts) - 1))  # each keeps a `/`
    one = frozenset
    return (one({label}), tails, one({short_label(label)}), one({path + indices}), one({path}),
            one({task_key_of(label)}))


def select_labels(ref: str, labels: Iterable[str]) -> list[str]:
    """Every label that `ref` names in any of its forms (a task key names every copy a loop made)."""
    return [label for label in dict.fromkeys(labels) if any(ref in form for form in _forms(label))]


def _most_specific(ref: str, labels: list[str]) -> list[str]:
    """The labels `ref` names by the most specific form that names any: `train` is the copy of `train`
    outside every loop when there is one (its short form), not also `train[0]` and `train[1]`."""
    for form in range(len(_forms(""))):
        found = [label for label in labels if ref in _forms(label)[form]]
        if found:
            return found
    return []


def resolve_label(ref: str, labels: Iterable[str], *, where: str, error: type[Exception]) -> str:
    """The one label `ref` names; `error` (spec.errors.TaskRefError on the command line, KeyError in
    `RunResult.task`) listing the candidates when it names several, or naming the closest names when it
    names none. `where` says where the tasks are (`run abc`)."""
    known = list(dict.fromkeys(labels))
    found = _most_specific(ref, known)
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(short_label(label) for label in found[:10]) + (", ..." if len(found) > 10 else "")
        raise error(f"task {ref!r} is ambiguous in {where}: {len(found)} tasks match ({shown})")
    raise error(f"no task {ref!r} in {where}{_closest(ref, known)}")


def _closest(ref: str, labels: list[str]) -> str:
    names = sorted({name for label in labels for form in _forms(label) for name in form})
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    if close:
        return f"; did you mean {' or '.join(repr(name) for name in close)}?"
    keys = sorted({task_key_of(label) for label in labels})
    return f"; its tasks: {', '.join(keys[:20])}" if keys else ""
