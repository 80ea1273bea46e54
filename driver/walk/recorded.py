"""The pipeline a recorded run last ran (its header's, or the file of its latest `--resume RUN FILE`): what a
resume continues and what `--explain --from-run` shows."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import json_format

from ledger.model import RunView
from ledger.run_header import PipelineChange
from spec.ir import pipeline_spec_pb2


@dataclass(frozen=True)
class RecordedPipeline:
    pipeline_spec: pipeline_spec_pb2.PipelineSpec
    platform_spec: pipeline_spec_pb2.PlatformSpec | None
    source: str


def recorded_pipeline(view: RunView) -> RecordedPipeline:
    """The pipeline a run last ran: its header's, or the file given to its latest `--resume RUN FILE`."""
    header = view.header
    latest = PipelineChange(
        source=header.source, pipeline_spec=header.pipeline_spec, platform_spec=header.platform_spec
    )
    for note in view.notes:
        latest = PipelineChange.from_json(note) or latest
    platform = latest.platform_spec
    return RecordedPipeline(
        pipeline_spec=json_format.ParseDict(latest.pipeline_spec, pipeline_spec_pb2.PipelineSpec()),
        platform_spec=json_format.ParseDict(platform, pipeline_spec_pb2.PlatformSpec()) if platform else None,
        source=latest.source,
    )
