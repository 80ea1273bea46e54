"""The commands that reproduce, replay or finish a task of a recorded run, as a user would type them."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from ledger.model import FAILED, RUNNING, Execution, RunView


def explain_options(view: RunView, *, home: Path | None) -> str:
    """` --from-run RUN -p NAME=VALUE ...`: what makes `--explain` see the recorded run."""
    options = [f"--from-run {shlex.quote(view.run_id)}"]
    if home is not None:
        options.append(f"--home {shlex.quote(str(home))}")
    parameters = view.header.parameters
    for name, value in sorted(parameters.items()):
        text = value if isinstance(value, str) else json.dumps(value)
        options.append(f"-p {shlex.quote(f'{name}={text}')}")
    return "".join(f" {option}" for option in options)


def task_commands(view: RunView, execution: Execution, *, label: str,
                  home: Path | None) -> list[tuple[str, str]]:
    """(what it does, the command) for one task: explain it, replay it, and resume its run if it did not
    succeed."""
    source = view.header.source or "PIPELINE"
    at_home = f" --home {shlex.quote(str(home))}" if home is not None else ""
    commands = [
        ("explain", f"python -m driver {shlex.quote(source)} --explain --task {shlex.quote(label)}"
                    f"{explain_options(view, home=home)}"),
        # By execution id: the one form that names a single copy of a task inside a loop.
        ("replay", f"python -m launcher replay --run {shlex.quote(view.run_id)}"
                   f" --task {execution.id}{at_home}"),
    ]
    if view.state not in ("COMPLETE", RUNNING) or execution.state == FAILED:
        commands.append(("resume", f"python -m driver --resume {shlex.quote(view.run_id)}{at_home}"))
    return commands
