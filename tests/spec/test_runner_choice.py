"""`--runner` and `--runner-for`: which runner each task goes to."""

from __future__ import annotations

import pytest

from spec.errors import OptionError
from spec.runner_choice import parse_runner_choice


def test_the_default_is_the_host_runner() -> None:
    assert parse_runner_choice(None, []).for_task(task_key="a", task_path="a", image="alpine") == "host"


def test_runner_for_matches_task_key_path_or_image_and_the_first_match_wins() -> None:
    choice = parse_runner_choice("host", ["train*=docker", "outer/*=docker", "alpine:*=docker", "*=host"])
    assert choice.for_task(task_key="train-model", task_path="train-model", image="python:3.11") == "docker"
    assert choice.for_task(task_key="prep", task_path="outer/prep", image="python:3.11") == "docker"
    assert choice.for_task(task_key="sh", task_path="sh", image="alpine:3.20") == "docker"
    assert choice.for_task(task_key="other", task_path="other", image="python:3.11") == "host"


def test_runner_for_overrides_the_runner_for_all() -> None:
    choice = parse_runner_choice("docker", ["report=host"])
    assert choice.for_task(task_key="report", task_path="report", image="x") == "host"
    assert choice.for_task(task_key="train", task_path="train", image="x") == "docker"


@pytest.mark.parametrize(
    ("default", "items", "message"),
    [
        ("warp", [], "--runner: no runner 'warp'"),
        (None, ["train"], "expected PATTERN=RUNNER"),
        (None, ["train=warp"], "no runner 'warp'"),
    ],
)
def test_bad_runner_options_are_refused(default: str | None, items: list[str], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_runner_choice(default, items)
