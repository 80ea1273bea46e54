"""A run's header (the first record of its journal) and the notes a driver adds to it, as typed records:
the driver writes them with `to_json()`; readers read `RunView.header` (and the notes) through them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# Keys a header record carries that are the journal's, not the run's: stamped or added by the store.
_JOURNAL_KEYS = frozenset({"kind", "time", "schema_version"})
# Fields added to the header after its first version: not written back when an older header lacks them.
_LATER = (
    "secrets",
    "config_maps",
    "kfp_package",
    "runner",
    "runner_options",
    "run_name",
    "resource_name",
    "workspace",
    "mounts",
)


@dataclass(frozen=True)
class RunHeader:
    """What a run was started with. Fields a header written by an older version lacks read as None."""

    run_id: str
    pipeline_name: str
    source: str = ""  # the file run
    pipeline_spec: dict[str, Any] = field(default_factory=dict)  # the IR as JSON
    platform_spec: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # root inputs as JSON values
    pipeline_root: str = ""
    run_root: str = ""
    create_time: str = ""  # ISO 8601 UTC
    cache_enabled: bool = True
    # Paths of local sources only: a resume uses them again; secret values are never recorded.
    secrets: dict[str, str] | None = None
    config_maps: dict[str, str] | None = None
    kfp_package: str | None = None
    runner: Any = None  # spec.runner_choice.RunnerChoice.to_json()
    runner_options: dict[str, Any] | None = None
    contexts: dict[str, str] = field(default_factory=dict)
    run_name: str | None = None  # the run's display name (`job_name` in placeholders)
    resource_name: str | None = None
    workspace: str | None = None  # a `--workspace` given (absolute); else the run root's `workspace`
    mounts: dict[str, str] | None = None  # `--mount PREFIX=DIR` given (DIR absolute)
    schema_version: int = SCHEMA_VERSION
    time: float | None = None  # when the store wrote it (read side only)
    # Keys this version does not know (a newer writer's): kept so that nothing read is lost.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record's fields as written after `kind` and `schema_version` (the store adds those)."""
        found: dict[str, Any] = {
            "run_id": self.run_id,
            "pipeline_name": self.pipeline_name,
            "source": self.source,
            "pipeline_spec": self.pipeline_spec,
            "platform_spec": self.platform_spec,
            "parameters": self.parameters,
            "pipeline_root": self.pipeline_root,
            "run_root": self.run_root,
            "create_time": self.create_time,
            "cache_enabled": self.cache_enabled,
            "secrets": self.secrets,
            "config_maps": self.config_maps,
            "kfp_package": self.kfp_package,
            "runner": self.runner,
            "runner_options": self.runner_options,
            "contexts": self.contexts,
            "run_name": self.run_name,
            "resource_name": self.resource_name,
            "workspace": self.workspace,
            "mounts": self.mounts,
        }
        for key in _LATER:
            if found[key] is None:
                del found[key]
        return found | dict(self.extra)

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RunHeader:
        """A header record as read (the store's `kind` and `time` included); ValueError/TypeError if a field
        has the wrong shape."""
        known = {"run_id": "", "pipeline_name": ""} | {key: record[key] for key in _FIELDS if key in record}
        extra = {key: value for key, value in record.items() if key not in _FIELDS | _JOURNAL_KEYS}
        header = cls(**known, extra=extra)
        if not isinstance(header.run_id, str) or not isinstance(header.parameters, dict):
            raise ValueError("the run header's run_id or parameters has the wrong type")
        return header

    @property
    def job_name(self) -> str:
        """The run's display name, or its id for a run recorded before it had one."""
        return self.run_name or self.run_id

    @property
    def resource(self) -> str:
        return self.resource_name or self.run_id


_FIELDS = frozenset(RunHeader.__dataclass_fields__) - {"extra"}


@dataclass(frozen=True)
class DriverStarted:
    """A note at each driver start, for people reading the journal (a live driver is known by its lock)."""

    driver_pid: int

    def to_json(self) -> dict[str, Any]:
        return {"driver_pid": self.driver_pid}


@dataclass(frozen=True)
class PipelineChange:
    """`--resume RUN FILE` with a changed pipeline: the run goes on with it; later resumes start from it."""

    source: str
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "pipeline_spec": self.pipeline_spec, "platform_spec": self.platform_spec
        }

    @classmethod
    def from_json(cls, note: Mapping[str, Any]) -> PipelineChange | None:
        """The change a note records, or None for another note."""
        if "pipeline_spec" not in note:
            return None
        return cls(
            source=str(note.get("source", "")),
            pipeline_spec=dict(note["pipeline_spec"]),
            platform_spec=note.get("platform_spec") or None,
        )


RunNote = DriverStarted | PipelineChange
