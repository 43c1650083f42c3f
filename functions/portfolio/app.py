"""Portfolio API: optimize weights (mean-variance, HRP, HERC, risk parity, min-CVaR) and estimate covariances.

Analytics only (nothing is stored or traded), so any signed-in user may call it, viewers included.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services import portfolio, research


class PortfolioSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field(alias="LAKE_DATABASE")


settings = PortfolioSettings.model_validate(dict(os.environ))
bind_tables(settings.symbols_table, settings.market_state_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()


@app.post(
    "/v1/portfolio/optimize",
    summary="Optimize portfolio weights; risk contributions and a backtest of the rebalanced portfolio",
)
def optimize(body: portfolio.OptimizeRequest) -> portfolio.OptimizeResponse:
    current_caller(app)
    return portfolio.run_optimize(body, research.lake_bar_reader(lake, portfolio.market_spec(body)))


@app.post(
    "/v1/portfolio/covariance",
    summary="Covariance estimate (sample, EWMA, Ledoit-Wolf, Marchenko-Pastur denoised) with its spectrum",
)
def covariance(body: portfolio.CovarianceRequest) -> portfolio.CovarianceResponse:
    current_caller(app)
    return portfolio.run_covariance(body, research.lake_bar_reader(lake, portfolio.market_spec(body)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
