"""Pre-trade risk rules: every rule an order breaks, each named with its limit and the order's number.

Pure standard library (order hot path); money and quantities are ``decimal.Decimal``, compared exactly.
:func:`evaluate` returns ALL violations (empty = the order passes); it never raises for a valid order.

Definitions used by the rules (``q`` = order quantity, ``d`` = +1 for buy/cover and -1 for sell/short):

- reference price ``P``: the limit price for limit and stop-limit orders, the stop price for stop orders,
  the last price for market orders (a market order without a last price breaks ``no_market_price`` and the
  rules that need ``P`` are then not evaluated);
- notional ``N = q * P``;
- position after the fill ``position_quantity + d * q`` (this symbol, signed);
- exposures after the fill: ``exposures`` with ``d * N`` added to this symbol's signed market value;
  gross exposure = ``sum |exposure|`` + ``sum |open order notional|``; net exposure =
  ``|sum exposure + sum open order notional|`` (open orders are this account's OTHER open orders);
- a CLOSING order is a sell of at most the long position or a cover of at most the short position
  (``0 < q <= position`` for sell, ``0 < q <= -position`` for cover). It can only shrink the position,
  so it always passes ``max_position``, ``max_gross_exposure``, ``max_net_exposure`` and ``buying_power``
  (a trader must always be able to reduce risk, even while over a limit that an admin lowered).

The rules, in the order they are reported (a limit value is always the one in :class:`RiskLimits`):

``kill_switch``        the account's or the global kill switch is on (one violation each): every order is
                       refused, closing ones too, until an admin resets it.
``restricted_symbol``  the symbol is on ``restricted_symbols`` (exact match; symbols are upper-case
                       upstream); both directions are refused.
``daily_loss_limit``   ``daily_pnl <= -daily_loss_limit`` (a loss of exactly the limit trips it).
``order_rate``         ``orders_this_second + 1 > max_orders_per_second`` (this order would be one too many).
``max_order_quantity`` ``q > max_order_quantity``.
``no_market_price``    a market order and no last price.
``max_order_notional`` ``N > max_order_notional``.
``price_collar``       for each of the order's limit and stop prices ``p`` (when a last price ``L`` is known):
                       ``|p - L| > price_collar_pct * L``, i.e. a price outside ``[L(1-c), L(1+c)]`` (the
                       bounds pass). Without a last price the collar cannot be checked and passes.
``side_position``      the side does not fit the position: ``sell`` needs ``q + pending_close_quantity <=
                       position`` (a long position to sell; more is a short, say ``short``); ``cover`` needs
                       ``q + pending_close_quantity <= -position``; ``short`` while long and ``buy`` while
                       short are refused (close the position first).
``max_position``       opening orders: ``|position + d*q| > max_position_quantity``.
``max_gross_exposure`` opening orders: gross exposure after the fill ``> max_gross_exposure``.
``max_net_exposure``   opening orders: net exposure after ``> max_net_exposure`` AND larger than before
                       (an opening order that reduces net exposure, a hedge, passes).
``buying_power``       opening orders: ``N * initial_margin > equity - (sum |exposure| + sum |open order
                       notional|) * initial_margin``: the order's initial margin must fit in what the
                       equity leaves after the margin already used by positions and open orders (Reg T:
                       ``initial_margin = 0.5`` means 2:1). ``cash`` is not used directly: it is part of
                       equity, and short sale proceeds are not buying power.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from trade2026.domain.trading.orders import OrderSpec, OrderType, Side

ZERO = Decimal(0)

RULES: tuple[str, ...] = (
    "kill_switch",
    "restricted_symbol",
    "daily_loss_limit",
    "order_rate",
    "max_order_quantity",
    "no_market_price",
    "max_order_notional",
    "price_collar",
    "side_position",
    "max_position",
    "max_gross_exposure",
    "max_net_exposure",
    "buying_power",
)


class LimitsProblem(ValueError):
    """Risk limits that cannot be used (from :meth:`RiskLimits.from_dict`); ``field`` names the limit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RiskLimits:
    """One account's limits. Money in the account currency; ``price_collar_pct`` and ``initial_margin`` are
    fractions (0.05 = 5 %, 0.5 = Reg T 2:1); ``daily_loss_limit`` is a positive amount (the loss that trips)."""

    max_order_quantity: Decimal
    max_order_notional: Decimal
    price_collar_pct: Decimal
    max_position_quantity: Decimal
    max_gross_exposure: Decimal
    max_net_exposure: Decimal
    restricted_symbols: frozenset[str]
    initial_margin: Decimal
    max_orders_per_second: int
    daily_loss_limit: Decimal

    DEFAULT: ClassVar[RiskLimits]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: decimals as strings, the restricted list sorted, the order rate an int."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, Decimal):
                out[spec.name] = str(value)
            elif isinstance(value, frozenset):
                out[spec.name] = sorted(value)
            else:
                out[spec.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: RiskLimits | None = None) -> RiskLimits:
        """Limits from JSON-like data; keys left out keep ``base`` (default :attr:`DEFAULT`) values.

        Numbers may be strings, ints or floats (floats through ``str``, so 0.1 stays 0.1). Raises
        :class:`LimitsProblem` for an unknown key, a value that is not a number, a negative limit, a collar
        outside [0, 1] or an initial margin outside (0, 1].
        """
        base = cls.DEFAULT if base is None else base
        names = {spec.name for spec in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise LimitsProblem(unknown[0], f"unknown risk limit(s): {', '.join(unknown)}")
        values: dict[str, Any] = {name: getattr(base, name) for name in names}
        for name, raw in data.items():
            if name == "restricted_symbols":
                if not isinstance(raw, list | tuple | set | frozenset) or not all(
                    isinstance(i, str) for i in raw
                ):
                    raise LimitsProblem(name, "restricted_symbols must be a list of symbols")
                values[name] = frozenset(item.strip().upper() for item in raw if item.strip())
            elif name == "max_orders_per_second":
                values[name] = _integer(name, raw)
            else:
                values[name] = _decimal(name, raw)
        limits = cls(**values)
        limits.check()
        return limits

    def check(self) -> None:
        """Raise :class:`LimitsProblem` if a limit is negative or a fraction is out of range."""
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, Decimal | int) and value < 0:
                raise LimitsProblem(spec.name, f"{spec.name} must not be negative; got {value}")
        if self.price_collar_pct > 1:
            raise LimitsProblem(
                "price_collar_pct", f"price_collar_pct must be <= 1; got {self.price_collar_pct}"
            )
        if not ZERO < self.initial_margin <= 1:
            raise LimitsProblem(
                "initial_margin", f"initial_margin must be in (0, 1]; got {self.initial_margin}"
            )


