"""The JSON API: the CLI's `runs --json` and `show --json` documents, event streams, a log from an offset."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ledger import model
from ledger.store import check_run_id
from ledger.ui import events
from ledger.ui.home import ServedHome
from ledger.views import cli, describe
from spec.errors import LedgerError

LOG_CHUNK_BYTES = 256_000
# Served with every stream: no proxy or browser may buffer or cache it.
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def json_response(document: Any, *, status: int = 200) -> Response:
    """JSON as the CLI prints it off a terminal: one line, non-ASCII kept."""
    return Response(json.dumps(document, ensure_ascii=False), status_code=status,
                    media_type="application/json")


class Api:
    """The `/api/...` routes over one home."""

    def __init__(self, home: ServedHome) -> None:
        self.home = home

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/runs", self.list_runs),
            Route("/api/runs/events", self.runs_events),
            Route("/api/runs/{run}", self.show_run),
            Route("/api/runs/{run}/events", self.run_events),
            Route("/api/runs/{run}/executions/{execution:int}/log", self.task_log),
        ]

    async def list_runs(self, request: Request) -> Response:
        document, _ = cli.runs_document(self.home.ledger, view_of=self.home.view)
        return json_response(document)

    async def show_run(self, request: Request) -> Response:
        found = _view_or_error(self.home, request.path_params["run"])
        if isinstance(found, Response):
            return found
        return json_response(cli.show_document(found))

    async def run_events(self, request: Request) -> Response:
        ref = request.path_params["run"]
        try:
            run_id = self.home.resolve(ref)
        except LedgerError as exc:
            # An exact run id not recorded yet is followed until a driver creates it (`--run-id`).
            try:
                run_id = check_run_id(ref)
            except LedgerError:
                return json_response({"error": str(exc)}, status=404)
        stream = events.run_events(self.home.ledger, run_id, stopping=self.home.stopping)
        return StreamingResponse(events.with_heartbeat(stream), media_type="text/event-stream",
                                 headers=_STREAM_HEADERS)

    async def runs_events(self, request: Request) -> Response:
        stream = events.runs_events(self.home.ledger, stopping=self.home.stopping)
        return StreamingResponse(events.with_heartbeat(stream), media_type="text/event-stream",
                                 headers=_STREAM_HEADERS)

    async def task_log(self, request: Request) -> Response:
        found = _view_or_error(self.home, request.path_params["run"])
        if isinstance(found, Response):
            return found
        execution = found.executions.get(int(request.path_params["execution"]))
        if execution is None:
            return json_response({"error": f"no execution {request.path_params['execution']}"}, status=404)
        offset = _int(request.query_params.get("offset"), default=0)
        path = describe.log_file(found, execution)
        text, size = _read_from(path, offset=offset) if path else ("", 0)
        return json_response({"execution_id": execution.id, "state": execution.state, "offset": offset,
                              "size": size, "text": text})


def _view_or_error(home: ServedHome, ref: str) -> model.RunView | Response:
    try:
        run_id = home.resolve(ref)
    except LedgerError as exc:
        return json_response({"error": f"{exc} (python -m ledger runs lists them)"}, status=404)
    try:
        return home.view(run_id)
    except LedgerError as exc:  # damaged (LedgerCorrupt) or unreadable
        return json_response({"error": str(exc), "run_id": run_id, "state": "DAMAGED"}, status=500)


def _read_from(path: Any, *, offset: int) -> tuple[str, int]:
    """The log's bytes from `offset` (at most a chunk) as text, and its size now."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, offset))
            data = file.read(LOG_CHUNK_BYTES)
            size = file.seek(0, 2)
    except OSError:
        return "", 0
    return data.decode("utf-8", errors="replace"), min(size, max(0, offset) + len(data))


def _int(text: str | None, *, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
