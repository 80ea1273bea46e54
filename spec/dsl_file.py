"""Pipelines given as Python rather than as a compiled file: a DSL file `FILE.py[:FUNCTION]` on a command
line (`python -m driver`, `launcher replay --pipeline`), or a pipeline function, a component or a
PipelineSpec handed to `run_pipeline`. Each is compiled with the installed kfp (imported only here, and
only then) and written to a directory of compiled files, named by its content, so that a run can be
explained, resumed or replayed from it later. It imports nothing of ours (`run_pipeline`'s process loads
it by path, driver/entry.own_module): its problems are `DslFileError`, which callers turn into theirs."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any


class DslFileError(Exception):
    """A DSL file or a pipeline object that cannot be compiled; the message names it and why."""


def is_dsl_file(pipeline: Path) -> bool:
    text = str(pipeline)
    return text.endswith(".py") or ".py:" in text


def compile_dsl_file(pipeline: Path, *, directory: Path) -> Path:
    """The compiled file of the pipeline FUNCTION in FILE (`FILE.py:FUNCTION`), or of FILE's only one."""
    text = str(pipeline)
    file, _, function = text.partition(".py:") if ".py:" in text else (text.removesuffix(".py"), "", "")
    source = Path(file + ".py")
    if not source.is_file():
        raise DslFileError(f"{source}: no such DSL file")
    chosen = _choose(_import(source), function=function, source=source)
    try:
        return write_compiled(chosen, directory=directory)
    except DslFileError as exc:
        raise DslFileError(f"{source}: {exc}") from None


def write_compiled(pipeline: Any, *, directory: Path) -> Path:
    """`pipeline` (a PipelineSpec, a pipeline function or a component) compiled into `directory`."""
    name, text = _compiled_text(pipeline)
    path = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            partial = path.with_suffix(f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
            partial.write_text(text)
            partial.replace(path)  # atomic: a concurrent call writing the same content never sees half a file
    except OSError as exc:
        raise DslFileError(f"{path}: cannot write the compiled pipeline there ({exc})") from exc
    return path


def _compiled_text(pipeline: Any) -> tuple[str, str]:
    """The file name and text of a PipelineSpec message (JSON), a pipeline function or a component (YAML,
    as kfp.compiler writes it, with its kfp-kubernetes settings)."""
    descriptor = getattr(pipeline, "DESCRIPTOR", None)
    if getattr(descriptor, "full_name", None) == "ml_pipelines.PipelineSpec":
        from google.protobuf import json_format

        text = json.dumps(json_format.MessageToDict(pipeline), indent=1)
        return f"{_safe(pipeline.pipeline_info.name)}-{_digest(text)}.json", text
    if hasattr(pipeline, "pipeline_spec") and hasattr(pipeline, "component_spec"):
        from kfp import compiler

        with tempfile.TemporaryDirectory(prefix="lpl-compile-") as scratch:
            path = Path(scratch) / "pipeline.yaml"
            try:
                compiler.Compiler().compile(pipeline, str(path))
            except Exception as exc:  # kfp's own errors (a default without a JSON form, a bad annotation)
                raise DslFileError(f"kfp cannot compile {pipeline.name!r}: {exc}") from exc
            text = path.read_text()
        return f"{_safe(str(pipeline.name))}-{_digest(text)}.yaml", text
    raise DslFileError(
        "run_pipeline takes a @dsl.pipeline function, a @dsl.component, the path of a compiled pipeline"
        f" file or a PipelineSpec, not {type(pipeline).__name__}"
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60] or "pipeline"


def _import(source: Path) -> ModuleType:
    """The DSL file run as a module, its directory first on sys.path (as `python FILE` would have it)."""
    module_spec = importlib.util.spec_from_file_location(f"lpl_dsl_{source.stem}", source)
    if module_spec is None or module_spec.loader is None:
        raise DslFileError(f"{source}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(source.parent.resolve()))
    try:
        module_spec.loader.exec_module(module)
    except BaseException as exc:  # the user's own code failed: its error, on one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise DslFileError(f"{source}: importing it raised {type(exc).__name__}: {exc}") from None
    return module


def _choose(module: ModuleType, *, function: str, source: Path) -> Any:
    from kfp.dsl.base_component import BaseComponent
    from kfp.dsl.graph_component import GraphComponent

    if function:
        chosen = getattr(module, function, None)
        if not isinstance(chosen, BaseComponent):
            raise DslFileError(f"{source}: {function!r} is not a @dsl.pipeline or @dsl.component there")
        return chosen
    pipelines = {name: obj for name, obj in vars(module).items() if isinstance(obj, GraphComponent)}
    own = {name: obj for name, obj in pipelines.items() if _defined_in(obj, module)} or pipelines
    if len(own) == 1:
        return next(iter(own.values()))
    if not own:
        raise DslFileError(f"{source}: no @dsl.pipeline function; name a component as {source}:NAME")
    names = ", ".join(sorted(own))
    raise DslFileError(f"{source} defines several pipelines ({names}): choose one as {source}:NAME")


def _defined_in(pipeline: Any, module: ModuleType) -> bool:
    func = getattr(pipeline, "pipeline_func", None)
    return getattr(func, "__module__", None) == module.__name__
