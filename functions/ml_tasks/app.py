"""Step Functions tasks of the ML state machines, one handler dispatching on `task`.

statemachines/train_model.asl.json: build_dataset -> start_training / check_training (per trial, a poll loop)
-> evaluate -> register -> deploy; finish marks the run SUCCEEDED, or FAILED with the cause.
statemachines/ml_batch_predict.asl.json: batch_prepare -> batch_start / batch_check (poll loop) ->
batch_collect; batch_finish marks the job SUCCEEDED, or FAILED with the cause.
The Catch of every state leads to the finish task; errors keep their class names (TrainingJobFailedError,
TransformJobFailedError, BadRequest, ...) for the ASL Retry/Catch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import events, feature_store
from trade2026.adapters import model_registry as registry
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.errors import NotFound
from trade2026.observability import logger, tracer
from trade2026.services import ml_batch, ml_dataset, ml_training
from trade2026.services.ml_common import ml_settings

settings = ml_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
registry.bind_table(settings.registry_table)
feature_store.bind_table(settings.feature_table)
lake = Lake(settings.lake_bucket, settings.lake_database)


class UnknownTaskError(Exception):
    """The state machine asked for a task this function does not have."""


@cache
def _cached_reader(end: str | None) -> ml_dataset.BarReader:
    read = ml_dataset.lake_bar_reader(lake, end)
    return cache(read)


def build_dataset(event: dict[str, Any]) -> dict[str, Any]:
    run = registry.get_run(event["run_id"])
    if run is None:
        raise NotFound(f"No training run {event['run_id']}")
    request = ml_dataset.TrainRequest.model_validate(run.request)
    registry.update_run(event["run_id"], status="RUNNING", step="building dataset")
    return ml_training.prepare_run(event["run_id"], request, settings, _cached_reader(request.end))


def batch_prepare(event: dict[str, Any]) -> dict[str, Any]:
    job = registry.get_batch(event["batch_id"])
    if job is None:
        raise NotFound(f"No batch prediction job {event['batch_id']}")
    end = (job.request or {}).get("end")
    return ml_batch.prepare_batch(event["batch_id"], settings, _cached_reader(end))


def publish_registered(detail: dict[str, Any]) -> None:
    if settings.event_bus_name:
        events.publish(settings.event_bus_name, "ml", "ModelRegistered", [detail])


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "build_dataset": build_dataset,
    "start_training": lambda event: ml_training.start_training(event["job"], settings),
    "check_training": lambda event: ml_training.check_training(event["job"]),
    "evaluate": lambda event: ml_training.evaluate_run(event["run_id"], event["jobs"], settings),
    "register": lambda event: ml_training.register_model(event["run_id"], settings, publish_registered),
    "deploy": lambda event: ml_training.deploy_model(event["run_id"], event["model_id"], settings),
    "finish": lambda event: ml_training.finish_run(event["run_id"], event.get("error")),
    "batch_prepare": batch_prepare,
    "batch_start": lambda event: ml_batch.start_transform(event["job"], settings),
    "batch_check": lambda event: ml_batch.check_transform(event["job"]),
    "batch_collect": lambda event: ml_batch.collect_batch(event["batch_id"], settings),
    "batch_finish": lambda event: ml_batch.finish_batch(event["batch_id"], event.get("error")),
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TASKS.get(str(event.get("task")))
    if task is None:
        raise UnknownTaskError(f"unknown task {event.get('task')!r}; known: {', '.join(TASKS)}")
    return task(event)
