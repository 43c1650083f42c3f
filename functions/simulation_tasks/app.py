"""Step Functions tasks of a large simulation: run one task's chunks of paths; merge the tasks (or record a failure)."""

from __future__ import annotations

from functools import cache

import numpy as np
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters import simulation_store as store
from trade2026.domain import simulation
from trade2026.observability import logger, tracer
from trade2026.services import simulations as service

settings = store.simulation_settings()
store.bind_table(settings.simulations_table)


class SimulationNotFoundError(Exception):
    """The simulation record is gone: nothing to retry (not listed in the ASL Retry)."""


class SimulationTask(BaseModel):
    simulation_id: str
    task: int
    start: int
    stop: int


class MergeTask(BaseModel):
    simulation_id: str
    error: dict[str, str] | None = None


@cache
def _spec(simulation_id: str) -> tuple[simulation.SimulationSpec, dict]:
    """The run's spec and input description (cached: a warm worker runs many tasks of a run)."""
    stored = store.get_json(settings.lake_bucket, f"simulations/{simulation_id}/spec.json")
    log_returns = None
    if stored["spec"]["model"] == "bootstrap":
        arrays = store.get_arrays(settings.lake_bucket, f"simulations/{simulation_id}/input.npz")
        log_returns = np.asarray(arrays["log_returns"], dtype=np.float64)
    return service.spec_from_json(stored["spec"], log_returns), stored["inputs"]


def _task_key(simulation_id: str, task: int) -> str:
    return f"simulations/{simulation_id}/task-{task:06d}.npz"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def task_handler(event: dict, context: LambdaContext) -> dict:
    task = SimulationTask.model_validate(event)
    if store.get_run(task.simulation_id) is None:
        raise SimulationNotFoundError(task.simulation_id)
    spec, _inputs = _spec(task.simulation_id)
    stats = simulation.simulate_chunks(spec, task.start, task.stop)
    # Results first, then the (conditional) progress count: a retried task rewrites the same object.
    store.put_arrays(settings.lake_bucket, _task_key(task.simulation_id, task.task), **stats.arrays())
    store.record_task_done(task.simulation_id, task.task, len(stats.terminal))
    return {"task": task.task, "paths": len(stats.terminal)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def merge_handler(event: dict, context: LambdaContext) -> dict:
    merge = MergeTask.model_validate(event)
    run = store.get_run(merge.simulation_id)
    if run is None:
        raise SimulationNotFoundError(merge.simulation_id)
    if merge.error is not None:
        cause = merge.error.get("Cause") or merge.error.get("Error") or "unknown error"
        store.set_status(run, "FAILED", error=str(cause)[:2000])
        return {"simulation_id": merge.simulation_id, "status": "FAILED"}
    spec, inputs = _spec(merge.simulation_id)
    parts = []
    for task in service.plan_tasks(spec):
        arrays = store.get_arrays(settings.lake_bucket, _task_key(merge.simulation_id, task["task"]))
        parts.append(simulation.PathStats(**arrays))
    result = {"inputs": inputs, **simulation.summarize(spec, simulation.PathStats.concat(parts))}
    store.put_json(settings.lake_bucket, f"simulations/{merge.simulation_id}/result.json", result)
    store.set_status(run, "SUCCEEDED", summary=service.headline(result))
    return {"simulation_id": merge.simulation_id, "status": "SUCCEEDED"}
