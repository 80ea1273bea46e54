"""Covers: dsl.importer with a constant local URI, a constant gs:// URI (refused unless mapped with
`--mount gs://lpl-test-bucket=DIR`), a runtime URI from a pipeline parameter, static and parameter-built
metadata, reimport=False reuse and reimport=True, and an importer inside a condition branch.

The constant local path is a stand-in: tests replace LOCAL_PLACEHOLDER in the compiled JSON with a real
file."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model

LOCAL_PLACEHOLDER = "/lpl-test-placeholder/local.txt"


@dsl.component(base_image="python:3.11")
def read(tag: str, data: Input[Dataset]):
    import json

    with open(data.path) as f:
        content = f.read()
    print("PROBE " + json.dumps({"tag": tag, "content": content, "uri": data.uri, "path": data.path,
                                 "metadata": data.metadata, "name": data.name}))


@dsl.component(base_image="python:3.11")
def read_model(model: Input[Model]):
    import json

    with open(model.path) as f:
        print("PROBE " + json.dumps({"tag": "model", "content": f.read()}))


@dsl.pipeline(name="importers")
def pipeline(data_uri: str, origin: str = "parameter"):
    local = dsl.importer(artifact_uri=LOCAL_PLACEHOLDER, artifact_class=Dataset, metadata={"origin": "local"})
    read(tag="local", data=local.output)
    bucket = dsl.importer(artifact_uri="gs://lpl-test-bucket/data/greeting.txt", artifact_class=Dataset,
                          metadata={"origin": "bucket", "count": 3})
    read(tag="bucket", data=bucket.output)
    runtime = dsl.importer(artifact_uri=data_uri, artifact_class=Dataset, metadata={"origin": origin})
    read(tag="runtime", data=runtime.output)
    fresh = dsl.importer(artifact_uri=data_uri, artifact_class=Dataset, reimport=True)
    read(tag="fresh", data=fresh.output)
    with dsl.If(origin == "parameter"):
        model = dsl.importer(artifact_uri=data_uri, artifact_class=Model, reimport=True)
        read_model(model=model.output)
