"""Pre-trade risk: each rule at its boundary (exactly at the limit passes, one cent or share over fails).

Every test starts from an order that passes everything under LIMITS and CTX, then moves ONE number.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trade2026.domain.trading.orders import OrderSpec, OrderType, Side, TimeInForce
from trade2026.domain.trading.risk import (
    DEFAULT_LIMITS,
    RULES,
    LimitsProblem,
    RiskContext,
    RiskLimits,
    Violation,
    daily_loss_breached,
    daily_loss_used,
    evaluate,
    reference_price,
)

D = Decimal

LIMITS = RiskLimits(
    max_order_quantity=D(1_000),
    max_order_notional=D(100_000),
    price_collar_pct=D("0.05"),
    max_position_quantity=D(2_000),
    max_gross_exposure=D(1_000_000),
    max_net_exposure=D(500_000),
    restricted_symbols=frozenset({"GME"}),
    initial_margin=D("0.5"),
    max_orders_per_second=5,
    daily_loss_limit=D(10_000),
)
CTX = RiskContext(last_price=D(100), equity=D(1_000_000), cash=D(1_000_000))


def limit(side: Side, qty: int | str, price: str | int, symbol: str = "AAPL") -> OrderSpec:
    return OrderSpec(symbol, side, D(qty), OrderType.LIMIT, limit_price=D(price))


def market(side: Side, qty: int | str, symbol: str = "AAPL") -> OrderSpec:
    return OrderSpec(symbol, side, D(qty), OrderType.MARKET)


def rules(spec: OrderSpec, ctx: RiskContext = CTX, limits: RiskLimits = LIMITS) -> list[str]:
    return [v.rule for v in evaluate(spec, ctx, limits)]


def only(spec: OrderSpec, ctx: RiskContext = CTX, limits: RiskLimits = LIMITS) -> Violation:
    found = evaluate(spec, ctx, limits)
    assert len(found) == 1, found
    return found[0]


def test_the_starting_point_passes() -> None:
    # Given the base limits and context / When a plain order of each type is checked / Then no violation
    assert rules(limit(Side.BUY, 100, 100)) == []
    assert rules(market(Side.SHORT, 100)) == []
    assert rules(OrderSpec("AAPL", Side.BUY, D(10), OrderType.STOP, stop_price=D(101))) == []


# ------------------------------------------------------------------ per-order rules
def test_max_order_quantity() -> None:
    # Given max 1,000 shares / When 1,000 and 1,001 are ordered (notional kept under its limit)
    # Then exactly 1,000 passes and 1,001 fails naming both numbers
    cheap = replace(CTX, last_price=D(50))
    assert rules(limit(Side.BUY, 1_000, 50), cheap) == []
    violation = only(limit(Side.BUY, 1_001, 50), cheap)
    assert violation.rule == "max_order_quantity"
    assert (violation.limit, violation.actual) == ("1000", "1001")
    assert "1001 exceeds max_order_quantity 1000" in violation.message


def test_max_order_notional_uses_the_reference_price_of_each_order_type() -> None:
    # Given max notional 10,000 and a last price of 100
    limits = replace(LIMITS, max_order_notional=D(10_000))
    # When 100 shares are ordered at exactly 100.00 (limit), 100 (market at last), 100 (stop), 100 (stop-limit)
    # Then all pass; one cent more on the reference price is 10,001 and fails
    assert rules(limit(Side.BUY, 100, "100.00"), limits=limits) == []
    assert only(limit(Side.BUY, 100, "100.01"), limits=limits).actual == "10001.00"
    assert rules(market(Side.BUY, 100), limits=limits) == []
    assert rules(market(Side.BUY, 100), replace(CTX, last_price=D("100.01")), limits) == [
        "max_order_notional"
    ]
    stop = OrderSpec("AAPL", Side.SHORT, D(100), OrderType.STOP, stop_price=D(100))
    assert rules(stop, limits=limits) == []
    assert rules(replace(stop, stop_price=D("100.01")), limits=limits) == ["max_order_notional"]
    stop_limit = OrderSpec(
        "AAPL", Side.BUY, D(100), OrderType.STOP_LIMIT, limit_price=D(100), stop_price=D(99)
    )
    assert rules(stop_limit, limits=limits) == []
    assert rules(replace(stop_limit, limit_price=D("100.01")), limits=limits) == ["max_order_notional"]


def test_reference_price_definition() -> None:
    # Given one order of each type / When its reference price is asked / Then limit, stop, last as documented
    assert reference_price(limit(Side.BUY, 1, 7), D(9)) == D(7)
    assert reference_price(OrderSpec("A", Side.BUY, D(1), OrderType.STOP, stop_price=D(8)), D(9)) == D(8)
    assert reference_price(market(Side.BUY, 1), D(9)) == D(9)
    assert reference_price(market(Side.BUY, 1), None) is None


def test_no_market_price_only_for_market_orders() -> None:
    # Given no last price / When a market and a limit order arrive
    ctx = replace(CTX, last_price=None)
    # Then the market order breaks no_market_price; the limit order passes (nothing to collar against)
    violation = only(market(Side.BUY, 10), ctx)
    assert violation.rule == "no_market_price"
    assert "AAPL" in violation.message
    assert rules(limit(Side.BUY, 10, 250), ctx) == []


@pytest.mark.parametrize(
    ("price", "passes"),
    [("105.00", True), ("105.01", False), ("95.00", True), ("94.99", False), ("100", True)],
)
def test_price_collar_on_limit_prices(price: str, passes: bool) -> None:
    # Given a last price of 100 and a 5% collar: [95, 105]
    # When a limit order is priced at or one cent beyond a bound / Then exactly the bounds pass
    found = rules(limit(Side.SELL, 10, price), replace(CTX, position_quantity=D(10)))
    assert found == ([] if passes else ["price_collar"])


def test_price_collar_checks_stop_prices_too_and_names_the_band() -> None:
    # Given a stop-limit whose limit is in the band and whose stop is one cent out
    spec = OrderSpec(
        "AAPL", Side.BUY, D(10), OrderType.STOP_LIMIT, limit_price=D(105), stop_price=D("105.01")
    )
    # When checked / Then one collar violation for the stop price, with the band in the message
    violation = only(spec)
    assert violation.rule == "price_collar"
    assert violation.limit == "[95.00, 105.00]"
    assert violation.actual == "105.01"
    assert "stop_price 105.01" in violation.message
    assert rules(replace(spec, stop_price=D(105))) == []


# ------------------------------------------------------------------ position and side
@pytest.mark.parametrize(
    ("position", "side", "qty", "pending", "passes"),
    [
        (100, Side.SELL, 100, 0, True),  # sell the whole long
        (100, Side.SELL, 101, 0, False),  # one more than long
        (100, Side.SELL, 50, 50, True),  # another open sell of 50 already
        (100, Side.SELL, 51, 50, False),
        (0, Side.SELL, 1, 0, False),  # sell while flat: that is a short
        (-100, Side.COVER, 100, 0, True),
        (-100, Side.COVER, 101, 0, False),
        (-100, Side.COVER, 61, 40, False),
        (0, Side.COVER, 1, 0, False),
        (100, Side.SHORT, 1, 0, False),  # short while long
        (0, Side.SHORT, 1, 0, True),
        (-100, Side.SHORT, 1, 0, True),
        (-100, Side.BUY, 1, 0, False),  # buy while short
        (0, Side.BUY, 1, 0, True),
        (100, Side.BUY, 1, 0, True),
    ],
)
def test_side_position(position: int, side: Side, qty: int, pending: int, passes: bool) -> None:
    # Given a position (and other open closing orders) / When an order of a side arrives
    ctx = replace(CTX, position_quantity=D(position), pending_close_quantity=D(pending))
    # Then the side fits the position or side_position says why
    found = rules(limit(side, qty, 100), ctx)
    assert ("side_position" not in found) is passes
    assert found == ([] if passes else ["side_position"])


def test_side_position_message_names_the_numbers() -> None:
    # Given long 100 / When selling 150 / Then the message names both quantities and the side to use
    violation = only(limit(Side.SELL, 150, 100), replace(CTX, position_quantity=D(100)))
    assert (violation.limit, violation.actual) == ("100", "150")
    assert "sell 150 exceeds the long position of 100 in AAPL; use short" in violation.message


@pytest.mark.parametrize(
    ("position", "side", "qty", "passes"),
    [
        (1_900, Side.BUY, 100, True),
        (1_900, Side.BUY, 101, False),
        (-1_900, Side.SHORT, 100, True),
        (-1_900, Side.SHORT, 101, False),
        (0, Side.SHORT, 1_000, True),
    ],
)
def test_max_position(position: int, side: Side, qty: int, passes: bool) -> None:
    # Given max 2,000 shares per symbol / When the position after the fill is exactly 2,000 or 2,001
    ctx = replace(CTX, position_quantity=D(position), last_price=D(10))
    # Then exactly the limit passes
    assert rules(limit(side, qty, 10), ctx) == ([] if passes else ["max_position"])


def test_closing_orders_pass_position_exposure_and_buying_power_checks_while_over_limits() -> None:
    # Given an account far over every exposure limit and with no buying power left
    limits = replace(LIMITS, max_position_quantity=D(10), max_gross_exposure=D(1), max_net_exposure=D(1))
    ctx = replace(CTX, position_quantity=D(3_000), exposures={"AAPL": D(300_000)}, equity=D(0))
    # When it sells part of the long / Then nothing stops it reducing risk
    assert rules(limit(Side.SELL, 1_000, 100), ctx, limits) == []
    # And buying more breaks all four
    assert rules(limit(Side.BUY, 1, 100), ctx, limits) == [
        "max_position",
        "max_gross_exposure",
        "max_net_exposure",
        "buying_power",
    ]


# ------------------------------------------------------------------ exposure and margin
def test_max_gross_exposure_counts_positions_open_orders_and_this_order() -> None:
    # Given positions AAPL +10,000 and MSFT -20,000 and an open MSFT sell of 5,000: gross 35,000 before
    ctx = replace(
        CTX, exposures={"AAPL": D(10_000), "MSFT": D(-20_000)}, open_order_exposure={"MSFT": D(-5_000)}
    )
    limits = replace(LIMITS, max_gross_exposure=D(45_000))
    # When buying 100 AAPL at 100.00 (gross 45,000) and at 100.01 (45,001)
    # Then exactly the limit passes
    assert rules(limit(Side.BUY, 100, "100.00"), ctx, limits) == []
    violation = only(limit(Side.BUY, 100, "100.01"), ctx, limits)
    assert violation.rule == "max_gross_exposure"
    assert (violation.limit, violation.actual) == ("45000", "45001.00")


def test_max_net_exposure_at_the_boundary_and_hedges_pass() -> None:
    # Given AAPL +10,000, MSFT -2,000 and an open IBM buy of 1,000: net 9,000 before
    ctx = replace(
        CTX, exposures={"AAPL": D(10_000), "MSFT": D(-2_000)}, open_order_exposure={"IBM": D(1_000)}
    )
    limits = replace(LIMITS, max_net_exposure=D(19_000))
    # When buying 10,000 more (net 19,000) or 10,001 (19,001) / Then exactly the limit passes
    assert rules(limit(Side.BUY, 100, "100.00"), ctx, limits) == []
    assert only(limit(Side.BUY, 100, "100.01"), ctx, limits).actual == "19001.00"
    # Given a book already over a 10,000 net limit at +50,000
    over = replace(CTX, exposures={"AAPL": D(50_000)})
    small = replace(LIMITS, max_net_exposure=D(10_000))
    # When a short of another symbol reduces net exposure / Then it passes (a hedge)
    assert rules(limit(Side.SHORT, 100, 100, "MSFT"), over, small) == []
    # And a short that overshoots to the other side beyond the limit fails at the boundary
    flat5k = replace(CTX, exposures={"AAPL": D(5_000)})
    assert rules(limit(Side.SHORT, 150, 100, "MSFT"), flat5k, small) == []  # |5,000 - 15,000| = 10,000
    assert rules(limit(Side.SHORT, 151, 100, "MSFT"), flat5k, small) == ["max_net_exposure"]


@pytest.mark.parametrize("side", [Side.BUY, Side.SHORT])
def test_buying_power(side: Side) -> None:
    # Given equity 100,000, positions of 100,000 gross and an open order of 20,000 at 50% initial margin:
    # 100,000 - 0.5 x 120,000 = 40,000 buying power, i.e. 80,000 of new notional
    ctx = replace(
        CTX, equity=D(100_000), exposures={"MSFT": D(100_000)}, open_order_exposure={"IBM": D(20_000)}
    )
    # When opening 800 shares at 100.00 (margin 40,000) and at 100.01 (40,004)
    # Then exactly the limit passes, for longs and shorts alike
    assert rules(limit(side, 800, "100.00"), ctx) == []
    violation = only(limit(side, 800, "100.01"), ctx)
    assert violation.rule == "buying_power"
    assert violation.limit == "40000.0"
    assert violation.actual == "40004.000"
    assert "equity 100000" in violation.message


# ------------------------------------------------------------------ account rules
def test_order_rate() -> None:
    # Given max 5 orders per second / When 4 were accepted this second / Then the 5th passes, the 6th fails
    assert rules(limit(Side.BUY, 1, 100), replace(CTX, orders_this_second=4)) == []
    violation = only(limit(Side.BUY, 1, 100), replace(CTX, orders_this_second=5))
    assert violation.rule == "order_rate"
    assert (violation.limit, violation.actual) == ("5", "6")


def test_daily_loss_limit() -> None:
    # Given a 10,000 daily loss limit / When the day's P&L is -9,999.99 and -10,000.00
    # Then the first passes and the second (a loss of exactly the limit) trips, for closing orders too
    assert not daily_loss_breached(D("-9999.99"), LIMITS)
    assert daily_loss_breached(D("-10000.00"), LIMITS)
    assert rules(limit(Side.BUY, 1, 100), replace(CTX, daily_pnl=D("-9999.99"))) == []
    ctx = replace(CTX, daily_pnl=D("-10000.00"), position_quantity=D(5))
    violation = only(limit(Side.SELL, 5, 100), ctx)
    assert violation.rule == "daily_loss_limit"
    assert (violation.limit, violation.actual) == ("-10000", "-10000.00")


def test_restricted_symbol() -> None:
    # Given GME restricted / When GME and GMEX are bought / Then only GME fails, and selling it fails too
    assert only(limit(Side.BUY, 1, 100, "GME")).rule == "restricted_symbol"
    assert rules(limit(Side.BUY, 1, 100, "GMEX")) == []
    assert rules(limit(Side.SELL, 1, 100, "GME"), replace(CTX, position_quantity=D(1))) == [
        "restricted_symbol"
    ]


def test_kill_switches_block_every_order_and_say_why() -> None:
    # Given the account's and the global kill switch on / When even a closing order arrives
    ctx = replace(
        CTX, position_quantity=D(10), account_killed="daily loss limit", global_killed="admin: halt"
    )
    found = evaluate(limit(Side.SELL, 10, 100), ctx, LIMITS)
    # Then both are reported with their reasons
    assert [v.rule for v in found] == ["kill_switch", "kill_switch"]
    assert "admin: halt" in found[0].message
    assert "daily loss limit" in found[1].message
    assert rules(limit(Side.SELL, 10, 100), replace(ctx, account_killed=None, global_killed=None)) == []


def test_every_broken_rule_is_reported_in_order() -> None:
    # Given a context and order that break every rule at once (market order without a last price aside)
    limits = replace(LIMITS, max_order_quantity=D(10), max_order_notional=D(10), max_net_exposure=D(1))
    ctx = RiskContext(
        last_price=D(10),
        position_quantity=D(-5),
        exposures={"GME": D(-50)},
        equity=D(1),
        orders_this_second=5,
        daily_pnl=D(-20_000),
        account_killed="x",
    )
    spec = limit(Side.BUY, 5_000, 20, "GME")
    # When checked / Then every applicable rule appears once, in the documented order
    found = rules(spec, ctx, limits)
    assert found == [r for r in RULES if r not in {"no_market_price", "max_gross_exposure"}]
    assert rules(spec, ctx, replace(limits, max_gross_exposure=D(1))) == [
        r for r in RULES if r != "no_market_price"
    ]


@given(
    qty=st.integers(1, 3_000),
    price=st.integers(1, 30_000).map(lambda cents: D(cents) / 100),
    rate=st.integers(0, 10),
    pnl=st.integers(-20_000, 5_000),
)
def test_per_order_rules_fire_exactly_when_their_inequality_holds(
    qty: int, price: D, rate: int, pnl: int
) -> None:
    # Given any buy limit order and account state (flat, so no position rule can interfere)
    spec = limit(Side.BUY, qty, str(price))
    ctx = replace(CTX, orders_this_second=rate, daily_pnl=D(pnl))
    # When checked
    found = set(rules(spec, ctx))
    # Then each rule is present exactly when its defining inequality holds (written out independently)
    assert ("max_order_quantity" in found) is (qty > 1_000)
    assert ("max_order_notional" in found) is (qty * price > 100_000)
    assert ("price_collar" in found) is (abs(price - 100) > 5)
    assert ("order_rate" in found) is (rate + 1 > 5)
    assert ("daily_loss_limit" in found) is (pnl <= -10_000)


# ------------------------------------------------------------------ limits as data
def test_limits_round_trip_through_json() -> None:
    # Given limits with a restricted list / When written to JSON and read back / Then they are equal
    data = json.loads(json.dumps(LIMITS.to_dict()))
    assert data["restricted_symbols"] == ["GME"]
    assert data["price_collar_pct"] == "0.05"
    assert RiskLimits.from_dict(data) == LIMITS


def test_limits_from_partial_data_keep_the_base_and_floats_stay_exact() -> None:
    # Given an admin's partial edit with floats and lower-case symbols
    edited = RiskLimits.from_dict(
        {"price_collar_pct": 0.1, "restricted_symbols": ["tsla "], "max_orders_per_second": "7"}
    )
    # Then the rest is DEFAULT and 0.1 is exactly 0.1
    assert edited.price_collar_pct == D("0.1")
    assert edited.restricted_symbols == frozenset({"TSLA"})
    assert edited.max_orders_per_second == 7
    assert edited.max_order_quantity == DEFAULT_LIMITS.max_order_quantity


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_order_quantity": -1}, "max_order_quantity"),
        ({"max_order_notional": "lots"}, "max_order_notional"),
        ({"max_order_notional": True}, "max_order_notional"),
        ({"daily_loss_limit": "NaN"}, "daily_loss_limit"),
        ({"price_collar_pct": "1.5"}, "price_collar_pct"),
        ({"initial_margin": 0}, "initial_margin"),
        ({"max_orders_per_second": 2.5}, "max_orders_per_second"),
        ({"restricted_symbols": "GME"}, "restricted_symbols"),
        ({"restricted_symbols": 5}, "restricted_symbols"),
        ({"restricted_symbols": ["GME", 5]}, "restricted_symbols"),
        ({"max_leverage": 3}, "max_leverage"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(data: dict[str, object], field: str) -> None:
    # Given an admin's bad edit / When read / Then LimitsProblem names the limit
    with pytest.raises(LimitsProblem) as error:
        RiskLimits.from_dict(data)
    assert error.value.field == field


def test_default_limits_suit_a_million_dollar_paper_account() -> None:
    # Given DEFAULT / When a $100k market buy is checked on a fresh $1M account / Then it passes
    ctx = RiskContext(last_price=D(100), equity=D(1_000_000), cash=D(1_000_000))
    assert evaluate(market(Side.BUY, 1_000), ctx, RiskLimits.DEFAULT) == []
    assert RiskLimits.DEFAULT is DEFAULT_LIMITS
    assert DEFAULT_LIMITS.initial_margin == D("0.5")
    assert OrderSpec("A", Side.BUY, D(1), OrderType.MARKET).time_in_force is TimeInForce.DAY


def test_daily_loss_used_is_the_share_of_the_limit_lost_today() -> None:
    # Given a 10,000 daily loss limit / When the day is up, down 8,000 and down 12,000
    # Then 0 %, 80 % (the alarm's threshold) and 120 %
    assert daily_loss_used(D("250"), LIMITS) == 0
    assert daily_loss_used(D("-8000"), LIMITS) == 80
    assert daily_loss_used(D("-12000"), LIMITS) == 120
