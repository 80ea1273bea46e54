"""Covers: a pipeline workspace (dsl.PipelineConfig(workspace=...)) shared by its tasks through
dsl.WORKSPACE_PATH_PLACEHOLDER: one task writes a file there, a later one reads it."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def write_note(workspace_path: str, text: str):
    import json
    import os

    with open(os.path.join(workspace_path, "note.txt"), "w") as f:
        f.write(text)
    print("PROBE " + json.dumps({"tag": "write", "workspace_path": workspace_path,
                                 "existing": sorted(os.listdir(workspace_path))}))


@dsl.component(base_image="python:3.11")
def read_note(workspace_path: str):
    import json
    import os

    with open(os.path.join(workspace_path, "note.txt")) as f:
        text = f.read()
    print("PROBE " + json.dumps({"tag": "read", "workspace_path": workspace_path, "text": text}))


@dsl.pipeline(name="workspace", pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def pipeline(text: str = "shared through the workspace"):
    written = write_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text=text).set_caching_options(False)
    read_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER).after(written).set_caching_options(False)
