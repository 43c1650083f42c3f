"""The paper broker: on each `BarClosed`, the open orders of that symbol fill (or not) against the bar.

Fill ids are ``<order id>:<bar id>``, so a redelivered bar event finds its fills already booked and only
finishes their flush. DAY orders expire at 16:00 New York time of the day they were accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from trade2026.adapters import trading_store as store
from trade2026.domain.trading.broker import Bar, FillModel, WorkingOrder, decide_fill, expire_day
from trade2026.domain.trading.ledger import PositionBook
from trade2026.domain.trading.orders import OrderStatus, Side
from trade2026.errors import Conflict
from trade2026.services import trading
from trade2026.services.trading import Publisher

NEW_YORK = ZoneInfo("America/New_York")
SESSION_CLOSE = time(16, 0)


@dataclass
class BarReport:
    orders: int = 0
    fills: int = 0
    canceled: int = 0
    expired: int = 0
    conflicts: int = 0


def session_close_after(moment: datetime) -> datetime:
    """The first 16:00 New York at or after ``moment`` (UTC)."""
    local = moment.astimezone(NEW_YORK)
    close = datetime.combine(local.date(), SESSION_CLOSE, NEW_YORK)
    if local >= close:
        close = datetime.combine(local.date() + timedelta(days=1), SESSION_CLOSE, NEW_YORK)
    return close.astimezone(UTC)


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def bar_from_event(detail: Mapping[str, Any]) -> Bar:
    def price(name: str) -> Decimal:
        return Decimal(str(detail[name]))

    volume = detail.get("volume")
    return Bar(
        symbol=str(detail["symbol"]), start=_utc(int(detail["start"])), end=_utc(int(detail["end"])),
        open=price("open"), high=price("high"), low=price("low"), close=price("close"),
        volume=None if volume is None else Decimal(str(volume)),
    )  # fmt: skip


def working(order: store.OrderModel) -> WorkingOrder:
    return WorkingOrder(
        order_id=order.order_id, spec=trading.order_spec(order), filled_quantity=Decimal(order.filled_quantity),
        accepted_at=datetime.fromisoformat(order.accepted_at or order.created_at),
        stop_triggered=bool(order.stop_triggered),
    )  # fmt: skip


def on_bar(detail: Mapping[str, Any], model: FillModel, publish: Publisher) -> BarReport:
    bar = bar_from_event(detail)
    bar_id = str(detail.get("id") or f"{bar.symbol}:{int(detail['start'])}")
    report = BarReport()
    for order in store.open_orders_of_symbol(bar.symbol):
        report.orders += 1
        try:
            _work(order, bar, bar_id, model, publish, report)
        except Conflict:
            report.conflicts += 1  # canceled or replaced meanwhile: the next bar sees the new state
    return report


def _work(
    order: store.OrderModel, bar: Bar, bar_id: str, model: FillModel, publish: Publisher, report: BarReport
) -> None:
    fill_id = f"{order.order_id}:{bar_id}"
    if fill_id in (order.fills or {}) or order.outbox:
        trading.flush_outbox(order, publish)  # a redelivered bar, or a change whose flush was interrupted
        if fill_id in (order.fills or {}):
            return
    state = working(order)
    if expire_day(state, session_close_after(state.accepted_at), now=bar.end):
        expire(order, "day order: the session closed", publish)
        report.expired += 1
        return
    decision = decide_fill(state, bar, model)
    if decision.quantity > 0 and decision.price is not None:
        quantity = fillable(order.pk, state, decision.quantity)
        if quantity <= 0:
            trading.cancel_with_reason(order, f"the position no longer allows a {state.spec.side}", publish)
            report.canceled += 1
            return
        trading.record_fill(
            order, fill_id, quantity, decision.price, model.fee(quantity, decision.price), bar.end,
            decision.cancel_rest or quantity < decision.quantity, decision.reason, publish,
        )  # fmt: skip
        report.fills += 1
    elif decision.cancel_rest:
        trading.cancel_with_reason(order, decision.reason, publish)
        report.canceled += 1
    elif decision.stop_triggered and not order.stop_triggered:
        trading.mark_stop_triggered(order, decision.reason)


def fillable(account_id: str, order: WorkingOrder, quantity: Decimal) -> Decimal:
    """How much of a fill the position allows now. Risk checked the order against the position at submission;
    other orders may have filled since (a short accepted while flat, then a buy filled first): a sell or cover
    is capped at what is held, and a buy while short or a short while long does not fill at all."""
    item = store.get_position(account_id, order.spec.symbol)
    held = PositionBook.from_dict(item.book).quantity if item else Decimal(0)
    side = order.spec.side
    if side is Side.SELL:
        return min(quantity, max(held, Decimal(0)))
    if side is Side.COVER:
        return min(quantity, max(-held, Decimal(0)))
    if (side is Side.BUY and held < 0) or (side is Side.SHORT and held > 0):
        return Decimal(0)
    return quantity


def expire(order: store.OrderModel, reason: str, publish: Publisher) -> None:
    trading.finish(order, OrderStatus.EXPIRED, "expired", reason, publish)


def expire_day_orders(now: datetime, publish: Publisher) -> int:
    """The scheduled sweep after the close: every DAY order whose session has closed expires."""
    expired = 0
    for account_id in store.accounts_with_open_orders():
        for order in store.open_orders_of_account(account_id):
            state = working(order)
            if expire_day(state, session_close_after(state.accepted_at), now=now):
                try:
                    expire(order, "day order: the session closed", publish)
                    expired += 1
                except Conflict:
                    continue
    return expired
