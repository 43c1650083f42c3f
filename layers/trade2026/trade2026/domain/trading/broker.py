"""The paper broker's fill model and the execution-venue interface a real broker adapter implements.

Pure standard library (order hot path); prices, quantities and fees are ``decimal.Decimal``.

:func:`decide_fill` decides, for ONE working order and ONE closed bar of its symbol, how much fills and at
what price. The rules, all conservative (never a better fill than the bar proves possible):

- Bars that end at or before the order's ``accepted_at`` are ignored (the order did not exist yet).
- What the order can see of a bar: if the bar starts at or after ``accepted_at``, the whole bar (open, high,
  low, close) and its first price is the OPEN; if the order was accepted inside the bar, only the bar's
  CLOSE is known to come after it, so the bar counts as one price: open = high = low = close.
- Buys and covers pay, sells and shorts receive; "adverse" below means up for buys, down for sells.
- Market: fills at the first price moved adversely by ``slippage_bps``.
- Limit buy: fills when ``low <= limit`` at ``min(limit, open)`` (a gap down through the limit fills at the
  better open); limit sell: ``high >= limit`` at ``max(limit, open)``. No slippage: a limit is the worst price.
- Stop buy: triggers when ``high >= stop`` and fills at ``max(stop, open)`` plus slippage (a gap through the
  stop fills at the worse open); stop sell: ``low <= stop`` at ``min(stop, open)`` minus slippage. A stop
  triggered on an earlier bar (partially filled) is a market order: first price plus slippage.
- Stop-limit: triggers like a stop, then is a limit order. The SAME-BAR rule: on the bar that triggers it,
  it fills only if the trigger price (``max(stop, open)`` for a buy, ``min(stop, open)`` for a sell) is within
  the limit, at the trigger price with slippage but never beyond the limit; whether the bar came back to the
  limit AFTER the trigger cannot be told from OHLC, so otherwise it only triggers and works as a plain limit
  order from the next bar on.
- Size: at most ``floor(volume * max_volume_share / lot_size) * lot_size`` per bar (no cap when the bar has no
  volume or ``max_volume_share`` is None); the rest keeps working (DAY, GTC).
- IOC: fills what the first bar it sees allows and cancels the rest (``cancel_rest``); FOK: fills everything on
  that first bar or nothing and is canceled.
- Prices are rounded to ``tick_size`` adversely (buys up, sells down), never beyond a limit price.
- Fee: ``max(min_fee, quantity * fee_per_share) + notional * fee_bps / 10_000``, rounded up to ``fee_quantum``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

from trade2026.domain.trading.orders import OrderSpec, OrderType, TimeInForce

ZERO = Decimal(0)
_BPS = Decimal(10_000)


@dataclass(frozen=True)
class Bar:
    """One closed bar of a symbol, ``[start, end)``; ``volume`` None when the source has none."""

    symbol: str
    start: datetime
    end: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | None = None


@dataclass(frozen=True)
class FillModel:
    """Slippage (basis points of the price), fees, the per-bar volume cap, the tick and the lot size."""

    slippage_bps: Decimal = Decimal(5)
    fee_per_share: Decimal = Decimal("0.005")
    min_fee: Decimal = Decimal(1)
    fee_bps: Decimal = ZERO
    max_volume_share: Decimal | None = Decimal("0.1")
    tick_size: Decimal = Decimal("0.01")
    lot_size: Decimal = Decimal(1)
    fee_quantum: Decimal = Decimal("0.01")

    def fee(self, quantity: Decimal, price: Decimal) -> Decimal:
        """``max(min_fee, quantity * fee_per_share) + quantity * price * fee_bps / 10_000``, rounded up."""
        if quantity <= 0:
            return ZERO
        raw = max(self.min_fee, quantity * self.fee_per_share) + quantity * price * self.fee_bps / _BPS
        return raw.quantize(self.fee_quantum, rounding=ROUND_CEILING)

    def slipped(self, price: Decimal, is_buy: bool) -> Decimal:
        """``price`` moved adversely by ``slippage_bps`` and rounded adversely to the tick."""
        factor = self.slippage_bps / _BPS
        return self.to_tick(price * (1 + factor) if is_buy else price * (1 - factor), is_buy)

    def to_tick(self, price: Decimal, is_buy: bool) -> Decimal:
        """Round to the tick grid, up for buys and down for sells (never below one tick)."""
        ticks = (price / self.tick_size).to_integral_value(rounding=ROUND_CEILING if is_buy else ROUND_FLOOR)
        return max(ticks, Decimal(1)) * self.tick_size

    def volume_cap(self, volume: Decimal | None) -> Decimal | None:
        """Most shares one bar can fill (whole lots), None for no cap."""
        if volume is None or self.max_volume_share is None:
            return None
        lots = (volume * self.max_volume_share / self.lot_size).to_integral_value(rounding=ROUND_FLOOR)
        return max(lots, ZERO) * self.lot_size


@dataclass(frozen=True)
class WorkingOrder:
    """An accepted order as the venue sees it: ``filled_quantity`` so far, stop already triggered or not."""

    order_id: str
    spec: OrderSpec
    filled_quantity: Decimal
    accepted_at: datetime
    stop_triggered: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.spec.quantity - self.filled_quantity


@dataclass(frozen=True)
class FillDecision:
    """What one bar does to one order. ``quantity`` 0 = no fill (``price`` None); ``stop_triggered`` is the
    order's state AFTER this bar; ``cancel_rest``: cancel what is left (IOC remainder, FOK not fillable);
    ``reason`` says why, for the explain log."""

    quantity: Decimal
    price: Decimal | None
    fee: Decimal
    stop_triggered: bool
    cancel_rest: bool
    reason: str

    @property
    def changes_order(self) -> bool:
        """True when the order must be updated: a fill, a cancel, or a stop that just triggered."""
        return self.quantity > 0 or self.cancel_rest


@dataclass(frozen=True)
class _View:
    """The part of a bar the order can see."""

    open: Decimal
    high: Decimal
    low: Decimal
    whole_bar: bool


def _view(order: WorkingOrder, bar: Bar) -> _View:
    if bar.start >= order.accepted_at:
        return _View(bar.open, bar.high, bar.low, whole_bar=True)
    return _View(bar.close, bar.close, bar.close, whole_bar=False)


def _no_fill(order: WorkingOrder, reason: str, *, triggered: bool | None = None) -> FillDecision:
    stop = order.stop_triggered if triggered is None else triggered
    return FillDecision(ZERO, None, ZERO, stop, cancel_rest=False, reason=reason)


def _price(order: WorkingOrder, view: _View, model: FillModel) -> tuple[Decimal | None, bool, str]:
    """(fill price or None, stop triggered after this bar, reason) ignoring size and time in force."""
    spec, buy = order.spec, order.spec.side.is_buy
    first = "open" if view.whole_bar else "close (accepted inside the bar)"
    kind = spec.order_type
    triggered = order.stop_triggered
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT) and not triggered:
        stop = spec.stop_price
        assert stop is not None
        if (view.high < stop) if buy else (view.low > stop):
            extreme = f"high {view.high}" if buy else f"low {view.low}"
            return None, False, f"stop {stop} not triggered ({extreme})"
        trigger = max(stop, view.open) if buy else min(stop, view.open)
        slipped = model.slipped(trigger, buy)
        if kind is OrderType.STOP:
            return (
                slipped,
                True,
                f"stop {stop} triggered; filled at {trigger} ({first} vs stop) with slippage",
            )
        limit = spec.limit_price
        assert limit is not None
        if (trigger > limit) if buy else (trigger < limit):
            return (
                None,
                True,
                f"stop {stop} triggered at {trigger}, beyond limit {limit}: works as a limit order",
            )
        price = min(slipped, limit) if buy else max(slipped, limit)
        return price, True, f"stop {stop} triggered at {trigger} within limit {limit}"
    if kind is OrderType.MARKET or (kind is OrderType.STOP and triggered):
        return model.slipped(view.open, buy), triggered, f"market at the {first} {view.open} with slippage"
    limit = spec.limit_price  # a limit order, or a stop-limit triggered earlier
    assert limit is not None
    if buy:
        if view.low > limit:
            return None, triggered, f"limit {limit} not reached (low {view.low})"
        return (
            min(limit, model.to_tick(view.open, True)),
            triggered,
            f"limit {limit} reached (low {view.low})",
        )
    if view.high < limit:
        return None, triggered, f"limit {limit} not reached (high {view.high})"
    return max(limit, model.to_tick(view.open, False)), triggered, f"limit {limit} reached (high {view.high})"


def decide_fill(order: WorkingOrder, bar: Bar, model: FillModel) -> FillDecision:
    """How much of ``order`` fills on ``bar`` and at what price (rules in the module docstring)."""
    if bar.symbol != order.spec.symbol:
        return _no_fill(order, f"bar of {bar.symbol}, order for {order.spec.symbol}")
    if bar.end <= order.accepted_at:
        return _no_fill(order, f"bar ended {bar.end.isoformat()}, before the order was accepted")
    remaining = order.remaining
    if remaining <= 0:
        return _no_fill(order, "nothing left to fill")
    tif = order.spec.time_in_force
    immediate = tif in (TimeInForce.IOC, TimeInForce.FOK)
    price, triggered, reason = _price(order, _view(order, bar), model)
    if price is None:
        if immediate:
            return FillDecision(ZERO, None, ZERO, triggered, True, f"{reason}; {tif} canceled")
        return _no_fill(order, reason, triggered=triggered)
    cap = model.volume_cap(bar.volume)
    quantity = remaining if cap is None else min(remaining, cap)
    size_note = "" if cap is None else f"; volume cap {cap} ({model.max_volume_share} of {bar.volume})"
    if tif is TimeInForce.FOK and quantity < remaining:
        return FillDecision(
            ZERO, None, ZERO, triggered, True, f"{reason}{size_note}: FOK {remaining} not fillable"
        )
    if quantity <= 0:
        if immediate:
            return FillDecision(
                ZERO, None, ZERO, triggered, True, f"{reason}{size_note}: nothing; {tif} canceled"
            )
        return _no_fill(order, f"{reason}{size_note}: nothing fills on this bar", triggered=triggered)
    rest = remaining - quantity
    cancel_rest = tif is TimeInForce.IOC and rest > 0
    tail = f"; IOC rest {rest} canceled" if cancel_rest else (f"; {rest} keeps working" if rest > 0 else "")
    return FillDecision(
        quantity=quantity,
        price=price,
        fee=model.fee(quantity, price),
        stop_triggered=triggered,
        cancel_rest=cancel_rest,
        reason=f"{reason}: {quantity} at {price}{size_note}{tail}",
    )


def expire_day(order: WorkingOrder, session_close: datetime, now: datetime | None = None) -> bool:
    """True when a DAY order expires at ``session_close``: it was accepted before that close (an order
    accepted after the close is for the next session) and, if ``now`` is given, the close has passed."""
    if order.spec.time_in_force is not TimeInForce.DAY or order.accepted_at >= session_close:
        return False
    return now is None or now >= session_close


class ExecutionVenue(Protocol):
    """Where accepted orders go: the paper broker here, a real broker adapter later."""

    def submit(self, order: WorkingOrder) -> None: ...

    def cancel(self, order_id: str) -> None: ...

    def on_bar(self, bar: Bar, orders: Sequence[WorkingOrder]) -> list[tuple[str, FillDecision]]: ...


class PaperVenue:
    """Fills working orders against closed bars with :func:`decide_fill`.

    The caller owns the orders' state (they live in a table): :meth:`on_bar` gets the open orders and returns
    the decisions that change an order (a fill, a cancel, a stop that triggered), in the given order.
    Orders canceled through this venue are skipped.
    """

    def __init__(self, model: FillModel | None = None) -> None:
        self.model = model or FillModel()
        self._submitted: set[str] = set()
        self._canceled: set[str] = set()

    def submit(self, order: WorkingOrder) -> None:
        self._submitted.add(order.order_id)
        self._canceled.discard(order.order_id)

    def cancel(self, order_id: str) -> None:
        self._canceled.add(order_id)

    def on_bar(self, bar: Bar, orders: Sequence[WorkingOrder]) -> list[tuple[str, FillDecision]]:
        out: list[tuple[str, FillDecision]] = []
        for order in orders:
            if order.order_id in self._canceled or order.spec.symbol != bar.symbol:
                continue
            decision = decide_fill(order, bar, self.model)
            if decision.changes_order or decision.stop_triggered != order.stop_triggered:
                out.append((order.order_id, decision))
        return out
