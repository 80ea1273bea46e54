"""dsl.importer end to end: constant, remote and runtime URIs, metadata, reuse across runs, branches."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.model import CACHED, COMPLETE, FAILED, IMPORTER_EXECUTION
from tests.e2e.finished_run import CompilePipeline, FinishedRun, run_driver

BUCKET = "gs://lpl-test-bucket"
PLACEHOLDER = "/lpl-test-placeholder/local.txt"  # tests/pipelines/importers.py: LOCAL_PLACEHOLDER


@dataclass
class ImporterRuns:
    files: Path
    first: FinishedRun
    second: FinishedRun


@pytest.fixture(scope="module")
def importer_setup(
    compile_pipeline: CompilePipeline, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Data files (local, runtime, a 'bucket' copy) and the pipeline pointed at the local one."""
    files = tmp_path_factory.mktemp("importer-files")
    (files / "local.txt").write_text("local data")
    (files / "runtime.txt").write_text("runtime data")
    (files / "bucket" / "data").mkdir(parents=True)
    (files / "bucket" / "data" / "greeting.txt").write_text("hello from the bucket")
    package = files / "importers.json"
    compiled = compile_pipeline("importers").read_text()
    package.write_text(compiled.replace(PLACEHOLDER, str(files / "local.txt")))
    return files, package


