"""Pipelines and pipeline versions of the KFP REST API: uploaded compiled files kept under
`<home>/pipelines/`, their records in the API store; and the file a new run executes (an inline spec or a
version's)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ledger.ui import kfp_documents as docs
from ledger.ui.kfp_runs import write_pipeline_file
from ledger.ui.kfp_store import ApiStore, Document

PREFIX = "/apis/v2beta1/pipelines"
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
Handler = Callable[[Request], Awaitable[Response]]
PIPELINE_KEYS = {
    "display_name": "display_name",
    "name": "name",
    "pipeline_id": "pipeline_id",
    "id": "pipeline_id",
    "created_at": "created_at",
    "namespace": "namespace",
    "description": "description",
}
VERSION_KEYS = {**PIPELINE_KEYS, "pipeline_version_id": "pipeline_version_id", "id": "pipeline_version_id"}


def _json(document: Any) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), media_type="application/json")


def load_package(data: bytes, *, source: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The pipeline spec and the platform spec (or None) of a compiled file (JSON or YAML, as kfp writes it),
    or of the `pipeline_spec` object `kfp.Client` sends (the spec, or `{pipeline_spec, platform_spec}`)."""
    try:
        documents = [json.loads(data)]
    except ValueError:
        import yaml  # only YAML files pay for it

        try:
            documents = [
                d for d in yaml.safe_load_all(data.decode("utf-8", errors="replace")) if d is not None
            ]
        except yaml.YAMLError as exc:
            raise docs.ApiInputError(
                f"Invalid input error: {source} is neither JSON nor YAML: {exc}"
            ) from exc
    return split_specs(documents[0] if documents else None, documents[1:], source=source)


def split_specs(first: Any, rest: list[Any], *, source: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if isinstance(first, dict) and "pipeline_spec" in first:
        rest, first = [first.get("platform_spec") or {}], first["pipeline_spec"]
    if not isinstance(first, dict) or "root" not in first or "pipelineInfo" not in first:
        raise docs.ApiInputError(
            f"Invalid input error: {source} is not a compiled KFP v2 pipeline (a PipelineSpec"
            " with pipelineInfo and root)"
        )
    platform = rest[0] if rest and isinstance(rest[0], dict) and rest[0] else None
    return first, platform


def spec_document(pipeline_file: Path) -> dict[str, Any] | None:
    """The `pipeline_spec` field of a version or a run: the spec, or `{pipeline_spec, platform_spec}` as
    `kfp.Client` sends it; None when the file is gone."""
    try:
        pipeline_spec, platform_spec = load_package(pipeline_file.read_bytes(), source=str(pipeline_file))
    except (OSError, docs.ApiError):
        return None
    return (
        {"pipeline_spec": pipeline_spec, "platform_spec": platform_spec} if platform_spec else pipeline_spec
    )


def caching_disabled(pipeline_file: Path) -> bool:
    """Whether no task asks for caching: how `kfp.Client(enable_caching=False)` writes the spec (it turns each
    task's `cachingOptions.enableCache` off, and false is left out of the JSON); run with `--no-cache`."""
    try:
        pipeline_spec, _ = load_package(pipeline_file.read_bytes(), source=str(pipeline_file))
    except (OSError, docs.ApiError):
        return False
    dags = [pipeline_spec.get("root") or {}, *(pipeline_spec.get("components") or {}).values()]
    tasks = [task for dag in dags for task in ((dag.get("dag") or {}).get("tasks") or {}).values()]
    return bool(tasks) and not any((task.get("cachingOptions") or {}).get("enableCache") for task in tasks)


def same_origin(request: Request) -> bool:
    """A request with no `Origin` (kfp.Client, curl) or one from the server's own pages; a page elsewhere that
    posts a form here sends its own origin, and is refused."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


async def uploaded_file(request: Request) -> tuple[bytes, str]:
    """The `uploadfile` part of a multipart/form-data body, and its file name."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise docs.ApiInputError(
            "Invalid input error: upload the pipeline as multipart/form-data (uploadfile)"
        )
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise docs.ApiInputError(f"Invalid input error: the upload exceeds {MAX_UPLOAD_BYTES} bytes")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "uploadfile":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload, part.get_filename() or "pipeline"
    raise docs.ApiInputError("Invalid input error: the upload has no uploadfile part")


