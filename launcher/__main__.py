"""`python -m launcher`: run one attempt of one task from the files the driver wrote."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("LPL_HOME", ".lpl")))
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--execution-id", type=int, required=True)
    parser.add_argument("--task-dir", type=Path, required=True)
    parser.add_argument("--attempt", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from launcher.launch import launch

    return launch(home=args.home, run_id=args.run_id, execution_id=args.execution_id, task_dir=args.task_dir,
                  attempt=args.attempt)


if __name__ == "__main__":
    sys.exit(main())
