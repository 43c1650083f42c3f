"""Backtests API: a single backtest (synchronous), parameter sweeps (Step Functions), results, PBO."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters import research_store as store
from trade2026.adapters.aws import client
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.domain.strategies import describe_strategies
from trade2026.errors import Conflict, NotFound
from trade2026.observability import logger, metrics, tracer
from trade2026.services import research
from trade2026.services.research_models import BacktestRequest, SweepRequest, WalkForwardRequest
from trade2026.settings import research_settings

settings = research_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
store.bind_table(settings.backtests_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()


class RunInfo(BaseModel):
    id: str
    kind: str
    status: str
    created_at: str
    strategy: str
    symbols: list[str]
    chunks_total: int = 0
    chunks_done: int = 0
    error: str | None = None
    summary: dict[str, Any] | None = None
    request: dict[str, Any] = {}


class RunList(BaseModel):
    runs: list[RunInfo]


def _info(run: store.RunModel) -> RunInfo:
    return RunInfo(
        id=run.pk.split("#", 1)[1], kind=run.kind, status=run.status, created_at=run.created_at,
        strategy=run.request["strategy"], symbols=run.request["symbols"], chunks_total=int(run.chunks_total),
        chunks_done=int(run.chunks_done), error=run.error, summary=run.summary, request=run.request,
    )  # fmt: skip


def _owned(kind: str, run_id: str) -> store.RunModel:
    """The caller's run; someone else's is reported as missing (never reveal that it exists)."""
    caller = current_caller(app)
    run = store.get_run(kind, run_id)
    if run is None or (run.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No {kind} {run_id}")
    return run


@app.post("/v1/backtests", summary="Run one backtest now and store its tearsheet")
def create_backtest(body: BacktestRequest) -> dict[str, Any]:
    caller = current_caller(app)
    caller.require_any("trader")
    result = research.run_backtest(body, body.params, research.lake_bar_reader(lake, body))
    run_id = uuid.uuid4().hex
    store.put_json(settings.lake_bucket, f"backtests/{run_id}.json", result)
    store.create_run("backtest", run_id, caller.user_id, body.model_dump(), summary=result["metrics"])
    return {"id": run_id, **result}


@app.get("/v1/backtests/strategies", summary="The built-in strategies and their parameters")
def list_strategies() -> dict[str, Any]:
    current_caller(app)
    return {"strategies": describe_strategies()}


@app.post(
    "/v1/backtests/walkforward", summary="Walk-forward analysis: optimize in sample, stitch out of sample"
)
def run_walk_forward(body: WalkForwardRequest) -> dict[str, Any]:
    current_caller(app).require_any("trader")
    return research.run_walk_forward(body, research.lake_bar_reader(lake, body))


@app.get("/v1/backtests", summary="The caller's backtests and sweeps, newest first")
def list_backtests() -> RunList:
    caller = current_caller(app)
    return RunList(runs=[_info(run) for run in store.list_runs(caller.user_id)])


@app.get("/v1/backtests/<backtest_id>", summary="A stored backtest with its tearsheet")
def get_backtest(backtest_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]) -> dict[str, Any]:
    run = _owned("backtest", backtest_id)
    stored = store.get_json(settings.lake_bucket, f"backtests/{backtest_id}.json")
    return {"id": backtest_id, "request": run.request, **stored}


@app.post("/v1/backtests/sweeps", summary="Start a parameter sweep (asynchronous): returns its id")
def create_sweep(body: SweepRequest) -> Response[RunInfo]:
    caller = current_caller(app)
    caller.require_any("trader")
    prices = research.align_prices(body, research.lake_bar_reader(lake, body))
    configs = research.validate_sweep(body, prices)
    sweep_id = uuid.uuid4().hex
    store.put_json(settings.lake_bucket, f"sweeps/{sweep_id}/configs.json", configs)
    chunks = len(research.plan_chunks(len(configs), body.chunk_size))
    run = store.create_run(
        "sweep", sweep_id, caller.user_id, body.model_dump(), status="PENDING", chunks_total=chunks
    )
    client("stepfunctions").start_execution(
        stateMachineArn=settings.sweep_state_machine_arn,
        name=sweep_id,
        input=json.dumps({"sweep_id": sweep_id}),
    )
    return Response(202, content_types.APPLICATION_JSON, _info(run))


@app.get("/v1/backtests/sweeps/<sweep_id>", summary="A sweep's progress, and its ranking once finished")
def get_sweep(sweep_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]) -> RunInfo:
    return _info(_owned("sweep", sweep_id))


@app.get(
    "/v1/backtests/sweeps/<sweep_id>/pbo", summary="Probability of backtest overfitting (CSCV) of a sweep"
)
def get_sweep_pbo(sweep_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]) -> dict[str, Any]:
    run = _owned("sweep", sweep_id)
    if run.status != "SUCCEEDED":
        raise Conflict(f"Sweep {sweep_id} is {run.status}: PBO is computed when it has finished")
    return store.get_json(settings.lake_bucket, f"sweeps/{sweep_id}/pbo.json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
