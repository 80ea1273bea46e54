"""`lpl`, the console script: one command for the driver, the ledger and the launcher's replay.

    lpl run PIPELINE [options]       python -m driver PIPELINE [options]   (run, --explain, --resume)
    lpl replay --run ID --task KEY   python -m launcher replay ...
    lpl COMMAND [args]               python -m ledger COMMAND [args]       (runs, show, execution, log, ...)

A console script starts with its own directory first on sys.path, not the working directory, so files in
the user's project (a `spec.py`, a `ledger/`) never shadow our packages.
"""

from __future__ import annotations

import os
import sys

USAGE = __doc__.split("\n\n")[1] if __doc__ else ""


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(f"usage: lpl COMMAND [args]\n\n{USAGE}\n\n`lpl run --help` and `lpl COMMAND --help` say more.")
        return 0 if arguments else 2
    subcommand, rest = arguments[0], arguments[1:]
    if subcommand == "run":
        from driver.__main__ import _exit_now
        from driver.__main__ import main as driver_main

        _exit_now(driver_main(rest))
    if subcommand == "replay":
        # The driver never imports the launcher: the replay runs in the launcher's own entry point.
        from driver.entry import python_module

        command = [*python_module("launcher"), "replay", *rest]
        os.execv(command[0], command)
    from ledger.views.cli import main as ledger_main

    return ledger_main(arguments, prog="lpl")
