"""Step Functions tasks of the backtest sweep: plan the chunks, run one chunk, finish (rank, DSR, PBO).

The finish step (or the failure step) announces the outcome as `SweepFinished` on the bus, for the owner's
notification (one event id per sweep and outcome: a retried step is delivered once)."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import numpy as np
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from trade2026.adapters import events
from trade2026.adapters import research_store as store
from trade2026.adapters.events import EventPublishError
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.observability import logger, tracer
from trade2026.services import research
from trade2026.services.research_models import SweepRequest
from trade2026.settings import research_settings

settings = research_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
store.bind_table(settings.backtests_table)
lake = Lake(settings.lake_bucket, settings.lake_database)


class SweepNotFoundError(Exception):
    """The sweep record is gone: nothing to retry (not listed in the ASL Retry)."""


class ChunkTask(BaseModel):
    sweep_id: str
    chunk: int
    start: int
    stop: int


@cache
def _sweep(sweep_id: str) -> tuple[SweepRequest, list[dict[str, Any]], research.Prices]:
    """Request, configurations and prices of a sweep (cached: a warm worker runs many chunks of it)."""
    run = store.get_run("sweep", sweep_id)
    if run is None:
        raise SweepNotFoundError(sweep_id)
    request = SweepRequest.model_validate(run.request)
    configs = store.get_json(settings.lake_bucket, f"sweeps/{sweep_id}/configs.json")
    return request, configs, research.align_prices(request, research.lake_bar_reader(lake, request))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def plan_handler(event: dict, context: LambdaContext) -> dict:
    sweep_id = str(event["sweep_id"])
    request, configs, _prices = _sweep(sweep_id)
    chunks = research.plan_chunks(len(configs), request.chunk_size)
    run = store.get_run("sweep", sweep_id)
    assert run is not None
    store.set_status(run, "RUNNING", chunks_total=len(chunks))
    tasks = [
        ChunkTask(sweep_id=sweep_id, chunk=i, start=a, stop=b).model_dump() for i, (a, b) in enumerate(chunks)
    ]
    return {"sweep_id": sweep_id, "chunks": tasks}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def chunk_handler(event: dict, context: LambdaContext) -> dict:
    task = ChunkTask.model_validate(event)
    request, configs, prices = _sweep(task.sweep_id)
    returns, records = research.run_chunk(request, prices, configs[task.start : task.stop])
    # Results first, then the (conditional) progress count: a retried chunk rewrites the same objects.
    store.put_arrays(
        settings.lake_bucket, f"sweeps/{task.sweep_id}/chunk-{task.chunk:06d}.npz", returns=returns
    )
    store.put_json(settings.lake_bucket, f"sweeps/{task.sweep_id}/chunk-{task.chunk:06d}.json", records)
    store.record_chunk_done(task.sweep_id, task.chunk, task.stop - task.start)
    return {"chunk": task.chunk, "runs": task.stop - task.start}


def announce(run: store.RunModel, sweep_id: str, status: str, **facts: object) -> None:
    """SweepFinished for the owner; the sweep's outcome is already stored, so a failed publish is logged, and
    never turns a finished sweep into a failed one."""
    detail = {"id": f"sweep:{sweep_id}:{status}", "sweep_id": sweep_id, "owner": run.owner, "status": status,
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **facts}  # fmt: skip
    try:
        events.publish(settings.event_bus_name, "research", "SweepFinished", [detail])
    except (EventPublishError, BotoCoreError, ClientError) as exc:
        logger.error("SweepFinished not published", extra={"sweep_id": sweep_id, "reason": str(exc)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def finish_handler(event: dict, context: LambdaContext) -> dict:
    sweep_id = str(event["sweep_id"])
    run = store.get_run("sweep", sweep_id)
    if run is None:
        raise SweepNotFoundError(sweep_id)
    if "error" in event:
        cause = event["error"].get("Cause") or event["error"].get("Error") or "unknown error"
        store.set_status(run, "FAILED", error=str(cause)[:2000])
        announce(run, sweep_id, "FAILED", error=str(cause)[:500])
        return {"sweep_id": sweep_id, "status": "FAILED"}
    request, configs, _prices = _sweep(sweep_id)
    chunks = research.plan_chunks(len(configs), request.chunk_size)
    returns = np.column_stack(
        [
            store.get_arrays(settings.lake_bucket, f"sweeps/{sweep_id}/chunk-{i:06d}.npz")["returns"]
            for i in range(len(chunks))
        ]
    )
    records = [
        r
        for i in range(len(chunks))
        for r in store.get_json(settings.lake_bucket, f"sweeps/{sweep_id}/chunk-{i:06d}.json")
    ]
    summary = research.sweep_summary(returns, configs, records, request.pbo_blocks)
    pbo = summary.pop("pbo")
    summary["pbo"] = pbo["pbo"]
    store.put_json(settings.lake_bucket, f"sweeps/{sweep_id}/pbo.json", pbo)
    store.put_json(
        settings.lake_bucket, f"sweeps/{sweep_id}/results.json", {"configs": configs, "metrics": records}
    )
    store.set_status(run, "SUCCEEDED", summary=summary)
    announce(run, sweep_id, "SUCCEEDED", summary={"pbo": summary["pbo"], "configs": len(configs)})
    return {"sweep_id": sweep_id, "status": "SUCCEEDED"}