@pytest.fixture(scope="module")
def mounted_runs(importer_setup: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> ImporterRuns:
    """Two runs in one home, with the bucket mounted."""
    files, package = importer_setup
    home = tmp_path_factory.mktemp("importer-home")
    args = ("-p", f"data_uri={files / 'runtime.txt'}", "--mount", f"{BUCKET}={files / 'bucket'}")
    first = run_driver(package, *args, home=home, run_id="first")
    second = run_driver(package, *args, home=home, run_id="second")
    assert first.returncode == 0, first.output
    assert second.returncode == 0, second.output
    return ImporterRuns(files=files, first=first, second=second)


def _imported(run: FinishedRun, task_name: str) -> tuple[int, str, str, dict[str, object]]:
    importer = run.execution(task_name, type=IMPORTER_EXECUTION)
    assert importer.state == COMPLETE
    (artifact,) = run.view.artifacts_of(importer.id, "OUTPUT")["artifact"]
    return artifact.id, artifact.type, artifact.uri, artifact.properties


def test_a_constant_local_uri_is_imported_and_read_in_place(mounted_runs: ImporterRuns) -> None:
    run, files = mounted_runs.first, mounted_runs.files
    artifact_id, schema_title, uri, properties = _imported(run, "importer")
    assert (schema_title, uri) == ("system.Dataset", str(files / "local.txt"))
    assert properties["origin"] == "local"
    received = run.probe("local")
    assert (received["content"], received["uri"], received["path"]) == ("local data", uri, uri)
    assert received["name"] == str(artifact_id)  # an input artifact's name is its ledger id, as in MLMD
    assert received["metadata"] == {"origin": "local"}


def test_a_mounted_gs_uri_is_read_from_the_mapped_directory(mounted_runs: ImporterRuns) -> None:
    run, files = mounted_runs.first, mounted_runs.files
    _, _, uri, properties = _imported(run, "importer-2")
    assert uri == str(files / "bucket" / "data" / "greeting.txt")
    assert (properties["origin"], properties["count"]) == ("bucket", 3)
    received = run.probe("bucket")
    assert received["content"] == "hello from the bucket"
    assert received["metadata"] == {"origin": "bucket", "count": 3}  # a whole number stays an int


def test_a_runtime_uri_and_parameter_metadata_come_from_the_pipeline_parameters(
    mounted_runs: ImporterRuns,
) -> None:
    run, files = mounted_runs.first, mounted_runs.files
    _, _, uri, properties = _imported(run, "importer-3")
    assert uri == str(files / "runtime.txt")
    assert properties["origin"] == "parameter"
    assert run.probe("runtime")["content"] == "runtime data"
    assert run.probe("runtime")["metadata"] == {"origin": "parameter"}


def test_reimport_false_reuses_the_artifact_across_runs_and_reimport_true_does_not(
    mounted_runs: ImporterRuns,
) -> None:
    first, second = mounted_runs.first, mounted_runs.second
    for task_name in ("importer", "importer-2", "importer-3"):
        assert _imported(second, task_name)[0] == _imported(first, task_name)[0]
    assert _imported(second, "importer-4")[0] != _imported(first, "importer-4")[0]
    # Reused artifacts keep the consumers' cache keys stable; a re-imported one does not.
    assert [second.execution(t).state for t in ("read", "read-2", "read-3", "read-4")] == [
        CACHED, CACHED, CACHED, COMPLETE]


def test_an_importer_inside_a_branch_leaves_the_branch_dag_complete(mounted_runs: ImporterRuns) -> None:
    run = mounted_runs.first
    branch = run.execution("condition-1")
    assert [(c.task_name, c.state) for c in run.children(branch)] == [("importer-5", COMPLETE),
                                                                      ("read-model", COMPLETE)]
    assert _imported(run, "importer-5")[1] == "system.Model"
    assert run.probe("model")["content"] == "runtime data"
    assert branch.state == COMPLETE
    assert run.root().state == COMPLETE


@pytest.fixture(scope="module")
def unmounted_run(importer_setup: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    files, package = importer_setup
    return run_driver(package, "-p", f"data_uri={files / 'runtime.txt'}",
                      home=tmp_path_factory.mktemp("importer-unmounted"))


def test_a_gs_uri_without_a_mount_is_refused_with_a_clear_message(unmounted_run: FinishedRun) -> None:
    run = unmounted_run
    assert run.returncode == 1, run.output
    refused = run.execution("importer-2")
    assert refused.state == FAILED
    assert refused.properties["error"].endswith(
        f"needs Google Cloud Storage: '{BUCKET}/data/greeting.txt' has no local copy here; "
        f"give one with --mount {BUCKET}=DIR"
    )
    assert "--mount" in run.output
    assert run.probes("bucket") == []
    assert run.root().state == FAILED


def test_a_refused_importer_is_recorded_as_an_importer_execution(unmounted_run: FinishedRun) -> None:
    assert unmounted_run.execution("importer-2").type == IMPORTER_EXECUTION


def test_a_condition_on_an_importer_task_is_refused_before_anything_runs(
    importer_setup: tuple[Path, Path], lpl_home: Path, tmp_path: Path
) -> None:
    files, package = importer_setup
    pipeline_spec = json.loads(package.read_text())
    pipeline_spec["root"]["dag"]["tasks"]["importer"]["triggerPolicy"] = {"condition": "1 > 2"}
    edited = tmp_path / "importer-with-condition.json"
    edited.write_text(json.dumps(pipeline_spec))

    run = run_driver(edited, "-p", f"data_uri={files / 'runtime.txt'}", "--mount",
                     f"{BUCKET}={files / 'bucket'}", home=lpl_home)

    assert run.returncode == 2, run.output
    assert "root.dag.tasks['importer'].triggerPolicy.condition" in run.output
    assert "an importer task cannot have a condition" in run.output


def test_a_mounted_uri_cannot_climb_out_of_its_mount(
    importer_setup: tuple[Path, Path], lpl_home: Path
) -> None:
    # Issue 15 item 5: gs://bucket/../x named a file beside the mounted directory, outside it.
    files, package = importer_setup
    (files / "secret.txt").write_text("outside the mount")
    climbing = f"{BUCKET}/../secret.txt"
    args = ("-p", f"data_uri={climbing}", "--mount", f"{BUCKET}={files / 'bucket'}")

    run = run_driver(package, *args, home=lpl_home, run_id="climb")

    assert run.returncode == 1, run.output
    assert "outside the mount" not in run.output
    failed = [e for e in run.executions(type=IMPORTER_EXECUTION) if e.state == FAILED]
    assert failed and all("climbs out of its mount" in e.properties["error"] for e in failed)
