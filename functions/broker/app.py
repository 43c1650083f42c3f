"""Paper broker: fills open orders on each `BarClosed` event; expires DAY orders after the close (schedule);
flushes order outboxes a stopped writer left behind (every minute)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import events
from trade2026.adapters.trading_store import bind_tables
from trade2026.domain.trading.broker import FillModel
from trade2026.observability import logger, metrics, tracer
from trade2026.services import paper_broker, trading
from trade2026.settings import trading_settings

settings = trading_settings()
bind_tables(settings.accounts_table, settings.orders_table, settings.order_events_table,
            settings.symbols_table, settings.market_state_table)  # fmt: skip
fill_model = FillModel(
    slippage_bps=Decimal(settings.slippage_bps), fee_per_share=Decimal(settings.fee_per_share),
    min_fee=Decimal(settings.min_fee), max_volume_share=Decimal(settings.max_volume_share),
)  # fmt: skip


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    events.publish(settings.event_bus_name, "broker", detail_type, details)


OUTBOX_SETTLE_S = 30.0  # a live writer flushes its own outbox well within this


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(raw_event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if raw_event.get("task") == "flush-outboxes":
        flushed = trading.flush_pending_outboxes(OUTBOX_SETTLE_S, publish)
        metrics.add_metric(name="OutboxesRecovered", unit=MetricUnit.Count, value=flushed)
        if flushed:
            logger.warning("flushed outboxes left by stopped writers", extra={"orders": flushed})
        return {"flushed": flushed}
    event = EventBridgeEvent(raw_event)
    if event.detail_type == "Scheduled Event":
        expired = paper_broker.expire_day_orders(datetime.now(UTC), publish)
        metrics.add_metric(name="OrdersExpired", unit=MetricUnit.Count, value=expired)
        return {"expired": expired}
    report = paper_broker.on_bar(event.detail, fill_model, publish)
    metrics.add_metric(name="Fills", unit=MetricUnit.Count, value=report.fills)
    logger.debug("bar worked", extra={"symbol": event.detail.get("symbol"), **vars(report)})
    return vars(report)
