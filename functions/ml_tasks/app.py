"""Step Functions tasks of statemachines/train_model.asl.json, one handler dispatching on `task`.

build_dataset -> start_training / check_training (per trial, a poll loop) -> evaluate -> register -> deploy;
finish marks the run SUCCEEDED, or FAILED with the cause (the Catch of every state leads there).
Errors keep their class names (TrainingJobFailedError, BadRequest, ...) for the ASL Retry/Catch.
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
from trade2026.services import ml

settings = ml.ml_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
registry.bind_table(settings.registry_table)
feature_store.bind_table(settings.feature_table)
lake = Lake(settings.lake_bucket, settings.lake_database)


class UnknownTaskError(Exception):
    """The state machine asked for a task this function does not have."""


@cache
def _cached_reader(end: str | None) -> ml.BarReader:
    read = ml.lake_bar_reader(lake, end)
    return cache(read)


def build_dataset(event: dict[str, Any]) -> dict[str, Any]:
    run = registry.get_run(event["run_id"])
    if run is None:
        raise NotFound(f"No training run {event['run_id']}")
    request = ml.TrainRequest.model_validate(run.request)
    registry.update_run(event["run_id"], status="RUNNING", step="building dataset")
    return ml.prepare_run(event["run_id"], request, settings, _cached_reader(request.end))


def publish_registered(detail: dict[str, Any]) -> None:
    if settings.event_bus_name:
        events.publish(settings.event_bus_name, "ml", "ModelRegistered", [detail])


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "build_dataset": build_dataset,
    "start_training": lambda event: ml.start_training(event["job"], settings),
    "check_training": lambda event: ml.check_training(event["job"]),
    "evaluate": lambda event: ml.evaluate_run(event["run_id"], event["jobs"], settings),
    "register": lambda event: ml.register_model(event["run_id"], settings, publish_registered),
    "deploy": lambda event: ml.deploy_model(event["run_id"], event["model_id"], settings),
    "finish": lambda event: ml.finish_run(event["run_id"], event.get("error")),
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TASKS.get(str(event.get("task")))
    if task is None:
        raise UnknownTaskError(f"unknown task {event.get('task')!r}; known: {', '.join(TASKS)}")
    return task(event)
