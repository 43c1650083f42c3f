"""Platform routes: readiness of every deployed resource (public) and the caller's identity."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters import health
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer

RESOURCES = health.parse_resources(os.environ.get("HEALTH_RESOURCES", ""))
STAGE = os.environ.get("STAGE", "dev")

app = create_resolver()


class ResourceStatus(BaseModel):
    kind: str
    name: str
    healthy: bool
    detail: str


class HealthReport(BaseModel):
    status: str
    stage: str
    resources: list[ResourceStatus]


class Me(BaseModel):
    user_id: str
    username: str
    email: str | None
    groups: list[str]


_HEALTH_BODY = {"application/json": {"model": HealthReport}}


@app.get(
    "/v1/health",
    summary="Readiness of every deployed resource (public)",
    responses={
        200: {"description": "Every resource is healthy", "content": _HEALTH_BODY},
        503: {"description": "At least one resource is not healthy", "content": _HEALTH_BODY},
    },
)
def get_health() -> Response[HealthReport]:
    results = health.check_all(RESOURCES)
    report = HealthReport(
        status="healthy" if all(r.healthy for r in results) else "unhealthy",
        stage=STAGE,
        resources=[ResourceStatus(**vars(r)) for r in results],
    )
    status = 200 if report.status == "healthy" else 503
    return Response(status, content_types.APPLICATION_JSON, report)


@app.get("/v1/me", summary="The signed-in caller and their groups")
def get_me() -> Me:
    caller = current_caller(app)
    return Me(
        user_id=caller.user_id, username=caller.username, email=caller.email, groups=sorted(caller.groups)
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
