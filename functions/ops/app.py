"""Operations API: the dashboard's numbers and every alarm's state over a recent window."""

from __future__ import annotations

import os
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters.aws import client
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services.ops_metrics import OpsSummary, summary

API_NAME = os.environ.get("API_NAME", "trade2026-dev-api")
ALARM_PREFIX = os.environ.get("ALARM_PREFIX", "trade2026-dev-")
DLQ_NAME = os.environ.get("DLQ_NAME", "")
NORMALIZER = os.environ.get("NORMALIZER_FUNCTION", "")
app = create_resolver()


@app.get(
    "/v1/ops/metrics", summary="Requests, errors, latency, orders, fills, ticks, DLQ depth and alarm states"
)
def get_metrics(minutes: Annotated[int, Query(ge=1, le=1440)] = 60) -> OpsSummary:
    current_caller(app).require_any("admin", "trader", "viewer")
    return summary(client("cloudwatch"), API_NAME, NORMALIZER, DLQ_NAME, ALARM_PREFIX, minutes)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
