"""Pre-trade risk: evaluates one order against its account's limits (invoked synchronously by orders)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from trade2026.adapters import events
from trade2026.adapters.trading_store import bind_tables
from trade2026.observability import logger, metrics, tracer
from trade2026.services import trading
from trade2026.settings import trading_settings

settings = trading_settings()
bind_tables(settings.accounts_table, settings.orders_table, settings.order_events_table,
            settings.symbols_table, settings.market_state_table)  # fmt: skip


class RiskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    order: dict[str, Any]


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    events.publish(settings.event_bus_name, "risk", detail_type, details)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RiskRequest.model_validate(event)
    decision = trading.check_order(request.account_id, request.order, publish)
    for violation in decision["violations"]:
        metrics.add_metric(name=f"RiskRejected_{violation['rule']}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="RiskPassed" if decision["passed"] else "RiskRejected", unit=MetricUnit.Count, value=1
    )
    metrics.add_metric(  # the "daily loss limit near" alarm watches its maximum over accounts
        name="DailyLossLimitUsed", unit=MetricUnit.Percent,
        value=float(decision["context"]["daily_loss_limit_used_pct"]),
    )  # fmt: skip
    if not decision["passed"]:
        logger.info(
            "order rejected", extra={"account_id": request.account_id, "violations": decision["violations"]}
        )
    return decision
