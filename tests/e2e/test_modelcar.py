"""OCI model artifacts: an `oci://` output URI set by the component is recorded as is; an `oci://` importer
needs a registry, named in its error, or a local copy given with --mount."""

from __future__ import annotations

from pathlib import Path

from ledger.model import COMPLETE, FAILED
from tests.e2e.finished_run import CompilePipeline, run_driver
from tests.e2e.recorded import artifacts_of


def test_an_oci_output_is_recorded_and_an_oci_import_names_the_registry_it_needs(
    compile_pipeline: CompilePipeline, lpl_home: Path
) -> None:
    run = run_driver(compile_pipeline("modelcar"), home=lpl_home, run_id="no-registry")
    assert run.returncode == 1, run.output
    built = run.execution("build-model-car")
    assert built.state == COMPLETE
    assert [a["uri"] for a in artifacts_of(run, built, "OUTPUT")["model"]] == [
        "oci://registry.lpl.invalid/org/repo:v1.0"
    ]
    importer = run.execution("importer")
    assert importer.state == FAILED
    assert importer.properties["error"].endswith(
        "needs an OCI registry: 'oci://registry.lpl.invalid/modelcar:test' has no local copy here; "
        "give one with --mount oci://registry.lpl.invalid=DIR"
    )


def test_an_oci_import_reads_a_local_copy_given_with_mount(
    compile_pipeline: CompilePipeline, lpl_home: Path, tmp_path: Path
) -> None:
    model = tmp_path / "registry" / "modelcar:test"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    mount = f"oci://registry.lpl.invalid={tmp_path / 'registry'}"
    run = run_driver(compile_pipeline("modelcar"), "--mount", mount, home=lpl_home, run_id="local-copy")
    assert run.returncode == 0, run.output
    assert run.execution("list-model").properties["outputs"] == {"Output": "config.json"}
