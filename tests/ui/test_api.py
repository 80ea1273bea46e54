"""The UI's JSON API is the CLI's `--json` (the same function makes both), a run is named as everywhere, and
bad input gets a 404 that says where runs are listed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli import run_cli
from tests.ui.server import UiServer, start_ui


def test_runs_api_is_what_ledger_runs_json_prints(ui: UiServer, ui_home: Path) -> None:
    cli = run_cli("ledger", "runs", "--json", home=ui_home)
    assert cli.returncode == 0, cli.stderr
    assert ui.get_json("/api/runs") == json.loads(cli.stdout)
    assert [run["run_id"] for run in ui.get_json("/api/runs")["runs"]][-2:] == ["b", "a"]


def test_run_api_is_what_ledger_show_json_prints(ui: UiServer, ui_home: Path) -> None:
    for ref in ("a", "last"):
        cli = run_cli("ledger", "show", ref, "--json", home=ui_home)
        assert cli.returncode == 0, cli.stderr
        assert ui.get_json(f"/api/runs/{ref}") == json.loads(cli.stdout)
    shown = ui.get_json("/api/runs/a")
    assert shown["run"]["parameters"]["accuracy"] == 0.9
    assert {e["task_name"] for e in shown["executions"]} >= {"evaluate", "wait-for"}


def test_unknown_run_is_404_naming_ledger_runs(ui: UiServer) -> None:
    status, headers, body = ui.get("/api/runs/no-such-run")
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert "no run 'no-such-run'" in json.loads(body)["error"]
    status, _, page = ui.get("/runs/no-such-run")
    assert status == 404 and b"python -m ledger runs" in page
    assert ui.get("/api/runs/..%2f..%2fx/events")[0] == 404


def test_run_page_and_task_panel_are_served(ui: UiServer) -> None:
    status, headers, page = ui.get("/runs/a")
    assert status == 200 and b'<svg class="dag"' in page
    assert "script-src 'self'" in headers["content-security-policy"]
    shown = ui.get_json("/api/runs/a")
    evaluate = next(e for e in shown["executions"] if e["task_name"] == "evaluate")
    status, _, panel = ui.get(f"/runs/a/tasks/{evaluate['id']}")
    assert status == 200
    for expected in (b"Model card", b"<th>accuracy</th>", b"sandbox=\"\"", b"first 2 rows", b"--explain",
                     b"launcher replay", b"Command line", b"ExecutorInput as handed", b"outputFile"):
        assert expected in panel, expected
    assert b"<script>document.body" not in panel


def test_an_artifact_page_shows_who_wrote_it(ui: UiServer) -> None:
    shown = ui.get_json("/api/runs/a")
    evaluate = next(e for e in shown["executions"] if e["task_name"] == "evaluate")
    notes = next(a for a in evaluate["output_artifacts"] if a["name"] == "notes")
    status, _, page = ui.get(f"/runs/a/artifacts/{notes['id']}")
    assert status == 200
    producers = page.decode().split('id="producers"')[1].split('id="consumers"')[0]
    assert f'href="/runs/a#x{evaluate["id"]}">evaluate</a> as <code>notes</code>' in producers
    assert b"Model card" in page
    assert ui.get("/runs/a/artifacts/999999")[0] == 404


def test_runs_page_filters_by_pipeline_and_state(ui: UiServer) -> None:
    status, _, page = ui.get("/")
    assert status == 200 and b'data-run="a"' in page and b'data-run="b"' in page
    assert b"accuracy=0.9" in page  # parameters
    assert b'data-run="a"' in ui.get("/runs-table?pipeline=ui&state=COMPLETE")[2]
    assert b'data-run="a"' not in ui.get("/runs-table?state=FAILED")[2]
    assert b'data-run="a"' not in ui.get("/runs-table?pipeline=other")[2]


def test_compare_page_lists_both_runs_metrics(ui: UiServer) -> None:
    status, _, page = ui.get("/compare?runs=a,b")
    assert status == 200
    text = page.decode()
    assert "evaluate / metrics / accuracy" in text and "0.9" in text and "0.8" in text
    assert 'class="differs"' in text


def test_an_artifacts_lineage_reaches_the_runs_that_reused_it_through_the_cache(
    compile_pipeline: Callable[[str], Path], tmp_path: Path
) -> None:
    home, release = tmp_path / "home", tmp_path / "release"
    release.touch()
    package = str(compile_pipeline("cache_reuse_hold"))
    for run_id in ("first", "second"):  # the second run's `produce` is a cache hit of the first's
        completed = run_cli("driver", package, "--run-id", run_id, "-p", f"release={release}", "-q",
                            home=home)
        assert completed.returncode == 0, completed.stdout + completed.stderr
    server = start_ui(home)
    try:
        executions = server.get_json("/api/runs/first")["executions"]
        produce = next(e for e in executions if e["task_name"] == "produce")
        (data,) = [a for a in produce["output_artifacts"] if a["name"] == "data"]
        status, _, page = server.get(f"/runs/first/artifacts/{data['id']}")
        assert status == 200
        elsewhere = page.decode().split('id="elsewhere"')[1]
        assert "second · produce</a> wrote it as <code>data</code>" in elsewhere, elsewhere
        assert "second · consume</a> read it as <code>data</code>" in elsewhere, elsewhere
    finally:
        assert server.stop() == 0
