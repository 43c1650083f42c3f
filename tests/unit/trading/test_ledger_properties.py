"""Property-based: random valid sequences of buys, sells, shorts and covers on two symbols, random prices.

Hypothesis draws "intents" (increase, reduce, close out; a size in quarter shares; a price in cents; a fee;
days to wait) and turns each into the one VALID fill it means for the current position, so every drawn
sequence is a legal trading history with fractional shares, fees, flips between long and short, and loss
sales followed by repurchases inside and outside the 30-day window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trade2026.domain.trading.ledger import (
    Fill,
    PositionBook,
    Realization,
    ReliefMethod,
    apply_fill,
    check_invariants,
    equity,
)

D = Decimal
T0 = datetime(2023, 1, 3, 14, 30, tzinfo=UTC)
SYMBOLS = ("AAA", "BBB")
START_CASH = D(1_000_000)


@dataclass(frozen=True)
class Intent:
    action: str  # "increase" | "reduce" | "close"
    symbol: int
    quarters: int  # size in quarter shares
    cents: int  # price in cents
    fee_cents: int
    days: int
    go_short: bool
    pick: int  # seed of a specific-lot choice


intents = st.builds(
    Intent,
    action=st.sampled_from(["increase", "increase", "reduce", "close"]),
    symbol=st.integers(0, 1),
    quarters=st.integers(1, 400),
    cents=st.integers(50, 30_000),
    fee_cents=st.integers(0, 250),
    days=st.integers(0, 15),
    go_short=st.booleans(),
    pick=st.integers(0, 1_000),
)
histories = st.lists(intents, min_size=1, max_size=35)
PROPERTY = settings(max_examples=120, deadline=None)


def side_and_size(intent: Intent, position: Decimal) -> tuple[str, Decimal]:
    """The valid fill an intent means for a position."""
    size = D(intent.quarters) / 4
    if intent.action == "increase" or position == 0:
        if position > 0 or (position == 0 and not intent.go_short):
            return "buy", size
        return "short", size
    reduce = "sell" if position > 0 else "cover"
    return reduce, abs(position) if intent.action == "close" else min(size, abs(position))


def specific_lots(book: PositionBook, quantity: Decimal, pick: int) -> tuple[str, ...]:
    """Lot ids of ``book`` in an order chosen by ``pick`` (a rotation, maybe reversed) covering ``quantity``."""
    lots = list(book.lots)
    start = pick % len(lots)
    lots = lots[start:] + lots[:start]
    if pick % 2:
        lots.reverse()
    chosen: list[str] = []
    held = D(0)
    for lot in lots:
        if held >= quantity:
            break
        chosen.append(lot.lot_id)
        held += lot.quantity
    return tuple(chosen)


@dataclass
class Run:
    books: dict[str, PositionBook]
    fills: dict[str, list[Fill]]
    realizations: list[Realization]
    cash: Decimal


def replay(
    history: list[Intent], method: ReliefMethod, after_each: Callable[[Run, Fill], None] | None = None
) -> Run:
    run = Run({s: PositionBook.empty(s) for s in SYMBOLS}, defaultdict(list), [], START_CASH)
    ts = T0
    for number, intent in enumerate(history):
        symbol = SYMBOLS[intent.symbol]
        book = run.books[symbol]
        side, size = side_and_size(intent, book.quantity)
        ts += timedelta(days=intent.days, seconds=1)
        lot_ids = ()
        if method is ReliefMethod.SPECIFIC and side in ("sell", "cover"):
            lot_ids = specific_lots(book, size, intent.pick)
        fill = Fill(
            f"f{number}",
            f"o{number}",
            symbol,
            side,  # type: ignore[arg-type]
            size,
            D(intent.cents) / 100,
            D(intent.fee_cents) / 100,
            ts,
            strategy=f"s{intent.pick % 3}",
            lot_ids=lot_ids,
        )
        run.books[symbol], rows = apply_fill(book, fill, method)
        run.fills[symbol].append(fill)
        run.realizations.extend(rows)
        run.cash += fill.cash_flow
        if after_each is not None:
            after_each(run, fill)
    return run


def last_prices(run: Run) -> dict[str, Decimal]:
    return {symbol: fills[-1].price for symbol, fills in run.fills.items() if fills}


@PROPERTY
@given(history=histories, method=st.sampled_from(list(ReliefMethod)), markup=st.integers(-50, 50))
def test_invariants_hold_after_every_fill(history: list[Intent], method: ReliefMethod, markup: int) -> None:
    # Given a random valid history, When each fill is applied, Then after EVERY step:
    def check(run: Run, fill: Fill) -> None:
        prices = {symbol: price * (100 + markup) / 100 for symbol, price in last_prices(run).items()}
        books = list(run.books.values())
        # the books agree with their fills (lots = position, cash flows, fees, P&L = equity - start)
        check_invariants(START_CASH, books, run.fills, cash=run.cash, prices=prices)
        # and spelled out: cash + sum(qty x price) = equity ...
        marked = sum((book.quantity * prices.get(book.symbol, D(0)) for book in books), D(0))
        total = equity(run.cash, books, prices)
        assert run.cash + marked == total
        # ... the sum of lot quantities is the position from the fills ...
        for book in books:
            assert sum(lot.signed_quantity for lot in book.lots) == sum(
                item.signed_quantity for item in run.fills[book.symbol]
            )
            assert all(lot.quantity > 0 for lot in book.lots)
        # ... and realized + unrealized = equity - starting cash, to the last digit
        pnl = sum(book.realized + book.unrealized(prices.get(book.symbol, D(0))) for book in books)
        assert pnl == total - START_CASH

    replay(history, method, check)


@PROPERTY
@given(history=histories, marks=st.tuples(st.integers(50, 30_000), st.integers(50, 30_000)))
def test_relief_methods_change_only_the_timing_of_pnl(history: list[Intent], marks: tuple[int, int]) -> None:
    # Given the same random history relieved FIFO, LIFO, HIFO and by specific lots
    runs = {method: replay(history, method) for method in ReliefMethod}
    prices = {symbol: D(cents) / 100 for symbol, cents in zip(SYMBOLS, marks, strict=True)}
    # Then cash and positions are identical, and realized + unrealized is the same total P&L
    totals = {
        method: sum(book.realized + book.unrealized(prices[book.symbol]) for book in run.books.values())
        for method, run in runs.items()
    }
    assert len(set(totals.values())) == 1, totals
    assert len({run.cash for run in runs.values()}) == 1
    assert len({tuple(b.quantity for b in run.books.values()) for run in runs.values()}) == 1
    # And that total is the money: equity - starting cash
    fifo = runs[ReliefMethod.FIFO]
    assert totals[ReliefMethod.FIFO] == equity(fifo.cash, fifo.books.values(), prices) - START_CASH


@PROPERTY
@given(history=histories, method=st.sampled_from(list(ReliefMethod)), mark=st.integers(50, 30_000))
def test_wash_sales_defer_losses_without_creating_or_losing_any(
    history: list[Intent], method: ReliefMethod, mark: int
) -> None:
    # Given a random history with its realizations
    run = replay(history, method)
    price = D(mark) / 100
    rows = run.realizations
    open_lots = [lot for book in run.books.values() for lot in book.lots]
    # Then every disallowed loss is >= 0, and a close row never disallows more than its tax loss
    assert all(row.disallowed_loss >= 0 for row in rows)
    disallowed: dict[tuple[str, str], Decimal] = defaultdict(lambda: D(0))
    tax_loss: dict[tuple[str, str], Decimal] = defaultdict(lambda: D(0))
    for row in rows:
        disallowed[(row.fill_id, row.lot_id)] += row.disallowed_loss
        if row.kind == "close":
            tax_loss[(row.fill_id, row.lot_id)] += max(row.tax_basis - row.proceeds, D(0))
    assert all(disallowed[key] <= tax_loss[key] for key in disallowed)
    # And every disallowed dollar sits in exactly one basis: an open lot's or a later sold lot's
    carried = sum(lot.wash_adjustment for lot in open_lots) + sum(
        row.tax_basis - row.cost_basis for row in rows if row.kind == "close" and row.direction == "long"
    )
    assert sum(disallowed.values()) == carried
    # And over all years the reportable gains plus the unrealized tax gain equal the economic P&L
    reportable = sum(row.reportable_gain for row in rows)
    unrealized_tax = sum(lot.unrealized(price) - lot.wash_adjustment for lot in open_lots)
    economic = sum(book.realized + book.unrealized(price) for book in run.books.values())
    assert reportable + unrealized_tax == economic
    # And short positions never carry a wash adjustment
    assert all(lot.wash_adjustment == 0 for lot in open_lots if lot.direction == "short")


@PROPERTY
@given(history=histories)
def test_book_serialization_round_trips_mid_history(history: list[Intent]) -> None:
    # Given a random history, When every book goes through to_dict/from_dict after every fill
    def round_trip(run: Run, fill: Fill) -> None:
        book = run.books[fill.symbol]
        # Then it comes back equal
        assert PositionBook.from_dict(book.to_dict()) == book

    replay(history, ReliefMethod.HIFO, round_trip)
