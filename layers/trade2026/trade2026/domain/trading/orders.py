"""Orders: their specification, validation, replacement and the explicit lifecycle state machine.

Pure standard library (this module is on the order hot path): prices and quantities are ``decimal.Decimal``.

Sides say what an order does to the position, not only its direction:

- ``buy`` opens or adds to a LONG position, ``sell`` reduces or closes it;
- ``short`` opens or adds to a SHORT position, ``cover`` reduces or closes it.

``buy``/``cover`` buy shares (direction +1), ``sell``/``short`` sell them (direction -1).

Lifecycle (every arrow is an event; nothing else is allowed, a terminal state goes nowhere)::

    NEW ──> ACCEPTED ──> PARTIALLY_FILLED ──> FILLED
     │         │  │  │         │  │  └──────> CANCELED
     │         │  │  │         │  └─────────> EXPIRED
     │         │  │  │         └─> PARTIALLY_FILLED (another partial fill)
     └─> REJECTED  │  └──> FILLED
                   └─────> CANCELED | EXPIRED
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"
    SHORT = "short"
    COVER = "cover"

    @property
    def direction(self) -> int:
        """+1 for the sides that buy shares (buy, cover), -1 for those that sell them (sell, short)."""
        return 1 if self in (Side.BUY, Side.COVER) else -1

    @property
    def is_buy(self) -> bool:
        return self.direction > 0

    @property
    def closes(self) -> bool:
        """True for the sides that reduce an existing position (sell a long, cover a short)."""
        return self in (Side.SELL, Side.COVER)


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"


TERMINAL: frozenset[OrderStatus] = frozenset(
    {OrderStatus.REJECTED, OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
)
OPEN: frozenset[OrderStatus] = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})

_AFTER_OPEN = frozenset(
    {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
)
#: Every legal transition: ``TRANSITIONS[current]`` is the set of states ``current`` may move to.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.NEW: frozenset({OrderStatus.ACCEPTED, OrderStatus.REJECTED}),
        OrderStatus.ACCEPTED: _AFTER_OPEN,
        OrderStatus.PARTIALLY_FILLED: _AFTER_OPEN,
        **{state: frozenset() for state in TERMINAL},
    }
)


class IllegalTransition(ValueError):
    """A lifecycle move the state machine does not allow; the message names both states."""

    def __init__(self, current: OrderStatus, new: OrderStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (terminal state)"
        super().__init__(f"illegal order transition {current} -> {new}; from {current} only: {allowed}")
        self.current = current
        self.new = new


def transition(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """``new`` if the lifecycle allows ``current -> new``, else :class:`IllegalTransition`."""
    current, new = OrderStatus(current), OrderStatus(new)
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(current, new)
    return new


@dataclass(frozen=True)
class OrderSpec:
    """What the trader asked for. ``limit_price`` for limit/stop-limit, ``stop_price`` for stop/stop-limit."""

    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class OrderProblem(ValueError):
    """An order that cannot be accepted as written; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_NEEDS_LIMIT = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_NEEDS_STOP = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
_IMMEDIATE_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT})


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def _check_price(field: str, price: Decimal, tick_size: Decimal) -> None:
    if not price.is_finite() or price <= 0:
        raise OrderProblem(field, f"{field} must be a positive number; got {price}")
    if not _on_grid(price, tick_size):
        raise OrderProblem(field, f"{field} {price} is not a multiple of the tick size {tick_size}")


def validate_order(
    spec: OrderSpec, tick_size: Decimal = Decimal("0.01"), lot_size: Decimal = Decimal("1")
) -> None:
    """Raise :class:`OrderProblem` for the first problem found (fields checked in a fixed order).

    Rules: a non-empty symbol; ``0 < quantity`` and a multiple of ``lot_size``; limit and stop-limit orders
    need ``limit_price``, stop and stop-limit orders need ``stop_price``; a market order carries no price,
    a limit order no stop price and a stop order no limit price; every price is positive and on the
    ``tick_size`` grid; IOC and FOK only for market and limit orders (they must act on arrival, and a
    stop order has not arrived at the market yet).
    """
    if tick_size <= 0 or lot_size <= 0:
        raise ValueError(f"tick_size and lot_size must be positive; got {tick_size} and {lot_size}")
    if not spec.symbol or not spec.symbol.strip():
        raise OrderProblem("symbol", "symbol must not be empty")
    quantity = spec.quantity
    if not quantity.is_finite() or quantity <= 0:
        raise OrderProblem("quantity", f"quantity must be greater than 0; got {quantity}")
    if not _on_grid(quantity, lot_size):
        raise OrderProblem("quantity", f"quantity {quantity} is not a multiple of the lot size {lot_size}")
    kind = spec.order_type
    if kind in _NEEDS_LIMIT and spec.limit_price is None:
        raise OrderProblem("limit_price", f"a {kind} order needs a limit_price")
    if kind in _NEEDS_STOP and spec.stop_price is None:
        raise OrderProblem("stop_price", f"a {kind} order needs a stop_price")
    if kind not in _NEEDS_LIMIT and spec.limit_price is not None:
        raise OrderProblem("limit_price", f"a {kind} order takes no limit_price (got {spec.limit_price})")
    if kind not in _NEEDS_STOP and spec.stop_price is not None:
        raise OrderProblem("stop_price", f"a {kind} order takes no stop_price (got {spec.stop_price})")
    if spec.limit_price is not None:
        _check_price("limit_price", spec.limit_price, tick_size)
    if spec.stop_price is not None:
        _check_price("stop_price", spec.stop_price, tick_size)
    if spec.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and kind not in _IMMEDIATE_TYPES:
        raise OrderProblem(
            "time_in_force",
            f"time_in_force {spec.time_in_force} is only for market and limit orders, not {kind}; use day or gtc",
        )


def apply_replace(
    spec: OrderSpec,
    filled: Decimal,
    quantity: Decimal | None = None,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    *,
    tick_size: Decimal = Decimal("0.01"),
    lot_size: Decimal = Decimal("1"),
) -> OrderSpec:
    """The order after a cancel/replace: only quantity, limit price and stop price may change.

    ``None`` keeps a value. ``quantity`` is the new TOTAL quantity (filled shares included) and must exceed
    what is already ``filled`` (otherwise the trader wants a cancel). The result is validated like a new
    order (so a price on a market order or a price off the tick grid is refused); asking for no change at
    all is an :class:`OrderProblem` too.
    """
    if quantity is None and limit_price is None and stop_price is None:
        raise OrderProblem("order", "a replace must change quantity, limit_price or stop_price")
    if quantity is not None and quantity <= filled:
        raise OrderProblem(
            "quantity",
            f"new quantity {quantity} must exceed the {filled} already filled; cancel the order instead",
        )
    new_spec = replace(
        spec,
        quantity=spec.quantity if quantity is None else quantity,
        limit_price=spec.limit_price if limit_price is None else limit_price,
        stop_price=spec.stop_price if stop_price is None else stop_price,
    )
    validate_order(new_spec, tick_size=tick_size, lot_size=lot_size)
    return new_spec
