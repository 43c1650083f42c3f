"""Simulations API: Monte Carlo of a portfolio or a strategy (synchronous, or a Step Functions Map when large)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import numpy as np
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters import research_store
from trade2026.adapters import simulation_store as store
from trade2026.adapters.aws import client
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.errors import NotFound
from trade2026.observability import logger, metrics, tracer
from trade2026.services import simulations as service
from trade2026.services.physics import lake_reader

settings = store.simulation_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
store.bind_table(settings.simulations_table)
research_store.bind_table(settings.backtests_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()


class SimulationInfo(BaseModel):
    id: str
    status: str
    created_at: str
    model: str
    paths: int
    horizon_days: int
    tasks_total: int = 0
    tasks_done: int = 0
    progress: float = 1.0
    error: str | None = None
    summary: dict[str, Any] | None = None
    request: dict[str, Any] = {}
    result: dict[str, Any] | None = None


class SimulationList(BaseModel):
    simulations: list[SimulationInfo]


def _info(run: store.SimulationModel, result: dict[str, Any] | None = None) -> SimulationInfo:
    total, done = int(run.tasks_total), int(run.tasks_done)
    return SimulationInfo(
        id=run.pk.split("#", 1)[1], status=run.status, created_at=run.created_at, model=run.request["model"],
        paths=run.request["paths"], horizon_days=run.request["horizon_days"], tasks_total=total, tasks_done=done,
        progress=1.0 if run.status == "SUCCEEDED" else (done / total if total else 0.0), error=run.error,
        summary=run.summary, request=run.request, result=result,
    )  # fmt: skip


def _backtest_returns(backtest_id: str) -> np.ndarray:
    """A stored backtest's daily returns (the caller's own, or any for an admin)."""
    caller = current_caller(app)
    run = research_store.get_run("backtest", backtest_id)
    if run is None or (run.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No backtest {backtest_id}")
    stored = research_store.get_json(settings.lake_bucket, f"backtests/{backtest_id}.json")
    return service.returns_of_equity(stored["series"]["equity"])


@app.post(
    "/v1/simulations", summary="Monte Carlo simulation: runs now when small, on Step Functions when large"
)
def create_simulation(body: service.SimulationRequest) -> Response[SimulationInfo]:
    caller = current_caller(app)
    caller.require_any("trader")
    start, end = (body.portfolio.start, body.portfolio.end) if body.portfolio else (None, None)
    returns = service.source_returns(body, lake_reader(lake, start, end), _backtest_returns)
    spec, inputs = service.build_spec(body, returns)
    run_id = uuid.uuid4().hex
    key = f"simulations/{run_id}"
    request = body.model_dump(exclude={"returns"}) | {"returns_given": body.returns is not None}
    if not service.is_async(body, settings.sync_budget):
        result = {"inputs": inputs, **service.simulate(spec)}
        store.put_json(settings.lake_bucket, f"{key}/result.json", result)
        run = store.create_run(run_id, caller.user_id, request, summary=service.headline(result))
        return Response(201, content_types.APPLICATION_JSON, _info(run, result))
    tasks = service.plan_tasks(spec)
    store.put_json(
        settings.lake_bucket, f"{key}/spec.json", {"spec": service.spec_to_json(spec), "inputs": inputs}
    )
    if spec.log_returns is not None:
        store.put_arrays(settings.lake_bucket, f"{key}/input.npz", log_returns=spec.log_returns)
    run = store.create_run(run_id, caller.user_id, request, status="RUNNING", tasks_total=len(tasks))
    client("stepfunctions").start_execution(
        stateMachineArn=settings.state_machine_arn,
        name=run_id,
        input=json.dumps({"simulation_id": run_id, "tasks": [t | {"simulation_id": run_id} for t in tasks]}),
    )
    return Response(202, content_types.APPLICATION_JSON, _info(run))


@app.get("/v1/simulations", summary="The caller's simulations, newest first")
def list_simulations() -> SimulationList:
    caller = current_caller(app)
    return SimulationList(simulations=[_info(run) for run in store.list_runs(caller.user_id)])


@app.get(
    "/v1/simulations/<simulation_id>", summary="A simulation's status and progress, and its result when done"
)
def get_simulation(simulation_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]) -> SimulationInfo:
    caller = current_caller(app)
    run = store.get_run(simulation_id)
    if run is None or (run.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No simulation {simulation_id}")
    result = None
    if run.status == "SUCCEEDED":
        result = store.get_json(settings.lake_bucket, f"simulations/{simulation_id}/result.json")
    return _info(run, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
