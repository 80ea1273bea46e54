"""How a run is named, as the KFP backend and SDK name one: its resource (workflow) name and display name.

- `{{$.pipeline_job_resource_name}}` is the Argo workflow's name: the compiler sets `generateName` to the last
  `/`-separated part of the pipeline name plus `-`, and Kubernetes appends five random characters from its
  own alphabet (the base cut to 58 characters first).
- `{{$.pipeline_job_name}}` is the run's display name: whatever the user named the run, or the SDK client's
  default `<pipeline name> <YYYY-MM-DD HH-MM-SS>` (local time).
"""

from __future__ import annotations

import datetime
import random

# k8s.io/apiserver/pkg/storage/names: SimpleNameGenerator (no vowels, no look-alike digits).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_RANDOM_LENGTH = 5
_MAX_BASE = 63 - _RANDOM_LENGTH


def resource_name(pipeline_name: str, *, rng: random.Random | None = None) -> str:
    """A fresh workflow name for a run of `pipeline_name`, e.g. `my-pipeline-x7kq2`."""
    base = pipeline_name.split("/")[-1] + "-"
    choose = (rng or random.SystemRandom()).choice
    return base[:_MAX_BASE] + "".join(choose(_ALPHABET) for _ in range(_RANDOM_LENGTH))


def default_display_name(pipeline_name: str, *, now: datetime.datetime | None = None) -> str:
    """The display name `kfp.Client().create_run_from_pipeline_package` gives a run it is not told."""
    moment = now or datetime.datetime.now()
    return f"{pipeline_name} {moment.strftime('%Y-%m-%d %H-%M-%S')}"
