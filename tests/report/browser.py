"""Headless chromium for the report tests: the flags that keep it offline and quiet, and one way to run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

HEADLESS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
]


def run_chromium(binary: str, *args: str, profile: Path,
                 timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run headless chromium with a throwaway profile; stderr carries the page's console messages."""
    command = [binary, *HEADLESS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
