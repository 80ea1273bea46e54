"""`ledger.ui.kfp_store`: concurrent changes from threads and processes are all kept."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from ledger.ui.kfp_store import ApiStore
from tests.cli import REPO_ROOT

WRITER = """
import sys
from pathlib import Path
from ledger.ui.kfp_store import ApiStore
store = ApiStore(Path(sys.argv[1]))
for index in range(20):
    store.update("runs", f"{sys.argv[2]}-{index}", {"display_name": sys.argv[2]})
"""


def test_concurrent_updates_from_threads_and_processes_are_all_kept(tmp_path: Path) -> None:
    store = ApiStore(tmp_path)
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"p{n}"], cwd=REPO_ROOT)
        for n in range(2)
    ]
    threads = [
        threading.Thread(target=lambda n=n: [store.update("runs", f"t{n}-{i}", {"n": i}) for i in range(20)])
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [process.wait(timeout=60) for process in processes] == [0, 0]
    assert len(store.read()["runs"]) == 5 * 20
    assert not list(tmp_path.joinpath("api").glob(".store-*"))  # no temporary file left behind