def _decimal(name: str, raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise LimitsProblem(name, f"{name} must be a number; got {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise LimitsProblem(name, f"{name} must be a number; got {raw!r}") from None
    if not value.is_finite():
        raise LimitsProblem(name, f"{name} must be a finite number; got {raw!r}")
    return value


def _integer(name: str, raw: object) -> int:
    value = _decimal(name, raw)
    if value != value.to_integral_value():
        raise LimitsProblem(name, f"{name} must be a whole number; got {raw!r}")
    return int(value)


#: Sensible for a $1M paper account: 10k shares or $250k per order, 5 % collar, 50k shares per symbol,
#: Reg T 2:1 ($2M gross, $1M net), 20 orders/s, trading stops after a $50k (5 %) day loss.
RiskLimits.DEFAULT = RiskLimits(
    max_order_quantity=Decimal(10_000),
    max_order_notional=Decimal(250_000),
    price_collar_pct=Decimal("0.05"),
    max_position_quantity=Decimal(50_000),
    max_gross_exposure=Decimal(2_000_000),
    max_net_exposure=Decimal(1_000_000),
    restricted_symbols=frozenset(),
    initial_margin=Decimal("0.5"),
    max_orders_per_second=20,
    daily_loss_limit=Decimal(50_000),
)
DEFAULT_LIMITS = RiskLimits.DEFAULT


_SIGN = {Side.BUY: 1, Side.COVER: 1, Side.SELL: -1, Side.SHORT: -1}


@dataclass(frozen=True)
class OpenExposure:
    """What an account's open orders in one symbol still hold, kept as running sums so that a risk check reads
    one item per symbol however many orders are open: the signed notional of priced orders (limit / stop, at
    their limit, else stop price), the signed quantity of unpriced ones (market orders: valued at the last
    price when checked), and the quantities working to sell and to cover (closing orders)."""

    priced: Decimal = ZERO
    unpriced: Decimal = ZERO
    selling: Decimal = ZERO
    covering: Decimal = ZERO

    @classmethod
    def of_order(cls, spec: OrderSpec, remaining: Decimal) -> OpenExposure:
        signed = _SIGN[spec.side] * remaining
        price = spec.limit_price or spec.stop_price
        return cls(
            priced=signed * price if price else ZERO, unpriced=ZERO if price else signed,
            selling=remaining if spec.side is Side.SELL else ZERO,
            covering=remaining if spec.side is Side.COVER else ZERO,
        )  # fmt: skip

    def __add__(self, other: OpenExposure) -> OpenExposure:
        return OpenExposure(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: OpenExposure) -> OpenExposure:
        return OpenExposure(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    def changes(self) -> dict[str, Decimal]:
        """The non-zero sums (as a change to apply, what is left to write)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def value(self, last_price: Decimal | None) -> Decimal:
        return self.priced + self.unpriced * (last_price or ZERO)

    def closing(self, side: Side) -> Decimal:
        """Quantity of open orders on the same closing side (sell or cover) as ``side``."""
        return {Side.SELL: self.selling, Side.COVER: self.covering}.get(side, ZERO)


@dataclass(frozen=True)
class RiskContext:
    """What the risk check knows about the account and the market when the order arrives.

    ``exposures``: signed market value per symbol (this one included); ``open_order_exposure``: signed notional
    of the account's OTHER open orders per symbol; ``orders_this_second``: orders already accepted this second
    (not this one); ``pending_close_quantity``: remaining quantity of other open CLOSING orders on this symbol
    (sells while long, covers while short), so two sells cannot together sell more than the position.
    """

    last_price: Decimal | None
    position_quantity: Decimal = ZERO
    exposures: Mapping[str, Decimal] = field(default_factory=dict)
    open_order_exposure: Mapping[str, Decimal] = field(default_factory=dict)
    cash: Decimal = ZERO
    equity: Decimal = ZERO
    orders_this_second: int = 0
    daily_pnl: Decimal = ZERO
    account_killed: str | None = None
    global_killed: str | None = None
    pending_close_quantity: Decimal = ZERO


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``rule`` from :data:`RULES`, a human ``message`` with the numbers, and both numbers."""

    rule: str
    message: str
    limit: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message, "limit": self.limit, "actual": self.actual}


def daily_loss_breached(daily_pnl: Decimal, limits: RiskLimits) -> bool:
    """True when the day's P&L is a loss of at least ``daily_loss_limit`` (this trips the kill switch)."""
    return daily_pnl <= -limits.daily_loss_limit


def daily_loss_used(daily_pnl: Decimal, limits: RiskLimits) -> Decimal:
    """Today's loss as a percentage of the daily loss limit (0 while the day is flat or up): the early warning."""
    if limits.daily_loss_limit <= 0:
        return Decimal(100) if daily_pnl < 0 else Decimal(0)
    return max(Decimal(0), -daily_pnl) * 100 / limits.daily_loss_limit


def reference_price(spec: OrderSpec, last_price: Decimal | None) -> Decimal | None:
    """Limit price (limit, stop-limit), stop price (stop) or the last price (market); None if unknown."""
    if spec.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return spec.limit_price
    if spec.order_type is OrderType.STOP:
        return spec.stop_price
    return last_price


def is_closing(spec: OrderSpec, position_quantity: Decimal) -> bool:
    """A sell of at most the long position or a cover of at most the short position."""
    if spec.side is Side.SELL:
        return ZERO < spec.quantity <= position_quantity
    if spec.side is Side.COVER:
        return ZERO < spec.quantity <= -position_quantity
    return False


def evaluate(spec: OrderSpec, ctx: RiskContext, limits: RiskLimits) -> list[Violation]:
    """Every rule ``spec`` breaks in ``ctx`` under ``limits`` (see the module docstring); empty = pass."""
    out = _account_rules(spec, ctx, limits)
    out += _order_rules(spec, ctx, limits)
    out += _side_rule(spec, ctx)
    price = reference_price(spec, ctx.last_price)
    if price is not None and not is_closing(spec, ctx.position_quantity):
        out += _opening_rules(spec, price, ctx, limits)
    return out


def _account_rules(spec: OrderSpec, ctx: RiskContext, limits: RiskLimits) -> list[Violation]:
    out: list[Violation] = []
    if ctx.global_killed:
        out.append(
            Violation("kill_switch", f"the global kill switch is on: {ctx.global_killed}", "off", "on")
        )
    if ctx.account_killed:
        out.append(
            Violation("kill_switch", f"the account's kill switch is on: {ctx.account_killed}", "off", "on")
        )
    if spec.symbol in limits.restricted_symbols:
        out.append(
            Violation(
                "restricted_symbol", f"{spec.symbol} is on the restricted list", "not restricted", spec.symbol
            )
        )
    if daily_loss_breached(ctx.daily_pnl, limits):
        out.append(
            Violation(
                "daily_loss_limit",
                f"today's P&L {ctx.daily_pnl} has reached the daily loss limit of -{limits.daily_loss_limit}",
                str(-limits.daily_loss_limit),
                str(ctx.daily_pnl),
            )
        )
    if ctx.orders_this_second + 1 > limits.max_orders_per_second:
        out.append(
            Violation(
                "order_rate",
                f"{ctx.orders_this_second + 1} orders this second would exceed max_orders_per_second "
                f"{limits.max_orders_per_second}",
                str(limits.max_orders_per_second),
                str(ctx.orders_this_second + 1),
            )
        )
    return out


def _order_rules(spec: OrderSpec, ctx: RiskContext, limits: RiskLimits) -> list[Violation]:
    out: list[Violation] = []
    q = spec.quantity
    if q > limits.max_order_quantity:
        out.append(
            Violation(
                "max_order_quantity",
                f"order quantity {q} exceeds max_order_quantity {limits.max_order_quantity}",
                str(limits.max_order_quantity),
                str(q),
            )
        )
    price = reference_price(spec, ctx.last_price)
    if price is None:
        out.append(
            Violation(
                "no_market_price",
                f"no last price for {spec.symbol}: a market order needs one to be checked",
                "a last price",
                "none",
            )
        )
    else:
        notional = q * price
        if notional > limits.max_order_notional:
            out.append(
                Violation(
                    "max_order_notional",
                    f"order notional {notional} ({q} x {price}) exceeds max_order_notional "
                    f"{limits.max_order_notional}",
                    str(limits.max_order_notional),
                    str(notional),
                )
            )
    out += _collar(spec, ctx.last_price, limits)
    return out


def _collar(spec: OrderSpec, last: Decimal | None, limits: RiskLimits) -> list[Violation]:
    if last is None:
        return []
    out: list[Violation] = []
    band = limits.price_collar_pct * last
    low, high = last - band, last + band
    for name, price in (("limit_price", spec.limit_price), ("stop_price", spec.stop_price)):
        if price is not None and abs(price - last) > band:
            out.append(
                Violation(
                    "price_collar",
                    f"{name} {price} is outside the {limits.price_collar_pct * 100}% collar around the last "
                    f"price {last}: [{low}, {high}]",
                    f"[{low}, {high}]",
                    str(price),
                )
            )
    return out


def _side_rule(spec: OrderSpec, ctx: RiskContext) -> list[Violation]:
    position, q, pending = ctx.position_quantity, spec.quantity, ctx.pending_close_quantity
    side = spec.side
    if side in (Side.SELL, Side.COVER):
        held = position if side is Side.SELL else -position
        if q + pending <= held:
            return []
        kind, opening = ("long", "short") if side is Side.SELL else ("short", "buy")
        pending_text = f" plus {pending} in other open {side} orders" if pending else ""
        return [
            Violation(
                "side_position",
                f"{side} {q}{pending_text} exceeds the {kind} position of {max(held, ZERO)} in {spec.symbol}; "
                f"use {opening} to open a {'long' if opening == 'buy' else 'short'} position",
                str(max(held, ZERO)),
                str(q + pending),
            )
        ]
    if side is Side.SHORT and position > 0:
        message = f"short {spec.symbol} while long {position}: sell the long position first"
    elif side is Side.BUY and position < 0:
        message = f"buy {spec.symbol} while short {-position}: cover the short position first"
    else:
        return []
    return [Violation("side_position", message, "0", str(position))]


def _opening_rules(spec: OrderSpec, price: Decimal, ctx: RiskContext, limits: RiskLimits) -> list[Violation]:
    out: list[Violation] = []
    signed = spec.side.direction * spec.quantity
    position_after = abs(ctx.position_quantity + signed)
    if position_after > limits.max_position_quantity:
        out.append(
            Violation(
                "max_position",
                f"position in {spec.symbol} would be {ctx.position_quantity + signed}, beyond "
                f"max_position_quantity {limits.max_position_quantity}",
                str(limits.max_position_quantity),
                str(position_after),
            )
        )
    notional = spec.quantity * price
    open_gross = sum((abs(v) for v in ctx.open_order_exposure.values()), ZERO)
    open_net = sum(ctx.open_order_exposure.values(), ZERO)
    gross_before = sum((abs(v) for v in ctx.exposures.values()), ZERO)
    net_before_positions = sum(ctx.exposures.values(), ZERO)
    this_before = ctx.exposures.get(spec.symbol, ZERO)
    this_after = this_before + spec.side.direction * notional
    gross_after = gross_before - abs(this_before) + abs(this_after) + open_gross
    net_before = abs(net_before_positions + open_net)
    net_after = abs(net_before_positions + spec.side.direction * notional + open_net)
    if gross_after > limits.max_gross_exposure:
        out.append(
            Violation(
                "max_gross_exposure",
                f"gross exposure would be {gross_after} (positions and open orders with this order), beyond "
                f"max_gross_exposure {limits.max_gross_exposure}",
                str(limits.max_gross_exposure),
                str(gross_after),
            )
        )
    if net_after > limits.max_net_exposure and net_after > net_before:
        out.append(
            Violation(
                "max_net_exposure",
                f"net exposure would be {net_after} (was {net_before}), beyond max_net_exposure "
                f"{limits.max_net_exposure}",
                str(limits.max_net_exposure),
                str(net_after),
            )
        )
    required = notional * limits.initial_margin
    available = ctx.equity - (gross_before + open_gross) * limits.initial_margin
    if required > available:
        out.append(
            Violation(
                "buying_power",
                f"initial margin {required} ({notional} x {limits.initial_margin}) exceeds buying power "
                f"{available} (equity {ctx.equity} - {limits.initial_margin} x "
                f"{gross_before + open_gross} already used)",
                str(available),
                str(required),
            )
        )
    return out
