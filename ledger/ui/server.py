"""`python -m ledger ui`: the app (API, pages, files) behind a Host check, served by uvicorn."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.store import Ledger
from ledger.ui import api, kfp_api, pages
from ledger.ui.home import ServedHome
from spec.errors import LedgerError

EXIT_STOPPED, EXIT_ERROR = 0, 2
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class HostCheck:
    """Refuses (421) a request whose Host header names no address this server listens as: a page on another
    site that rebinds its DNS name to 127.0.0.1 reaches the port but not the data."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host", "").lower()
            if host not in self.allowed:
                refusal = PlainTextResponse(f"misdirected request: this server does not answer to {host!r}",
                                            status_code=421)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` and the `--host` address with the port."""
    names = {*LOOPBACK_NAMES, _bracketed(host)}
    return frozenset(f"{name.lower()}:{port}" for name in names)


def build_app(home: ServedHome, *, allowed: frozenset[str]) -> Starlette:
    """The routes of the API (`/api/...`), the KFP REST API (`/apis/v2beta1/...`, docs/kfp-api.md) and the
    pages, over the same `ServedHome`."""
    routes = [*api.Api(home).routes(), *kfp_api.KfpApi(home).routes(), *pages.Pages(home).routes()]
    return Starlette(routes=routes,
                     middleware=[Middleware(HostCheck, allowed=allowed)])


def serve(home: Path, *, host: str, port: int, open_browser: bool) -> int:
    """Serve until Ctrl-C; 2 with one line on stderr when the home cannot be opened or the port is taken.

    A home with no ledger yet gets an empty one: the UI shows no runs, and runs created through the KFP
    API (`kfp.Client`) are recorded there."""
    try:
        Ledger(home, create=True)
        served = ServedHome.open(home)
        listening = _bind(host, port)
    except (OSError, LedgerError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"python -m ledger ui: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return EXIT_ERROR
    port = listening.getsockname()[1]
    url = f"http://{_bracketed(host)}:{port}/"
    if not is_loopback(host):
        print(f"python -m ledger ui: warning: listening on {host}: anyone who reaches this machine on port"
              f" {port} can read every run of {served.path}", file=sys.stderr)
    app = build_app(served, allowed=allowed_hosts(host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    print(f"serving {served.path} at {url} (Ctrl-C stops)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    # Ctrl-C before uvicorn took the signal, or the one uvicorn raises again once it has shut down: the
    # server stops, as asked, without a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        _Server(config, stopping=served.stopping).run(sockets=[listening])
    print("stopped", flush=True)
    return EXIT_STOPPED


class _Server(uvicorn.Server):
    """uvicorn's server, telling the event streams when a signal asks it to stop."""

    def __init__(self, config: uvicorn.Config, *, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host.strip("[]"), port))
        listening.listen(128)
    except OSError:
        listening.close()
        raise
    listening.set_inheritable(True)
    return listening


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
