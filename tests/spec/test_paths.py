"""spec/paths.py: a path named by a pipeline file stays inside its root after `..` and symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from spec import paths
from spec.errors import PathEscapeError


def test_a_plain_sub_path_stays_inside(tmp_path: Path) -> None:
    assert paths.contained(tmp_path, "a/b", what="x") == tmp_path.resolve() / "a" / "b"


@pytest.mark.parametrize("relative", ["..", "../x", "a/../../x", "/", "/etc"])
def test_climbing_out_or_an_absolute_path_escapes(tmp_path: Path, relative: str) -> None:
    with pytest.raises(PathEscapeError, match="escapes"):
        paths.contained(tmp_path / "root", relative, what="sub-path")


def test_a_symlink_inside_that_leads_out_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(PathEscapeError, match="'out/x' escapes"):
        paths.contained(root, "out/x", what="sub-path")


def test_a_root_reached_through_a_symlink_is_still_inside(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert paths.contained(tmp_path / "link", "a", what="x") == tmp_path.resolve() / "real" / "a"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("a/b", None), ("../a", "must not contain '..'"), ("/a", "must be a relative path")],
)
def test_sub_paths_follow_kubernetes_rules(text: str, problem: str | None) -> None:
    assert paths.sub_path_problem(text) == problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [("/data", None), ("data", "must be an absolute path"), ("/data/../etc", "must not contain '..'")],
)
def test_mount_paths_are_absolute_without_climbing(text: str, problem: str | None) -> None:
    assert paths.mount_path_problem(text) == problem
