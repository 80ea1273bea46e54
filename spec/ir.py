"""The IR's protobuf messages, imported without the rest of the kfp SDK (which costs about 0.4 s)."""

from __future__ import annotations

import os

# kfp/__init__.py imports the whole SDK (client, kubernetes, dsl) unless it believes it runs inside a
# component; only the generated messages are needed here, so say so while importing them.
_saved = os.environ.get("_KFP_RUNTIME")
os.environ["_KFP_RUNTIME"] = "true"
try:
    from kfp.pipeline_spec import pipeline_spec_pb2
finally:
    if _saved is None:
        del os.environ["_KFP_RUNTIME"]
    else:
        os.environ["_KFP_RUNTIME"] = _saved

__all__ = ["pipeline_spec_pb2"]
