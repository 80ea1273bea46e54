"""Compile the seed example, a four-stage numpy pipeline, to pipeline.json beside this file (or to the path
given as the first argument). With the pinned kfp it writes the committed pipeline.json byte for byte; a test
checks that, so edit this file and recompile together."""

import sys
import warnings
from pathlib import Path

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def stage_0(config: dict, messages: list, run_id: str = "42") -> int:
    import numpy

    print(f"config={config}")
    for message in messages:
        print(message)
    print(f"run_id={run_id}")
    rng = numpy.random.default_rng(int(run_id) if run_id.isdigit() else None)
    return int(rng.integers(config["seed_low"], config["seed_high"]))


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def stage_1(n: int, seed: int, data: Output[Dataset]):
    import numpy

    samples = numpy.random.default_rng(seed).standard_normal(n)
    # np.save appends ".npy" to a bare path; writing through a file object keeps data.path exact.
    with open(data.path, "wb") as file:
        numpy.save(file, samples)


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def stage_2(data: Input[Dataset]) -> dict:
    import numpy

    with open(data.path, "rb") as file:
        samples = numpy.load(file)
    return {"average": float(samples.mean()), "std": float(samples.std())}


@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def stage_3(stats: dict):
    print(f"x_average={stats['average']}")
    print(f"x_std={stats['std']}")


@dsl.pipeline(name="seed-pipeline")
def seed_pipeline(
    config: dict = {"seed_low": 0, "seed_high": 1000},
    messages: list = ["hello", "world"],
    n: int = 1000,
):
    seed = stage_0(config=config, messages=messages)
    samples = stage_1(n=n, seed=seed.output)
    stats = stage_2(data=samples.outputs["data"])
    stage_3(stats=stats.output)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("pipeline.json"))
    with warnings.catch_warnings():
        # kfp deprecates JSON output in favour of YAML; the example stays JSON, as the project's tests do.
        warnings.filterwarnings("ignore", "Compiling to JSON is deprecated", DeprecationWarning)
        compiler.Compiler().compile(seed_pipeline, target)
