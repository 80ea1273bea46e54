"""The HTML routes: each resolves what it shows and hands it to `ledger.views.pages`, which draws it."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ledger.lineage import artifact_uses
from ledger.model import RunView
from ledger.ui import files
from ledger.ui.home import ServedHome
from ledger.views import cli, pages, ui_assets
from ledger.views.sections import PageData
from spec.errors import LedgerError

# Pages may run only the UI's own script and talk only to the UI; user content stays in sandboxed frames.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
               " img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none';"
               " form-action 'self'; frame-ancestors 'none'")
_PAGE_HEADERS = {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
                 "Referrer-Policy": "no-referrer"}


def html(text: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_PAGE_HEADERS)


class Pages:
    """The HTML routes, the file route and the assets over one home."""

    def __init__(self, home: ServedHome) -> None:
        self.home = home

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.runs),
            Route("/runs-table", self.runs_table),
            Route("/compare", self.compare),
            Route("/assets/{name}", self.asset),
            Route("/runs/{run}", self.run),
            Route("/runs/{run}/live", self.run_live),
            Route("/runs/{run}/tasks/{execution:int}", self.task),
            Route("/runs/{run}/loops/{loop:int}", self.loop),
            Route("/runs/{run}/artifacts/{artifact:int}", self.artifact),
            Route("/runs/{run}/files/{path:path}", self.run_file),
        ]

    def _page(self, request: Request) -> PageData | Response:
        """The run the request names, with the links the UI gives files and artifacts; or the error page."""
        found = _view_or_page(self.home, request.path_params["run"])
        if isinstance(found, Response):
            return found
        run_id, base = found.run_id, pages.run_url(found.run_id)
        return PageData.of(found, home=self.home.path, file_url=lambda path: files.file_url(run_id, path),
                           artifact_url=lambda artifact: f"{base}/artifacts/{artifact.id}")

    async def runs(self, request: Request) -> Response:
        document, _ = cli.runs_document(self.home.ledger, view_of=self.home.view)
        chosen = {key: request.query_params.get(key, "") for key in ("pipeline", "state")}
        return html(pages.runs_page(document["runs"], **chosen))

    async def runs_table(self, request: Request) -> Response:
        document, _ = cli.runs_document(self.home.ledger, view_of=self.home.view)
        chosen = {key: request.query_params.get(key, "") for key in ("pipeline", "state")}
        return html(pages.runs_table(document["runs"], **chosen))

    async def run(self, request: Request) -> Response:
        page = self._page(request)
        return page if isinstance(page, Response) else html(pages.run_page(page))

    async def run_live(self, request: Request) -> Response:
        page = self._page(request)
        if isinstance(page, Response):
            return page
        return JSONResponse(pages.run_parts(page).to_json(), headers={"Cache-Control": "no-store"})

    async def task(self, request: Request) -> Response:
        page = self._page(request)
        if isinstance(page, Response):
            return page
        panel = pages.task_panel(page, request.path_params["execution"])
        if panel is None:
            return html(pages.not_found_page(f"no execution {request.path_params['execution']}"), status=404)
        return html(panel)

    async def loop(self, request: Request) -> Response:
        page = self._page(request)
        if isinstance(page, Response):
            return page
        return html(pages.loop_rows(page, request.path_params["loop"]))

    async def artifact(self, request: Request) -> Response:
        page = self._page(request)
        if isinstance(page, Response):
            return page
        artifact_id = request.path_params["artifact"]
        # Every journal of the home is searched: off the event loop, so the streams keep flowing.
        uses = await asyncio.to_thread(artifact_uses, self.home.ledger, artifact_id)
        shown = pages.artifact_page(page, artifact_id, uses=uses)
        if shown is None:
            return html(pages.not_found_page(f"no artifact {request.path_params['artifact']}"), status=404)
        return html(shown)

    async def compare(self, request: Request) -> Response:
        refs = [ref for value in request.query_params.getlist("runs") for ref in value.split(",") if ref]
        if len(refs) < 2:
            return html(pages.not_found_page("compare takes two runs or more: /compare?runs=A,B"), status=400)
        views = []
        for ref in refs:
            found = _view_or_page(self.home, ref)
            if isinstance(found, Response):
                return found
            views.append(found)
        return html(pages.compare_page(views))

    async def run_file(self, request: Request) -> Response:
        found = _view_or_page(self.home, request.path_params["run"])
        if isinstance(found, Response):
            return found
        roots = files.run_roots(self.home.path, found.header)
        path = files.served_file(request.path_params["path"], roots=roots)
        if path is None:
            return PlainTextResponse("not served: only files under the run's roots are", status_code=404)
        # An HTML artifact's file rarely has a suffix: the frame asks for it as HTML (sandboxed all the same).
        media = "text/html; charset=utf-8" if request.query_params.get("view") == "html" else None
        return FileResponse(path, headers=files.FILE_HEADERS, media_type=media)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ui_assets.ASSETS:
            return PlainTextResponse("no such asset", status_code=404)
        media, text = ui_assets.ASSETS[name]
        return Response(text, media_type=media, headers={"Cache-Control": "no-cache"})


def _view_or_page(home: ServedHome, ref: str) -> RunView | Response:
    try:
        run_id = home.resolve(ref)
    except LedgerError as exc:
        return html(pages.not_found_page(str(exc)), status=404)
    try:
        return home.view(run_id)
    except LedgerError as exc:  # damaged (LedgerCorrupt) or unreadable
        return html(pages.damaged_page(run_id, str(exc)), status=500)
