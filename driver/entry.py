"""How our entry points are started as processes: `python -m MODULE`, safe from the working directory.

Imports nothing of ours, so `driver.user.api` (run in the user's own process) can use it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

# Set by `run_pipeline` to its own pid in the driver's environment: the driver stops as on Ctrl-C when that
# process dies (driver/run/run.py); the driver takes it out of its environment, so no task ever sees it.
CALLER_VARIABLE = "LPL_STOP_WITH_CALLER"


def python_module(module: str) -> list[str]:
    """`python -m MODULE` that a file or package of that name in the working directory cannot replace.

    `-P` (Python 3.11+) keeps the working directory off sys.path. Python 3.10 has no `-P`: there the module
    is run from `-c`, which takes the working directory (`''`, sys.path's first entry) off before it imports
    anything, so a user's own `launcher.py` or `driver/` cannot replace ours either.
    """
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    run = f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", f"import runpy, sys; del sys.path[0]; {run}"]


def own_module(dotted: str) -> Any:
    """Our module `dotted` (`spec.labels`), loaded from this installation under a private name, for
    `driver.user.api` in the user's own process: there `spec` may be the user's own `spec.py`. Only for
    modules that import nothing of ours."""
    name = "_local_pipelines_" + dotted.replace(".", "_")
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent.joinpath(*dotted.split(".")).with_suffix(".py")
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"no module {dotted} at {path}")
        module: ModuleType = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    return sys.modules[name]
