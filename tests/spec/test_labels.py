"""spec/labels.py: one way to name a task, and one resolver for every command that takes a task."""

from __future__ import annotations

import pytest

from spec.errors import TaskRefError
from spec.labels import resolve_label, select_labels, short_label

LABELS = [
    "exit-handler-1",
    "exit-handler-1/for-loop-3[0]/train-model",
    "exit-handler-1/for-loop-3[1]/train-model",
    "exit-handler-1/for-loop-3[2]/train-model",
    "exit-handler-1/outer[0]/inner[1]/score",
    "exit-handler-1/outer[1]/inner[0]/score",
    "report",
    "cleanup",
]


def _resolve(ref: str) -> str:
    return resolve_label(ref, LABELS, where="run r", error=TaskRefError)


def test_the_short_form_is_the_key_and_the_loop_indices_outermost_first() -> None:
    assert short_label("exit-handler-1/for-loop-3[2]/train-model") == "train-model[2]"
    assert short_label("exit-handler-1/outer[1]/inner[0]/score") == "score[1][0]"
    assert short_label("report") == "report"


@pytest.mark.parametrize(
    "ref",
    [
        "exit-handler-1/for-loop-3[2]/train-model",  # the label the console prints
        "train-model[2]",  # the short form
        "for-loop-3[2]/train-model",  # the label without its outer groups
        "exit-handler-1/for-loop-3/train-model[2]",  # task path and index, as earlier versions printed it
    ],
)
def test_every_form_of_one_task_names_it(ref: str) -> None:
    assert _resolve(ref) == "exit-handler-1/for-loop-3[2]/train-model"


def test_nested_loops_take_one_index_per_loop_outer_first() -> None:
    assert _resolve("score[1][0]") == "exit-handler-1/outer[1]/inner[0]/score"


def test_a_unique_bare_name_names_its_task() -> None:
    assert resolve_label("report", LABELS, where="run r", error=TaskRefError) == "report"


def test_an_ambiguous_name_lists_the_candidates_in_their_short_form() -> None:
    with pytest.raises(TaskRefError, match=r"ambiguous in run r: 3 tasks match \(train-model\[0\], "
                                           r"train-model\[1\], train-model\[2\]\)"):
        resolve_label("train-model", LABELS, where="run r", error=TaskRefError)


def test_an_unknown_name_names_the_closest() -> None:
    with pytest.raises(TaskRefError, match=r"no task 'train-modle' in run r; did you mean 'train-model'"):
        resolve_label("train-modle", LABELS, where="run r", error=TaskRefError)
    with pytest.raises(TaskRefError, match="no task 'zzz' in run r; its tasks: cleanup, exit-handler-1"):
        resolve_label("zzz", LABELS, where="run r", error=TaskRefError)


def test_selecting_by_key_takes_every_copy() -> None:
    assert len(select_labels("train-model", LABELS)) == 3
    assert select_labels("train-model[1]", LABELS) == ["exit-handler-1/for-loop-3[1]/train-model"]
