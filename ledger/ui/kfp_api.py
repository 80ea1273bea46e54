"""The KFP v2beta1 REST API under `/apis/v2beta1/` over the served home: healthz, experiments, runs (started
as drivers of the home), recurring runs (listed empty, never created); pipelines are `kfp_pipelines`'."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ledger.store import check_run_id
from ledger.ui import kfp_documents as docs
from ledger.ui import kfp_pipelines
from ledger.ui.home import ServedHome
from ledger.ui.kfp_runs import Drivers, DriverStart
from ledger.ui.kfp_store import ApiStore, Document
from ledger.views import cli
from spec.errors import LedgerError, RunBusy

PREFIX = "/apis/v2beta1"
DEFAULT_EXPERIMENT = "Default"
# The driver's exit statuses once it has recorded the run: succeeded, failed, interrupted.
RECORDED_EXITS = (0, 1, 130)
Handler = Callable[[Request], Awaitable[Response]]
EXPERIMENT_KEYS = {
    "display_name": "display_name",
    "name": "display_name",
    "experiment_id": "experiment_id",
    "id": "experiment_id",
    "created_at": "created_at",
    "storage_state": "storage_state",
    "namespace": "namespace",
    "description": "description",
}
RUN_KEYS = {
    "display_name": "display_name",
    "name": "display_name",
    "run_id": "run_id",
    "id": "run_id",
    "state": "state",
    "storage_state": "storage_state",
    "experiment_id": "experiment_id",
    "created_at": "created_at",
    "finished_at": "finished_at",
    "description": "description",
}


def kfp_json(document: Any, *, status: int = 200) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False), status_code=status, media_type="application/json"
    )


def guarded(handler: Handler) -> Handler:
    """Refuses a write whose Content-Type is not JSON (a browser's form post never is), and answers an
    `ApiError` or a ledger error in the API server's error shape."""

    @functools.wraps(handler)
    async def handle(request: Request) -> Response:
        try:
            if request.method in ("POST", "DELETE", "PATCH", "PUT"):
                content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type != "application/json":
                    raise docs.ApiError(
                        "write requests must be sent with Content-Type: application/json",
                        http_status=415,
                        code=docs.CODE_INVALID_ARGUMENT,
                    )
            return await handler(request)
        except docs.ApiError as exc:
            return kfp_json(exc.to_json(), status=exc.http_status)
        except LedgerError as exc:
            return kfp_json(
                docs.ApiError(str(exc), http_status=500, code=docs.CODE_UNKNOWN).to_json(), status=500
            )

    return handle


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise docs.ApiInputError(f"Invalid input error: the request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise docs.ApiInputError("Invalid input error: the request body must be a JSON object")
    return body


class KfpApi:
    """The `/apis/v2beta1/...` routes over one home."""

    def __init__(self, home: ServedHome) -> None:
        self.home = home
        self.store = ApiStore(home.path)
        self.drivers = Drivers(home.path, self.store)
        self.pipelines = kfp_pipelines.Pipelines(home.path, self.store)

    def routes(self) -> list[BaseRoute]:
        run, experiment = f"{PREFIX}/runs/{{run_id}}", f"{PREFIX}/experiments/{{experiment_id}}"
        table: list[tuple[str, Handler, list[str]]] = [
            (f"{PREFIX}/healthz", self.healthz, ["GET"]),
            (f"{PREFIX}/experiments", self.list_experiments, ["GET"]),
            (f"{PREFIX}/experiments", self.create_experiment, ["POST"]),
            (f"{experiment}:archive", self.archive_experiment, ["POST"]),
            (f"{experiment}:unarchive", self.unarchive_experiment, ["POST"]),
            (experiment, self.get_experiment, ["GET"]),
            (experiment, self.delete_experiment, ["DELETE"]),
            (f"{PREFIX}/runs", self.list_runs, ["GET"]),
            (f"{PREFIX}/runs", self.create_run, ["POST"]),
            (f"{run}:terminate", self.terminate_run, ["POST"]),
            (f"{run}:retry", self.retry_run, ["POST"]),
            (f"{run}:archive", self.archive_run, ["POST"]),
            (f"{run}:unarchive", self.unarchive_run, ["POST"]),
            (run, self.get_run, ["GET"]),
            (run, self.delete_run, ["DELETE"]),
            (f"{PREFIX}/recurringruns", self.list_recurring_runs, ["GET"]),
            (f"{PREFIX}/recurringruns", self.unimplemented, ["POST"]),
            (f"{PREFIX}/recurringruns/{{recurring_run_id}}", self.recurring_run_not_found, ["GET", "DELETE"]),
        ]
        routes: list[BaseRoute] = [
            Route(path, guarded(handler), methods=methods) for path, handler, methods in table
        ]
        return routes + self.pipelines.routes(guarded)

    async def healthz(self, request: Request) -> Response:
        return kfp_json(
            {"multi_user": False, "pipeline_store": "local", "commit_sha": "", "tag_name": "local"}
        )

    async def unimplemented(self, request: Request) -> Response:
        raise docs.ApiError(
            f"{request.method} {request.url.path} is not served by local-pipelines: recurring runs"
            " need a scheduler, which a local server does not run (docs/kfp-api.md)",
            http_status=501,
            code=docs.CODE_UNIMPLEMENTED,
        )

    async def list_recurring_runs(self, request: Request) -> Response:
        return kfp_json({"total_size": 0})

    async def recurring_run_not_found(self, request: Request) -> Response:
        raise docs.not_found("RecurringRun", request.path_params["recurring_run_id"])

    # Experiments ---------------------------------------------------------------------------------------

    def default_experiment_id(self) -> str:
        """The `Default` experiment the API server creates at start, created here on first need."""

        def ensure(document: Document) -> str:
            for key, experiment in document["experiments"].items():
                if experiment.get("default"):
                    return key
            key = str(uuid.uuid4())
            document["experiments"][key] = _experiment(
                key, display_name=DEFAULT_EXPERIMENT, description="", namespace="", default=True
            )
            return key

        for key, experiment in self.store.read()["experiments"].items():
            if experiment.get("default"):
                return key
        return self.store.change(ensure)

    def experiment(self, experiment_id: str) -> dict[str, Any]:
        self.default_experiment_id()
        found = self.store.get("experiments", experiment_id)
        if found is None:
            raise docs.not_found("Experiment", experiment_id)
        return _public(found)

    async def create_experiment(self, request: Request) -> Response:
        body = await json_body(request)
        name = str(body.get("display_name") or "").strip()
        if not name:
            raise docs.ApiInputError(
                "Invalid input error: Experiment display_name is empty. Please specify a valid"
                " experiment name"
            )
        self.default_experiment_id()

        def create(document: Document) -> dict[str, Any]:
            if any(e.get("display_name") == name for e in document["experiments"].values()):
                raise docs.ApiError(
                    f"Already exist error: Failed to create a new experiment: an experiment named"
                    f" {name!r} already exists",
                    http_status=409,
                    code=docs.CODE_ALREADY_EXISTS,
                )
            key = str(uuid.uuid4())
            document["experiments"][key] = _experiment(
                key,
                display_name=name,
                description=str(body.get("description") or ""),
                namespace=str(body.get("namespace") or ""),
            )
            return document["experiments"][key]

        return kfp_json(_public(self.store.change(create)))

    async def list_experiments(self, request: Request) -> Response:
        self.default_experiment_id()
        experiments = [_public(e) for e in self.store.read()["experiments"].values()]
        return kfp_json(
            docs.listed(experiments, request.query_params, plural="experiments", keys=EXPERIMENT_KEYS)
        )

    async def get_experiment(self, request: Request) -> Response:
        return kfp_json(self.experiment(request.path_params["experiment_id"]))

    async def delete_experiment(self, request: Request) -> Response:
        experiment = self.experiment(request.path_params["experiment_id"])
        self.store.delete("experiments", experiment["experiment_id"])
        return kfp_json({})

    async def archive_experiment(self, request: Request) -> Response:
        return self._store_experiment(request, "ARCHIVED")

    async def unarchive_experiment(self, request: Request) -> Response:
        return self._store_experiment(request, "AVAILABLE")

    def _store_experiment(self, request: Request, storage_state: str) -> Response:
        """Archiving an experiment archives its runs, as the API server does; unarchiving restores only it."""
        experiment_id = self.experiment(request.path_params["experiment_id"])["experiment_id"]
        self.store.update("experiments", experiment_id, {"storage_state": storage_state})
        if storage_state == "ARCHIVED":
            for run in self.all_runs():
                if run["experiment_id"] == experiment_id:
                    self.store.update("runs", run["run_id"], {"storage_state": storage_state})
        return kfp_json({})

    # Runs ----------------------------------------------------------------------------------------------

    def all_runs(self) -> list[dict[str, Any]]:
        """Every run of the home (whatever started it) and every run created here that the driver has not
        recorded (yet, or ever: a rejected pipeline), without details."""
        document, _ = cli.runs_document(self.home.ledger)
        records = self.store.read()["runs"]
        default = self.default_experiment_id()
        resources = [
            self._resource(run["run_id"], run, records.get(run["run_id"], {}), default=default)
            for run in document["runs"]
        ]
        recorded = {run["run_id"] for run in document["runs"]}
        resources += [
            self._resource(run_id, None, record, default=default)
            for run_id, record in records.items()
            if run_id not in recorded and _unrecorded(record)
        ]
        return resources

    def _resource(
        self,
        run_id: str,
        ledger_run: dict[str, Any] | None,
        record: dict[str, Any],
        *,
        default: str,
        executions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        ledger_state = ledger_run.get("state") if ledger_run else None
        running = (
            self.drivers.running(run_id, record, recorded=ledger_state is not None)
            if record or ledger_state == "RUNNING"
            else False
        )
        state = docs.run_state(ledger_state, running=running, terminating=bool(record.get("terminating")))
        error = ""
        if state == "FAILED":
            error = self._run_error(run_id, ledger_state=ledger_state, executions=executions)
        record = {"experiment_id": default, **record}
        return docs.run_resource(run_id, ledger_run=ledger_run, record=record, state=state, error=error)

    def _run_error(
        self, run_id: str, *, ledger_state: str | None, executions: list[dict[str, Any]] | None
    ) -> str:
        if ledger_state is None:  # the driver refused the pipeline or its parameters: its last line says why
            lines = self.drivers.log_tail(run_id).splitlines()
            return lines[-1] if lines else "the driver stopped before it recorded the run"
        if ledger_state == "RUNNING":
            return docs.DRIVER_LOST
        return docs.failed_task_error(executions) if executions is not None else ""

    def run(self, run_id: str) -> dict[str, Any]:
        """The run with `run_details`; 404 when neither the ledger nor the API store knows it."""
        record = self.store.get("runs", run_id) or {}
        try:
            exists = self.home.ledger.storage.exists(self.home.ledger.run_path(check_run_id(run_id)))
        except LedgerError:
            exists = False
        default = self.default_experiment_id()
        if not exists:
            if not _unrecorded(record):
                raise docs.not_found("Run", run_id)
            return self._resource(run_id, None, record, default=default)
        shown = cli.show_document(self.home.view(run_id))
        resource = self._resource(
            run_id, shown["run"], record, default=default, executions=shown["executions"]
        )
        resource["run_details"] = {"task_details": docs.task_details(run_id, shown["executions"])}
        if record.get("pipeline_file") and not record.get("pipeline_version_reference"):
            resource["pipeline_spec"] = kfp_pipelines.spec_document(Path(record["pipeline_file"]))
        return resource

    async def get_run(self, request: Request) -> Response:
        return kfp_json(self.run(request.path_params["run_id"]))

    async def list_runs(self, request: Request) -> Response:
        runs = self.all_runs()
        experiment_id = request.query_params.get("experiment_id")
        if experiment_id:
            self.experiment(experiment_id)
            runs = [run for run in runs if run["experiment_id"] == experiment_id]
        return kfp_json(docs.listed(runs, request.query_params, plural="runs", keys=RUN_KEYS))

    async def create_run(self, request: Request) -> Response:
        body = await json_body(request)
        display_name = str(body.get("display_name") or "").strip()
        if not display_name:
            raise docs.ApiInputError(
                "Invalid input error: The run display name is empty. Please specify a valid name"
            )
        experiment_id = str(body.get("experiment_id") or "") or self.default_experiment_id()
        self.experiment(experiment_id)
        runtime_config = _runtime_config(body.get("runtime_config"))
        pipeline_file, reference = self.pipelines.file_to_run(body)
        run_id = str(uuid.uuid4())
        record = {
            "display_name": display_name,
            "experiment_id": experiment_id,
            "description": str(body.get("description") or ""),
            "service_account": str(body.get("service_account") or ""),
            "namespace": str(request.query_params.get("namespace") or ""),
            "storage_state": "AVAILABLE",
            "created_at": time.time(),
            "pipeline_file": str(pipeline_file),
            "pipeline_version_reference": reference,
            **runtime_config,
        }
        self.store.put("runs", run_id, record)
        self.drivers.start(
            DriverStart(
                run_id=run_id,
                pipeline_file=pipeline_file,
                run_name=display_name,
                parameters=runtime_config["parameters"],
                pipeline_root=runtime_config["pipeline_root"],
                no_cache=kfp_pipelines.caching_disabled(pipeline_file),
            )
        )
        return kfp_json(self.run(run_id))

    async def terminate_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        if run["state"] in docs.TERMINAL:
            return kfp_json({})
        record = self.store.update("runs", run["run_id"], {"terminating": True})
        if not self.drivers.interrupt(run["run_id"], record):
            raise docs.failed_precondition(
                f"Failed to terminate run {run['run_id']}: no driver process of it is"
                " known to this server (a run started from a shell stops with Ctrl-C)"
            )
        return kfp_json({})

    async def retry_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        if run["state"] not in ("FAILED", "CANCELED"):
            raise docs.failed_precondition(
                f"Failed to retry run {run['run_id']}: the run is {run['state']}; only a"
                " FAILED or CANCELED run can be retried"
            )
        if "run_details" not in run:
            raise docs.failed_precondition(
                f"Failed to retry run {run['run_id']}: the driver never recorded it"
                " (its pipeline or parameters were refused); create a new run"
            )
        self.store.update("runs", run["run_id"], {"terminating": False})
        self.drivers.resume(run["run_id"])
        return kfp_json({})

    async def archive_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        self.store.update("runs", run["run_id"], {"storage_state": "ARCHIVED"})
        return kfp_json({})

    async def unarchive_run(self, request: Request) -> Response:
        run = self.run(request.path_params["run_id"])
        self.store.update("runs", run["run_id"], {"storage_state": "AVAILABLE"})
        return kfp_json({})

    async def delete_run(self, request: Request) -> Response:
        """Forgets the run as `python -m ledger prune` does (journal, then API record); a running run is
        refused: terminate it first."""
        run = self.run(request.path_params["run_id"])
        if "run_details" in run:
            try:
                self.home.ledger.lock_run(run["run_id"])
            except RunBusy as exc:
                raise docs.failed_precondition(f"Failed to delete run {run['run_id']}: {exc}") from exc
            self.home.ledger.delete_run(run["run_id"])
        elif run["state"] == "PENDING":
            raise docs.failed_precondition(
                f"Failed to delete run {run['run_id']}: it is starting; terminate it"
            )
        self.store.delete("runs", run["run_id"])
        return kfp_json({})


def _unrecorded(record: dict[str, Any]) -> bool:
    """A run created here that its driver has not recorded: starting, or refused (exit status 2) or crashed
    before it did. A driver that ended 0, 1 or 130 had recorded it: gone from the ledger, it was pruned."""
    return bool(record.get("display_name")) and record.get("exit_code") not in RECORDED_EXITS


def _experiment(
    key: str, *, display_name: str, description: str, namespace: str, default: bool = False
) -> dict[str, Any]:
    return {
        "experiment_id": key,
        "display_name": display_name,
        "description": description,
        "namespace": namespace,
        "created_at": docs.rfc3339(time.time()),
        "storage_state": "AVAILABLE",
        "default": default,
    }


def _public(experiment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in experiment.items() if key != "default"}


def _runtime_config(config: Any) -> dict[str, Any]:
    """`parameters` (a JSON object of values) and `pipeline_root` of a run's `runtime_config`."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise docs.ApiInputError("Invalid input error: runtime_config must be an object")
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise docs.ApiInputError("Invalid input error: runtime_config.parameters must be an object")
    return {"parameters": parameters, "pipeline_root": str(config.get("pipeline_root") or "")}
