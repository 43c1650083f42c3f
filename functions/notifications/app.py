"""Notifications: preferences API; delivers domain events (EventBridge) and ops alarms (SNS) to subscribers.

One handler for three event sources: API Gateway (preferences, delivery log, a test message), EventBridge
rules (OrderFilled, OrderRejected, KillSwitch, ModelRegistered/Promoted, SweepFinished, StrategyError, the
sweep state machine's TIMED_OUT/ABORTED status changes) and the ops alarm SNS topic. Kill switch and
daily-loss events are also counted as the metrics the ops alarms watch (KillSwitchEngaged, DailyLossLimitHit).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import notifications as store
from trade2026.adapters import research_store
from trade2026.adapters.trading_store import bind_tables, get_account
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services import notifications
from trade2026.services.notifications import DeliveryList, PreferencesRequest, PreferencesView
from trade2026.settings import trading_settings

settings = trading_settings()
bind_tables(settings.accounts_table, settings.orders_table, settings.order_events_table,
            settings.symbols_table, settings.market_state_table)  # fmt: skip
store.bind_table(os.environ["NOTIFICATIONS_TABLE"])
research_store.bind_table(os.environ["BACKTESTS_TABLE"])
LOCAL = os.environ.get("TRADE2026_LOCAL") == "1"  # webhooks only to loopback on the local cloud
EMAIL_FROM = os.environ.get("NOTIFY_EMAIL_FROM", "")
app = create_resolver()


def owner_of(account_id: str) -> str | None:
    account = get_account(account_id)
    return None if account is None else account.owner


def owner_of_sweep(sweep_id: str) -> str | None:
    run = research_store.get_run("sweep", sweep_id)
    return None if run is None else run.owner


@app.get("/v1/notifications/preferences", summary="The caller's notification channels and kinds")
def get_preferences() -> PreferencesView:
    return notifications.get_preferences(current_caller(app))


@app.put("/v1/notifications/preferences", summary="Set the caller's webhooks, emails and the kinds they want")
def put_preferences(body: PreferencesRequest) -> PreferencesView:
    return notifications.save_preferences(current_caller(app), body, LOCAL)


@app.get("/v1/notifications", summary="The caller's latest deliveries (newest first)")
def list_deliveries(limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeliveryList:
    return notifications.list_deliveries(current_caller(app), limit)


@app.post("/v1/notifications/test", summary="Send a test notification to each of the caller's channels")
def send_test() -> DeliveryList:
    caller = current_caller(app)
    prefs = store.get_preferences(caller.user_id)
    notifications.deliver(notifications.test_notice(caller), [prefs] if prefs else [], LOCAL, EMAIL_FROM)
    return notifications.list_deliveries(caller, 10)


def _notify(notice: notifications.Notice) -> int:
    for name in notice.metrics:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    done = notifications.deliver(notice, notifications.recipients(notice, owner_of), LOCAL, EMAIL_FROM)
    logger.info("notified", extra={"kind": notice.kind, "id": notice.id, "deliveries": len(done)})
    return len(done)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" in event:
        return app.resolve(event, context)
    if "detail-type" in event:
        notice = notifications.notice_from_event(event, owner_of_sweep)
        return {"delivered": _notify(notice) if notice else 0}
    delivered = 0
    for record in event.get("Records", []):
        sns = record.get("Sns") or {}
        delivered += _notify(
            notifications.notice_from_alarm(sns.get("Message", ""), sns.get("MessageId", ""))
        )
    return {"delivered": delivered}
