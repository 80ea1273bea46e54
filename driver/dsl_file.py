"""`python -m driver pipeline.py[:FUNCTION]`: a DSL file compiled with the installed kfp, then run (or
explained, or resumed) like the compiled file it makes, which is kept in `<home>/pipelines/` as
`run_pipeline` keeps one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from spec.errors import OptionError


def is_dsl_file(pipeline: Path) -> bool:
    text = str(pipeline)
    return text.endswith(".py") or ".py:" in text


def compile_dsl_file(pipeline: Path, *, home: Path) -> Path:
    """The compiled file of the pipeline FUNCTION in FILE (`FILE.py:FUNCTION`), or of FILE's only one."""
    from driver.api import RunPipelineError, materialize_pipeline

    text = str(pipeline)
    file, _, function = text.partition(".py:") if ".py:" in text else (text.removesuffix(".py"), "", "")
    source = Path(file + ".py")
    if not source.is_file():
        raise OptionError(f"{source}: no such DSL file")
    chosen = _choose(_import(source), function=function, source=source)
    try:
        return materialize_pipeline(chosen, directory=home.resolve() / "pipelines")
    except RunPipelineError as exc:  # kfp could not compile it
        raise OptionError(f"{source}: {exc}") from None


def _import(source: Path) -> ModuleType:
    """The DSL file run as a module, its directory first on sys.path (as `python FILE` would have it)."""
    module_spec = importlib.util.spec_from_file_location(f"lpl_dsl_{source.stem}", source)
    if module_spec is None or module_spec.loader is None:
        raise OptionError(f"{source}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(source.parent.resolve()))
    try:
        module_spec.loader.exec_module(module)
    except BaseException as exc:  # the user's own code failed: its error, on one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise OptionError(f"{source}: importing it raised {type(exc).__name__}: {exc}") from None
    return module


def _choose(module: ModuleType, *, function: str, source: Path) -> Any:
    from kfp.dsl.base_component import BaseComponent
    from kfp.dsl.graph_component import GraphComponent

    if function:
        chosen = getattr(module, function, None)
        if not isinstance(chosen, BaseComponent):
            raise OptionError(f"{source}: {function!r} is not a @dsl.pipeline or @dsl.component there")
        return chosen
    pipelines = {name: obj for name, obj in vars(module).items() if isinstance(obj, GraphComponent)}
    own = {name: obj for name, obj in pipelines.items() if _defined_in(obj, module)} or pipelines
    if len(own) == 1:
        return next(iter(own.values()))
    if not own:
        raise OptionError(f"{source}: no @dsl.pipeline function; name a component as {source}:NAME")
    names = ", ".join(sorted(own))
    raise OptionError(f"{source} defines several pipelines ({names}): choose one as {source}:NAME")


def _defined_in(pipeline: Any, module: ModuleType) -> bool:
    func = getattr(pipeline, "pipeline_func", None)
    return getattr(func, "__module__", None) == module.__name__
