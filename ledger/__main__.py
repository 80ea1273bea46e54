"""`python -m ledger`: inspect the runs recorded in a home (see `ledger.views.cli`)."""

import os
import sys

# `python -m` puts the working directory first on sys.path, where a user's own `spec.py` would shadow our
# packages: drop it before importing them, unless our packages live there (a checkout run in place).
if sys.path and sys.path[0] == os.getcwd() != os.path.dirname(os.path.dirname(os.path.abspath(__file__))):
    del sys.path[0]


def _main() -> int:
    from ledger.views.cli import main

    return main()


sys.exit(_main())