class Pipelines:
    """The `/apis/v2beta1/pipelines/...` routes."""

    def __init__(self, home: Path, store: ApiStore) -> None:
        self.home = home
        self.store = store

    def routes(self, guarded: Callable[[Handler], Handler]) -> list[BaseRoute]:
        pipeline, version = (
            f"{PREFIX}/{{pipeline_id}}",
            f"{PREFIX}/{{pipeline_id}}/versions/{{pipeline_version_id}}",
        )
        table: list[tuple[str, Handler, list[str]]] = [
            (f"{PREFIX}", self.list_pipelines, ["GET"]),
            (f"{PREFIX}/names/{{name}}", self.get_pipeline_by_name, ["GET"]),
            (pipeline, self.get_pipeline, ["GET"]),
            (pipeline, self.delete_pipeline, ["DELETE"]),
            (f"{pipeline}/versions", self.list_versions, ["GET"]),
            (version, self.get_version, ["GET"]),
            (version, self.delete_version, ["DELETE"]),
            (f"{PREFIX}", self.unimplemented, ["POST"]),
            (f"{PREFIX}/create", self.unimplemented, ["POST"]),
            (f"{pipeline}/versions", self.unimplemented, ["POST"]),
        ]
        uploads: list[BaseRoute] = [
            Route(f"{PREFIX}/upload", self._upload_guard(self.upload), methods=["POST"]),
            Route(f"{PREFIX}/upload_version", self._upload_guard(self.upload_version), methods=["POST"]),
        ]
        return uploads + [Route(path, guarded(handler), methods=methods) for path, handler, methods in table]

    def _upload_guard(self, handler: Handler) -> Handler:
        """Uploads come as multipart (no JSON to insist on): refused unless same-origin."""

        async def handle(request: Request) -> Response:
            try:
                if not same_origin(request):
                    raise docs.ApiError("cross-origin upload refused", http_status=403, code=7)
                return await handler(request)
            except docs.ApiError as exc:
                return Response(
                    json.dumps(exc.to_json()), status_code=exc.http_status, media_type="application/json"
                )

        return handle

    async def unimplemented(self, request: Request) -> Response:
        raise docs.ApiError(
            f"{request.method} {request.url.path} is not served by local-pipelines: create"
            " pipelines by uploading the compiled file (upload, upload_version; docs/kfp-api.md)",
            http_status=501,
            code=docs.CODE_UNIMPLEMENTED,
        )

    # Reading -------------------------------------------------------------------------------------------

    def pipeline(self, pipeline_id: str) -> dict[str, Any]:
        found = self.store.get("pipelines", pipeline_id)
        if found is None:
            raise docs.not_found("Pipeline", pipeline_id)
        return found

    def version(self, pipeline_id: str, version_id: str) -> dict[str, Any]:
        found = self.store.get("versions", version_id)
        if found is None or (pipeline_id and found.get("pipeline_id") != pipeline_id):
            raise docs.not_found("PipelineVersion", version_id)
        return found

    def versions_of(self, pipeline_id: str) -> list[dict[str, Any]]:
        versions = self.store.read()["versions"].values()
        return [version for version in versions if version.get("pipeline_id") == pipeline_id]

    async def list_pipelines(self, request: Request) -> Response:
        pipelines = list(self.store.read()["pipelines"].values())
        return _json(docs.listed(pipelines, request.query_params, plural="pipelines", keys=PIPELINE_KEYS))

    async def get_pipeline(self, request: Request) -> Response:
        return _json(self.pipeline(request.path_params["pipeline_id"]))

    async def get_pipeline_by_name(self, request: Request) -> Response:
        name = request.path_params["name"]
        for pipeline in self.store.read()["pipelines"].values():
            if name in (pipeline.get("name"), pipeline.get("display_name")):
                return _json(pipeline)
        raise docs.not_found("Pipeline", name)

    async def list_versions(self, request: Request) -> Response:
        pipeline_id = self.pipeline(request.path_params["pipeline_id"])["pipeline_id"]
        versions = [_public_version(v) for v in self.versions_of(pipeline_id)]
        return _json(
            docs.listed(versions, request.query_params, plural="pipeline_versions", keys=VERSION_KEYS)
        )

    async def get_version(self, request: Request) -> Response:
        version = self.version(request.path_params["pipeline_id"], request.path_params["pipeline_version_id"])
        return _json(
            {**_public_version(version), "pipeline_spec": spec_document(Path(version["pipeline_file"]))}
        )

    # Writing -------------------------------------------------------------------------------------------

    async def delete_pipeline(self, request: Request) -> Response:
        """Refused while the pipeline has versions, unless `cascade=true`, as the API server does."""
        pipeline_id = self.pipeline(request.path_params["pipeline_id"])["pipeline_id"]
        versions = self.versions_of(pipeline_id)
        if versions and request.query_params.get("cascade", "").lower() != "true":
            raise docs.failed_precondition(
                f"Failed to delete pipeline {pipeline_id}: it has {len(versions)}"
                " version(s); delete them first or pass cascade=true"
            )

        def delete(document: Document) -> None:
            document["pipelines"].pop(pipeline_id, None)
            for version in versions:
                document["versions"].pop(version["pipeline_version_id"], None)

        self.store.change(delete)
        return _json({})

    async def delete_version(self, request: Request) -> Response:
        version = self.version(request.path_params["pipeline_id"], request.path_params["pipeline_version_id"])
        self.store.delete("versions", version["pipeline_version_id"])
        return _json({})

    async def upload(self, request: Request) -> Response:
        data, filename = await uploaded_file(request)
        pipeline_spec, platform_spec = load_package(data, source=filename)
        query = request.query_params
        name = (
            query.get("name")
            or query.get("display_name")
            or str(pipeline_spec["pipelineInfo"].get("name") or filename)
        )
        path = write_pipeline_file(self.home, pipeline_spec=pipeline_spec, platform_spec=platform_spec)
        pipeline_id, version_id = str(uuid.uuid4()), str(uuid.uuid4())
        pipeline = {
            "pipeline_id": pipeline_id,
            "name": name,
            "display_name": query.get("display_name") or name,
            "description": query.get("description") or "",
            "namespace": query.get("namespace") or "",
            "created_at": docs.rfc3339(time.time()),
        }
        version = self._version_record(
            pipeline, version_id, name=name, path=path, description=query.get("description") or ""
        )

        def create(document: Document) -> None:
            if any(p.get("name") == name for p in document["pipelines"].values()):
                raise docs.ApiError(
                    f"Already exist error: Failed to create a pipeline: a pipeline named {name!r}"
                    " already exists (upload a version of it instead)",
                    http_status=409,
                    code=docs.CODE_ALREADY_EXISTS,
                )
            document["pipelines"][pipeline_id] = pipeline
            document["versions"][version_id] = version

        self.store.change(create)
        return _json(pipeline)

    async def upload_version(self, request: Request) -> Response:
        data, filename = await uploaded_file(request)
        query = request.query_params
        pipeline = self.pipeline(query.get("pipelineid") or "")
        pipeline_spec, platform_spec = load_package(data, source=filename)
        name = query.get("name") or query.get("display_name") or filename
        path = write_pipeline_file(self.home, pipeline_spec=pipeline_spec, platform_spec=platform_spec)
        version_id = str(uuid.uuid4())
        version = self._version_record(
            pipeline, version_id, name=name, path=path, description=query.get("description") or ""
        )

        def create(document: Document) -> None:
            if any(
                v.get("pipeline_id") == pipeline["pipeline_id"] and v.get("name") == name
                for v in document["versions"].values()
            ):
                raise docs.ApiError(
                    f"Already exist error: Failed to create a pipeline version: {name!r} exists",
                    http_status=409,
                    code=docs.CODE_ALREADY_EXISTS,
                )
            document["versions"][version_id] = version

        self.store.change(create)
        return _json(_public_version(version))

    @staticmethod
    def _version_record(
        pipeline: dict[str, Any], version_id: str, *, name: str, path: Path, description: str
    ) -> dict[str, Any]:
        return {
            "pipeline_id": pipeline["pipeline_id"],
            "pipeline_version_id": version_id,
            "name": name,
            "display_name": name,
            "description": description,
            "created_at": docs.rfc3339(time.time()),
            "pipeline_file": str(path),
        }

    # Runs ----------------------------------------------------------------------------------------------

    def file_to_run(self, run: dict[str, Any]) -> tuple[Path, dict[str, str] | None]:
        """The compiled file a new run executes and its `pipeline_version_reference` (None for an inline
        spec): the inline `pipeline_spec` written under `<home>/pipelines/`, or the referenced version's file
        (the pipeline's newest version when only `pipeline_id` is given)."""
        inline, reference = run.get("pipeline_spec"), run.get("pipeline_version_reference")
        if inline and reference:
            raise docs.ApiInputError(
                "Invalid input error: give either pipeline_spec or pipeline_version_reference"
            )
        if inline:
            pipeline_spec, platform_spec = split_specs(inline, [], source="pipeline_spec")
            return write_pipeline_file(
                self.home, pipeline_spec=pipeline_spec, platform_spec=platform_spec
            ), None
        if not isinstance(reference, dict) or not reference.get("pipeline_id"):
            raise docs.ApiInputError(
                "Invalid input error: a run needs a pipeline_spec or a"
                " pipeline_version_reference with a pipeline_id"
            )
        pipeline_id = str(reference["pipeline_id"])
        self.pipeline(pipeline_id)
        version_id = str(reference.get("pipeline_version_id") or "")
        if not version_id:
            versions = sorted(self.versions_of(pipeline_id), key=lambda v: str(v.get("created_at")))
            if not versions:
                raise docs.not_found("PipelineVersion", f"(any of pipeline {pipeline_id})")
            version_id = versions[-1]["pipeline_version_id"]
        version = self.version(pipeline_id, version_id)
        return Path(version["pipeline_file"]), {"pipeline_id": pipeline_id, "pipeline_version_id": version_id}


def _public_version(version: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in version.items() if key != "pipeline_file"}
