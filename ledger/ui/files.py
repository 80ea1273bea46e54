"""Which files the UI serves: regular files under the roots of the run that names them, and nothing else."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from ledger.run_header import RunHeader

# Every served file is its own sandbox: opened in a frame or on its own, it can run no script and reach
# nothing of the UI (not its pages, not its API).
FILE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def run_roots(home: Path, header: RunHeader) -> list[Path]:
    """Where a run's files may live: its pipeline root and workspace, the home's task directories (logs,
    ExecutorInputs), default pipeline root and volumes."""
    roots = [home / "runs", home / "pipeline_root", home / "volumes"]
    named = (header.pipeline_root, header.run_root, header.workspace)
    roots += [Path(root) for root in named if isinstance(root, str) and root and Path(root).is_absolute()]
    return roots


def file_url(run_id: str, path: str) -> str:
    """The URL under which the UI serves a run's local file (any path: serving decides)."""
    return f"/runs/{quote(run_id, safe='')}/files{quote(path)}"


def served_file(raw: str, *, roots: list[Path]) -> Path | None:
    """The file a request names (`raw`: the absolute path after `/files`, already percent-decoded) when it
    is a regular file inside one of `roots` once every symlink is resolved; otherwise None."""
    if "\x00" in raw or "\\" in raw:
        return None
    pure = PurePosixPath("/" + raw.lstrip("/"))
    if ".." in pure.parts:
        return None
    try:
        real = Path(pure).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
        return None
    if not real.is_file():
        return None
    for root in roots:
        try:
            if real.is_relative_to(root.resolve()):
                return real
        except (OSError, RuntimeError):
            continue
    return None
