"""Covers: conformance point 22, an importer with `dependentTasks` waits for those tasks (the backend's
importers ignore them; this project does not copy that quirk). `dsl.importer(...).after(nap)` compiles to
`dependentTasks: ["nap"]` on the importer task; `nap` sleeps one second on the host."""

from kfp import dsl
from kfp.dsl import Dataset


@dsl.container_component
def nap():
    return dsl.ContainerSpec(image="python:3.11", command=["sh", "-c", "sleep 1"])


@dsl.pipeline(name="importer-after")
def pipeline(data_uri: str):
    slept = nap()
    dsl.importer(artifact_uri=data_uri, artifact_class=Dataset).after(slept)
