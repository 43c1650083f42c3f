"""Strategy runtime: each `BarClosed` runs the active slots trading its symbol (strategy -> decision -> orders
through the OMS and its pre-trade risk); a schedule catches every active slot up on its symbol's latest bar.
A strategy that raises has its slot paused (the service); each such slot is announced as `StrategyError` on the
bus, for its owner's notification."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from trade2026.adapters import events, lambdas
from trade2026.adapters import model_registry as registry
from trade2026.adapters import strategy_store as store
from trade2026.adapters.aws import client
from trade2026.adapters.events import EventPublishError
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables as bind_market_tables
from trade2026.adapters.trading_store import bind_tables
from trade2026.auth import Caller
from trade2026.domain.live_strategies import StrategyInputError
from trade2026.errors import ServiceUnavailable
from trade2026.observability import logger, metrics, tracer
from trade2026.services import strategy_runtime as runtime_service
from trade2026.services import trading
from trade2026.services.strategies import strategy_settings
from trade2026.services.trading_models import OrderRequest
from trade2026.settings import trading_settings

settings = strategy_settings()
trading_config = trading_settings()
store.bind_table(settings.strategies_table)
registry.bind_table(settings.model_registry_table)
bind_tables(trading_config.accounts_table, trading_config.orders_table, trading_config.order_events_table,
            trading_config.symbols_table, trading_config.market_state_table)  # fmt: skip
bind_market_tables(trading_config.symbols_table, trading_config.market_state_table)
lake = Lake(trading_config.lake_bucket, trading_config.lake_database)
idempotency = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="order", expires_after_seconds=7 * 86_400
)


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    events.publish(trading_config.event_bus_name, "orders", detail_type, details)


def announce_errors(reports: list[runtime_service.BarReport]) -> int:
    """One StrategyError per slot a strategy failure paused on these bars (the slot's owner is notified)."""
    details = []
    for report in reports:
        for slot_key in report.paused:
            account_id, _, name = slot_key.partition("#")
            slot = store.get_slot(account_id, name)
            error = (slot.error or {}) if slot is not None else {}
            if slot is None or slot.status != "paused" or error.get("bar_id") != report.bar_id:
                continue  # swapped or resumed meanwhile: that pause no longer stands
            details.append({
                "id": f"strategy-error:{slot_key}:{report.bar_id}", "account_id": account_id, "slot": name,
                "owner": slot.owner, "strategy_id": slot.strategy_id, "version": int(slot.version),
                "symbol": slot.symbol, "bar_id": report.bar_id, "error": error.get("error", ""), "at": error.get("at"),
            })  # fmt: skip
    if not details:
        return 0
    try:
        events.publish(trading_config.event_bus_name, "strategies", "StrategyError", details)
    except (
        EventPublishError,
        BotoCoreError,
        ClientError,
    ) as exc:  # the pause stands; a retry would not re-announce
        logger.error(
            "StrategyError not published", extra={"slots": [d["id"] for d in details], "reason": str(exc)}
        )
        return 0
    return len(details)


def check_risk(account_id: str, order: dict[str, Any]) -> dict[str, Any]:
    return dict(
        lambdas.invoke_json(trading_config.risk_function_name, {"account_id": account_id, "order": order})
    )


def _place(request: dict[str, Any]) -> dict[str, Any]:
    owner = request["owner"]
    caller = Caller(owner["user_id"], owner["username"], None, frozenset(owner["groups"]))
    order = OrderRequest.model_validate(request["order"])
    # the key also goes to the order's claim: a worker killed after the order write cannot double it
    view = trading.submit_order(caller, request["account_id"], order, check_risk, publish, request["key"])
    return view.model_dump(mode="json")


@cache
def place_order() -> Callable[..., dict[str, Any]]:
    persistence = DynamoDBPersistenceLayer(
        table_name=trading_config.idempotency_table, boto3_client=client("dynamodb")
    )
    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=idempotency
    )(_place)


def submit(key: str, owner: Caller, account_id: str, order: OrderRequest) -> dict[str, Any]:
    """One order per (slot, bar, leg) key, whatever the number of deliveries."""
    identity = {"user_id": owner.user_id, "username": owner.username, "groups": sorted(owner.groups)}
    request = {
        "key": key,
        "account_id": account_id,
        "order": order.model_dump(mode="json"),
        "owner": identity,
    }
    try:
        return place_order()(request=request)
    except IdempotencyAlreadyInProgressError:
        raise ServiceUnavailable(f"order {key} is being submitted by another delivery") from None


runtime = runtime_service.Runtime(
    submit=submit, history=runtime_service.lake_history(lake),
    predictor=lambda: runtime_service.champion_predictor(settings.model_family),
)  # fmt: skip


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    try:
        if event.detail_type == "Scheduled Event":
            reports = runtime_service.on_schedule(runtime, runtime_service.latest_bar_detail)
            metrics.add_metric(
                name="StrategyDecisions", unit=MetricUnit.Count, value=sum(r.decided for r in reports)
            )
            announce_errors(reports)
            return {"bars": [vars(r) for r in reports]}
        report = runtime_service.on_bar(runtime, event.detail)
    except StrategyInputError as exc:  # a malformed bar: retrying cannot help
        logger.error("bar rejected", extra={"reason": str(exc), "detail": event.detail})
        return {"rejected": str(exc)}
    except runtime_service.SlotsFailed as exc:  # redelivered; a slot paused meanwhile is not active any more
        announce_errors(exc.reports)
        raise
    metrics.add_metric(name="StrategyDecisions", unit=MetricUnit.Count, value=report.decided)
    metrics.add_metric(name="StrategyOrders", unit=MetricUnit.Count, value=report.orders)
    if report.paused:
        metrics.add_metric(name="StrategySlotsPaused", unit=MetricUnit.Count, value=len(report.paused))
        announce_errors([report])
    return vars(report)
