"""Orders: the lifecycle state machine (every pair of states), validation and cancel/replace."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest

from trade2026.domain.trading.orders import (
    OPEN,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    OrderProblem,
    OrderSpec,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    apply_replace,
    transition,
    validate_order,
)

D = Decimal

S = OrderStatus
# The specification, written out independently of the module's table.
LEGAL = {
    (S.NEW, S.ACCEPTED),
    (S.NEW, S.REJECTED),
    (S.ACCEPTED, S.PARTIALLY_FILLED),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.CANCELED),
    (S.ACCEPTED, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELED),
    (S.PARTIALLY_FILLED, S.EXPIRED),
}
ALL_PAIRS = list(itertools.product(OrderStatus, OrderStatus))


def limit_buy(**changes: object) -> OrderSpec:
    spec = OrderSpec("AAPL", Side.BUY, D(100), OrderType.LIMIT, limit_price=D("150.25"))
    return replace(spec, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------ state machine
def test_there_are_seven_states_with_lower_case_values() -> None:
    # Given / When / Then: the enumeration matches the issue (values lower case, as stored and published)
    assert [s.value for s in OrderStatus] == [
        "new",
        "accepted",
        "rejected",
        "partially_filled",
        "filled",
        "canceled",
        "expired",
    ]
    assert {S.REJECTED, S.FILLED, S.CANCELED, S.EXPIRED} == TERMINAL
    assert {S.ACCEPTED, S.PARTIALLY_FILLED} == OPEN


@pytest.mark.parametrize(("current", "new"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_of_states_is_legal_exactly_as_specified(current: OrderStatus, new: OrderStatus) -> None:
    # Given a pair of states (all 49)
    # When the state machine is asked to move
    # Then a legal pair returns the new state and an illegal one raises naming both states
    if (current, new) in LEGAL:
        assert transition(current, new) is new
    else:
        with pytest.raises(IllegalTransition) as error:
            transition(current, new)
        assert f"{current} -> {new}" in str(error.value)
        assert (error.value.current, error.value.new) == (current, new)


def test_the_published_table_is_the_specification_and_terminal_states_lead_nowhere() -> None:
    # Given the module's table / When flattened / Then it is exactly the legal set; terminal rows are empty
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert all(not TRANSITIONS[state] for state in TERMINAL)


def test_transition_accepts_stored_string_values() -> None:
    # Given statuses read back from a table as plain strings / When moved / Then the enum state comes back
    assert transition("accepted", "filled") is S.FILLED  # type: ignore[arg-type]
    with pytest.raises(IllegalTransition, match="filled -> canceled"):
        transition("filled", "canceled")  # type: ignore[arg-type]


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "spec",
    [
        OrderSpec("AAPL", Side.BUY, D(1), OrderType.MARKET),
        OrderSpec("AAPL", Side.SHORT, D(300), OrderType.MARKET, TimeInForce.IOC),
        OrderSpec("AAPL", Side.SELL, D(5), OrderType.LIMIT, TimeInForce.FOK, limit_price=D("0.01")),
        OrderSpec("AAPL", Side.COVER, D(5), OrderType.STOP, TimeInForce.GTC, stop_price=D("99.99")),
        OrderSpec("AAPL", Side.BUY, D(5), OrderType.STOP_LIMIT, limit_price=D(101), stop_price=D(100)),
    ],
    ids=["market", "market-ioc", "limit-fok", "stop-gtc", "stop-limit"],
)
def test_well_formed_orders_pass(spec: OrderSpec) -> None:
    # Given a well-formed order of each type / When validated / Then nothing is raised
    validate_order(spec)


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (limit_buy(symbol=" "), "symbol", "empty"),
        (limit_buy(quantity=D(0)), "quantity", "greater than 0; got 0"),
        (limit_buy(quantity=D(-5)), "quantity", "got -5"),
        (limit_buy(quantity=D("NaN")), "quantity", "greater than 0"),
        (limit_buy(quantity=D("10.5")), "quantity", "10.5 is not a multiple of the lot size 1"),
        (limit_buy(limit_price=None), "limit_price", "limit order needs a limit_price"),
        (
            OrderSpec("AAPL", Side.BUY, D(1), OrderType.STOP_LIMIT, limit_price=D(10)),
            "stop_price",
            "stop_limit order needs a stop_price",
        ),
        (
            OrderSpec("AAPL", Side.BUY, D(1), OrderType.STOP_LIMIT, stop_price=D(10)),
            "limit_price",
            "stop_limit order needs a limit_price",
        ),
        (OrderSpec("AAPL", Side.BUY, D(1), OrderType.STOP), "stop_price", "stop order needs a stop_price"),
        (
            OrderSpec("AAPL", Side.BUY, D(1), OrderType.MARKET, limit_price=D(10)),
            "limit_price",
            "market order takes no limit_price",
        ),
        (
            OrderSpec("AAPL", Side.BUY, D(1), OrderType.MARKET, stop_price=D(10)),
            "stop_price",
            "market order takes no stop_price",
        ),
        (limit_buy(stop_price=D(10)), "stop_price", "limit order takes no stop_price"),
        (
            limit_buy(limit_price=D("150.255")),
            "limit_price",
            "150.255 is not a multiple of the tick size 0.01",
        ),
        (limit_buy(limit_price=D(0)), "limit_price", "positive"),
        (limit_buy(limit_price=D("-1")), "limit_price", "positive"),
        (limit_buy(limit_price=D("Infinity")), "limit_price", "positive"),
        (
            OrderSpec("AAPL", Side.SELL, D(1), OrderType.STOP, stop_price=D("9.999")),
            "stop_price",
            "9.999 is not a multiple of the tick size",
        ),
        (
            OrderSpec("AAPL", Side.SELL, D(1), OrderType.STOP, TimeInForce.IOC, stop_price=D(9)),
            "time_in_force",
            "ioc is only for market and limit orders, not stop",
        ),
        (
            OrderSpec("AAPL", Side.BUY, D(1), OrderType.STOP_LIMIT, TimeInForce.FOK, D(9), D(9)),
            "time_in_force",
            "fok is only for market and limit orders, not stop_limit",
        ),
    ],
)
def test_bad_orders_name_the_field_and_the_numbers(spec: OrderSpec, field: str, words: str) -> None:
    # Given an order with one problem / When validated / Then OrderProblem names the field and says why
    with pytest.raises(OrderProblem) as error:
        validate_order(spec)
    assert error.value.field == field
    assert words in error.value.message


def test_tick_and_lot_sizes_are_parameters() -> None:
    # Given a 0.05 tick and 100-share lots
    tick, lot = D("0.05"), D(100)
    # When / Then: on the grid passes, one tick or share off the grid fails
    validate_order(limit_buy(quantity=D(300), limit_price=D("150.25")), tick, lot)
    with pytest.raises(OrderProblem, match=r"tick size 0\.05"):
        validate_order(limit_buy(quantity=D(300), limit_price=D("150.26")), tick, lot)
    with pytest.raises(OrderProblem, match="lot size 100"):
        validate_order(limit_buy(quantity=D(301)), tick, lot)


# ------------------------------------------------------------------ cancel/replace
def test_replace_changes_only_quantity_and_prices() -> None:
    # Given a limit order 40 filled
    spec = limit_buy()
    # When its quantity and limit change
    new = apply_replace(spec, D(40), D(200), D("150.50"), None)
    # Then symbol, side, type and time in force stay
    assert new == OrderSpec("AAPL", Side.BUY, D(200), OrderType.LIMIT, TimeInForce.DAY, D("150.50"), None)
    assert apply_replace(spec, D(0), None, D(151), None).quantity == D(100)


def test_replace_quantity_must_exceed_what_is_filled() -> None:
    # Given an order with 40 filled
    spec = limit_buy()
    # When the new quantity is 41 it passes; 40 (all filled: that is a cancel) fails, naming both numbers
    assert apply_replace(spec, D(40), D(41), None, None).quantity == D(41)
    with pytest.raises(OrderProblem, match="new quantity 40 must exceed the 40 already filled") as error:
        apply_replace(spec, D(40), D(40), None, None)
    assert error.value.field == "quantity"


def test_replace_is_validated_like_a_new_order() -> None:
    # Given a market order and a limit order
    market = OrderSpec("AAPL", Side.BUY, D(10), OrderType.MARKET)
    # When a price is added to the market order, or the limit leaves the tick grid, or nothing changes
    # Then each is refused with the field named
    with pytest.raises(OrderProblem, match="market order takes no limit_price"):
        apply_replace(market, D(0), None, D(10), None)
    with pytest.raises(OrderProblem, match="tick size"):
        apply_replace(limit_buy(), D(0), None, D("150.001"), None)
    with pytest.raises(OrderProblem, match="must change") as error:
        apply_replace(limit_buy(), D(0), None, None, None)
    assert error.value.field == "order"


def test_sides_know_their_direction() -> None:
    # Given / When / Then: buy and cover buy shares, sell and short sell them; sell and cover close
    assert [s.direction for s in Side] == [1, -1, -1, 1]
    assert [s.closes for s in Side] == [False, True, False, True]
