"""Covers: a user's sweep (issue 23): a ParallelFor of trainings inside an exit handler, a condition on the
best score and a `dsl.Collected` of the loop's outputs; its tasks are named on the command line by label,
by `NAME[i]` and by key."""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def train_model(lr: float) -> float:
    print(f"training with lr={lr}")
    return round(1 - abs(lr - 0.2), 3)


@dsl.component(base_image="python:3.11")
def pick_best(scores: List[float]) -> float:
    return max(scores)


@dsl.component(base_image="python:3.11")
def publish(score: float) -> str:
    return f"published {score}"


@dsl.component(base_image="python:3.11")
def announce(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.pipeline(name="sweep")
def pipeline(rates: List[float] = [0.1, 0.2, 0.3]):
    with dsl.ExitHandler(announce()):
        with dsl.ParallelFor(rates) as lr:
            trained = train_model(lr=lr)
        best = pick_best(scores=dsl.Collected(trained.output))
        with dsl.If(best.output > 0.5):
            publish(score=best.output)
