"""Fixtures for the spec tests: pipelines compiled at test time with the pinned kfp, then read or damaged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler

CompilePipeline = Callable[..., Path]


@pytest.fixture
def compile_pipeline(tmp_path: Path) -> CompilePipeline:
    """Compile a DSL pipeline function into `tmp_path/<file_name>` (JSON or YAML by its suffix)."""

    def compile_to(pipeline_func: Any, *, file_name: str = "p.yaml") -> Path:
        path = tmp_path / file_name
        compiler.Compiler().compile(pipeline_func, str(path))
        return path

    return compile_to


@pytest.fixture
def compiled_dict(compile_pipeline: CompilePipeline) -> Callable[[Any], dict[str, Any]]:
    """The IR of a DSL pipeline function as a JSON dict, ready to be damaged by a test."""

    def compile_dict(pipeline_func: Any) -> dict[str, Any]:
        # YAML, because kfp deprecates compiling to JSON; the document is the same IR.
        data: dict[str, Any] = yaml.safe_load(compile_pipeline(pipeline_func).read_text())
        return data

    return compile_dict
