"""Physics API: the PRISM signals (entropy, turbulence, pressure, early warnings, percolation) over time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services import physics
from trade2026.settings import marketdata_settings

settings = marketdata_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()


@app.post(
    "/v1/physics/signals", summary="Physics signals of symbols over time (causal: a value uses data up to it)"
)
def physics_signals(body: physics.PhysicsRequest) -> dict[str, Any]:
    current_caller(app)
    universe = physics.load_universe(body.symbols, physics.lake_reader(lake, body.start, body.end))
    return physics.compute_signals(body, universe)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
