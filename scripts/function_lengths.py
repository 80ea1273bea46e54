"""Lists every function over LIMIT lines (default 60) in the packages; exits 1 when there is one."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("spec", "driver", "launcher", "ledger")
GENERATED = "_pb2"  # protobuf modules: not ours to split


def long_functions(root: Path, *, limit: int) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if GENERATED in path.name:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > limit:
                        where = f"{path.relative_to(root)}:{node.lineno}"
                        found.append(f"{where}: {node.name} has {length} lines")
    return found


def main(argv: list[str]) -> int:
    limit = int(argv[0]) if argv else 60
    found = long_functions(Path(__file__).resolve().parent.parent, limit=limit)
    print("\n".join(found) or f"no function over {limit} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
