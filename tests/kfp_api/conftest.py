"""Fixtures of the KFP REST API tests: the real `python -m ledger ui` over a fresh home, and the real
`kfp.Client` pointed at it.

- `kfp_home` is a home holding an empty ledger (the server serves only a home that has one).
- `kfp_server` is `tests.ui.server.UiServer` over it, for the session; the fixture checks Ctrl-C stops it.
- `client` is `kfp.Client(host=<the server's URL>)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.store import Ledger
from tests.ui.server import UiServer, start_ui


@pytest.fixture(scope="session")
def kfp_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("kfp-home")
    Ledger(home, create=True)
    return home


@pytest.fixture(scope="session")
def kfp_server(kfp_home: Path) -> Iterator[UiServer]:
    server = start_ui(kfp_home)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def client(kfp_server: UiServer) -> Any:
    from kfp.client import Client

    with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later": said every time
        warnings.simplefilter("ignore", FutureWarning)
        return Client(host=kfp_server.url.rstrip("/"))
