"""What a resume takes from the run's recorded header when the command line does not say it again."""

from __future__ import annotations

from pathlib import Path

from driver.run.run import RunOptions, _with_recorded_sources
from ledger.run_header import RunHeader


def _header(**fields: object) -> RunHeader:
    return RunHeader.from_json({"run_id": "r", "pipeline_name": "p", **fields})


def test_a_resume_uses_the_recorded_workspace_and_mounts_unless_others_are_given(tmp_path: Path) -> None:
    header = _header(
        workspace="/data/ws", secrets={"db": "/s/db.env"}, kfp_package="kfp==2.17.3", mounts={"gs://b": "/d"}
    )

    resumed = _with_recorded_sources(RunOptions(pipeline=None, home=tmp_path, resume="r"), header)
    other = _with_recorded_sources(
        RunOptions(pipeline=None, home=tmp_path, resume="r", workspace=Path("/elsewhere")), header
    )

    assert resumed.workspace == Path("/data/ws")
    assert resumed.mounts == {"gs://b": "/d"}
    assert (resumed.secrets, resumed.kfp_package) == ({"db": "/s/db.env"}, "kfp==2.17.3")
    assert other.workspace == Path("/elsewhere")


def test_a_header_without_a_workspace_reads_and_writes_as_before() -> None:
    header = _header(pipeline_root="/root")

    assert header.workspace is None
    assert "workspace" not in header.to_json() and "mounts" not in header.to_json()
    assert _header(workspace="/w").to_json()["workspace"] == "/w"
