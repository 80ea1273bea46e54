"""How our entry points are started as processes: `python -m MODULE`, safe from the working directory.

Imports nothing of ours, so `driver.api` (run in the user's own process) can use it.
"""

from __future__ import annotations

import sys


def python_module(module: str) -> list[str]:
    """`python -m MODULE` that a file or package of that name in the working directory cannot replace.

    `-P` (Python 3.11+) keeps the working directory off sys.path; on 3.10 each of our `__main__` modules
    drops it itself, which covers everything but a top-level `launcher`/`driver`/`ledger` in that directory.
    """
    safe = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *safe, "-m", module]
