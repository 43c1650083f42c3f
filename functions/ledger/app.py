"""Ledger API: positions marked to market, P&L by day/symbol/strategy, tax lots, PTRC reports (CSV export)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables as bind_market_tables
from trade2026.adapters.trading_store import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services import ledger_reports
from trade2026.settings import trading_settings

settings = trading_settings()
bind_tables(settings.accounts_table, settings.orders_table, settings.order_events_table,
            settings.symbols_table, settings.market_state_table)  # fmt: skip
bind_market_tables(settings.symbols_table, settings.market_state_table)
daily_closes = ledger_reports.lake_daily_closes(Lake(settings.lake_bucket, settings.lake_database))
app = create_resolver()
AccountId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]


@app.get(
    "/v1/accounts/<account_id>/positions", summary="Positions marked to the latest price, cash and equity"
)
def positions(account_id: AccountId) -> dict[str, Any]:
    return ledger_reports.positions(current_caller(app), account_id)


@app.get("/v1/accounts/<account_id>/pnl", summary="P&L by day (marked at daily closes), symbol or strategy")
def pnl(
    account_id: AccountId, by: Annotated[Literal["day", "symbol", "strategy"], Query()] = "symbol"
) -> dict[str, Any]:
    return ledger_reports.pnl(current_caller(app), account_id, by, daily_closes)


@app.get(
    "/v1/accounts/<account_id>/taxlots",
    summary="Open tax lots with tax basis, holding term, wash adjustments",
)
def tax_lots(account_id: AccountId) -> dict[str, Any]:
    return ledger_reports.tax_lots(current_caller(app), account_id)


@app.get(
    "/v1/accounts/<account_id>/reports/realized-gains", summary="Short/long-term realized gains of a tax year"
)
def realized_gains(
    account_id: AccountId, tax_year: Annotated[int, Query(ge=1900, le=2200)]
) -> dict[str, Any]:
    return ledger_reports.realized_gains(current_caller(app), account_id, tax_year)


@app.get("/v1/accounts/<account_id>/reports/blotter", summary="Trade blotter: every fill, as CSV")
def blotter(account_id: AccountId) -> Response[str]:
    csv_text = ledger_reports.blotter(current_caller(app), account_id)
    headers = {"Content-Disposition": f'attachment; filename="blotter-{account_id}.csv"'}
    return Response(200, "text/csv", csv_text, headers=headers)


@app.get(
    "/v1/accounts/<account_id>/reports/compliance",
    summary="Risk rejections, kill-switch events, restricted hits",
)
def compliance(account_id: AccountId, start: Day = None, end: Day = None) -> dict[str, Any]:
    return ledger_reports.compliance(current_caller(app), account_id, start, end)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
