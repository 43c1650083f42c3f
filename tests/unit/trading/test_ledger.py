"""The ledger's mechanics: cash, positions, shorts, refusals, serialization, equity and the invariant check."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from trade2026.domain.trading.ledger import (
    Fill,
    InvariantError,
    LedgerError,
    PositionBook,
    Realization,
    ReliefMethod,
    apply_fill,
    check_invariants,
    equity,
)

D = Decimal
T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def fill(
    fill_id: str,
    side: str,
    quantity: object,
    price: object,
    days: int = 0,
    fee: object = 0,
    symbol: str = "XYZ",
    **extra: object,
) -> Fill:
    return Fill(
        fill_id, f"o-{fill_id}", symbol, side, quantity, price, fee, T0 + timedelta(days=days), **extra
    )  # type: ignore[arg-type]


def run(
    fills: list[Fill], method: ReliefMethod = ReliefMethod.FIFO
) -> tuple[PositionBook, list[Realization]]:
    book = PositionBook.empty(fills[0].symbol)
    rows: list[Realization] = []
    for item in fills:
        book, new_rows = apply_fill(book, item, method)
        rows.extend(new_rows)
    return book, rows


def test_long_round_trip_moves_cash_and_realizes_the_gain_net_of_fees() -> None:
    # Given a buy of 10 @ 100 with a $1 fee and a sale of 4 @ 110 with a $1 fee
    book, rows = run([fill("b", "buy", 10, 100, fee=1), fill("s", "sell", 4, 110, days=1, fee=1)])
    # Then cash moved -1,001 then +439 and the fees are recorded
    assert book.cash_flow == D(-1001) + D(439)
    assert book.fees == D(2)
    # And 4/10 of the $1,001 cost is relieved: gain = 439 - 400.4 = 38.6
    assert rows[0].cost_basis == D("400.4")
    assert book.realized == D("38.6")
    # And 6 shares remain at $600.6, worth $660 at $110: unrealized $59.4
    assert (book.quantity, book.cost_basis) == (D(6), D("600.6"))
    assert book.average_cost == D("100.1")
    assert book.market_value(D(110)) == D(660)
    assert book.unrealized(D(110)) == D("59.4")


def test_short_round_trip_credit_cover_and_short_term_gain() -> None:
    # Given a short sale of 10 @ 50 (fee $2: credit $498) and a cover of 10 @ 40 (fee $2: cost $402)
    book, rows = run([fill("sh", "short", 10, 50, fee=2), fill("cv", "cover", 10, 40, days=400, fee=2)])
    # Then cash got +498 then -402 and the position is flat
    assert book.cash_flow == D(96)
    assert book.quantity == 0
    assert book.lots == ()
    # And the realization is the credit minus the cover cost: +96, short-term even after 400 days
    (row,) = rows
    assert (row.direction, row.proceeds, row.cost_basis, row.gain, row.term) == (
        "short",
        D(498),
        D(402),
        D(96),
        "short",
    )
    assert row.disallowed_loss == 0


def test_open_short_is_negative_with_unrealized_from_the_credit() -> None:
    # Given 10 shares shorted at $50 (credit $500) When the price rises to $55
    book, _ = run([fill("sh", "short", 10, 50)])
    # Then the position is -10, the signed cost -500, the market value -550 and the unrealized loss -50
    assert (book.quantity, book.cost_basis, book.average_cost) == (D(-10), D(-500), D(50))
    assert book.market_value(D(55)) == D(-550)
    assert book.unrealized(D(55)) == D(-50)


def test_short_lots_relief_fifo_lifo_hifo() -> None:
    # Given shorts of 10 @ 50 (day 0) and 10 @ 60 (day 1), covered 10 @ 55 on day 40
    fills = [
        fill("s1", "short", 10, 50),
        fill("s2", "short", 10, 60, days=1),
        fill("c", "cover", 10, 55, days=40),
    ]
    # Then FIFO covers s1 (-50), LIFO covers s2 (+50), HIFO covers the lot with the smallest gain, s1 (-50)
    assert [run(fills, method)[1][0].gain for method in ReliefMethod if method != ReliefMethod.SPECIFIC] == [
        D(-50),
        D(50),
        D(-50),
    ]


@pytest.mark.parametrize(
    ("fills", "message"),
    [
        ([fill("s", "sell", 1, 10)], "cannot sell 1 XYZ: the position is flat"),
        ([fill("b", "buy", 5, 10), fill("s", "sell", 6, 10)], "cannot sell 6 XYZ: only 5 held long"),
        ([fill("x", "short", 5, 10), fill("c", "cover", 7, 10)], "cannot cover 7 XYZ: only 5 held short"),
        ([fill("b", "buy", 5, 10), fill("c", "cover", 1, 10)], "cannot cover 1 XYZ: the position is long 5"),
        ([fill("x", "short", 5, 10), fill("b", "buy", 1, 10)], "cannot buy XYZ while short 5 shares"),
        ([fill("b", "buy", 5, 10), fill("x", "short", 1, 10)], "cannot short XYZ while long 5 shares"),
        ([fill("b", "buy", 5, 10), fill("b", "buy", 5, 10)], "fill b was already applied"),
        (
            [fill("b", "buy", 5, 10), fill("s", "sell", 1, 10, lot_ids=("nope",))],
            "unknown or closed XYZ lots: nope",
        ),
        (
            [fill("b", "buy", 5, 10), fill("b2", "buy", 5, 10), fill("s", "sell", 6, 10, lot_ids=("b",))],
            "lots b hold 5 XYZ, fewer than the 6 to sell",
        ),
    ],
)
def test_impossible_fills_are_refused_with_the_numbers(fills: list[Fill], message: str) -> None:
    # Given the valid fills before the last one
    book, _ = run(fills[:-1]) if len(fills) > 1 else (PositionBook.empty("XYZ"), [])
    # When the last one is applied, Then LedgerError names the rule and the numbers, and the book is unchanged
    with pytest.raises(LedgerError, match=message):
        apply_fill(book, fills[-1])


def test_specific_method_without_lot_ids_and_unknown_method_are_refused() -> None:
    # Given a long book
    book, _ = run([fill("b", "buy", 5, 10)])
    # Then SPECIFIC needs lot ids, and a method must be one of the four
    with pytest.raises(LedgerError, match="specific-lot relief needs lot_ids on fill s"):
        apply_fill(book, fill("s", "sell", 1, 10), ReliefMethod.SPECIFIC)
    with pytest.raises(LedgerError, match="relief method must be one of"):
        apply_fill(book, fill("s", "sell", 1, 10), "average")
    # And a fill of another symbol does not go into this book
    with pytest.raises(LedgerError, match="fill z is for ABC, not for the XYZ book"):
        apply_fill(book, fill("z", "buy", 1, 10, symbol="ABC"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", D(0), "quantity must be > 0, got 0"),
        ("quantity", D(-3), "quantity must be > 0, got -3"),
        ("price", D(0), "price must be > 0, got 0"),
        ("fee", D("-0.01"), "fee must be >= 0, got -0.01"),
        ("quantity", "abc", "quantity must be a number"),
        ("quantity", D("NaN"), "quantity must be finite"),
        ("quantity", True, "quantity must be a number"),
        ("side", "long", "side must be one of buy, sell, short, cover"),
        ("ts", datetime(2024, 1, 2, 15), "ts must be timezone-aware"),
        ("lot_ids", ("a", "a"), "lot_ids must not repeat"),
        ("symbol", "", "fill_id and symbol are required"),
    ],
)
def test_bad_fill_fields_are_refused(field: str, value: object, message: str) -> None:
    # Given a valid fill's fields with one of them bad, Then constructing it names the field and the value
    fields: dict[str, object] = {
        "fill_id": "f",
        "order_id": "o",
        "symbol": "XYZ",
        "side": "buy",
        "quantity": D(1),
        "price": D(1),
        "fee": D(0),
        "ts": T0,
    }
    fields[field] = value
    with pytest.raises(LedgerError, match=message):
        Fill(**fields)  # type: ignore[arg-type]


def test_fill_normalizes_numbers_and_time_exactly() -> None:
    # Given numbers as str, int and float and a timestamp in New York time
    new_york = timezone(timedelta(hours=-5))
    item = Fill("f", "o", "XYZ", "buy", "1.5", 3, 0.1, datetime(2024, 3, 4, 10, 0, tzinfo=new_york))  # type: ignore[arg-type]
    # Then they become exact Decimals (the float through its shortest repr, never 0.1000000000000000055...)
    assert (item.quantity, item.price, item.fee) == (D("1.5"), D(3), D("0.1"))
    # And the time is UTC
    assert item.ts == datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    assert item.cash_flow == D("-4.6")


def test_book_round_trips_through_json_exactly() -> None:
    # Given a book with a split wash-sale lot, a pending wash entry, strategies and fractional shares
    book, rows = run(
        [
            fill("b1", "buy", "100.5", "10.01", fee="0.35", strategy="momo"),
            fill("s1", "sell", "100.5", "7.33", days=3, fee="0.35"),
            fill("b2", "buy", 40, "7.10", days=5, strategy="mean"),
            fill("b3", "buy", 100, "7.20", days=6),
        ]
    )
    assert book.split_seq > 0 and book.pending_wash == ()
    # When it goes through JSON and back
    payload = json.loads(json.dumps(book.to_dict()))
    # Then it is equal, field by field, and every Decimal travelled as a string
    assert PositionBook.from_dict(payload) == book
    assert isinstance(payload["lots"][0]["cost"], str)
    # And so do fills and realizations
    for row in rows:
        assert Realization.from_dict(json.loads(json.dumps(row.to_dict()))) == row
    item = fill("s", "sell", 1, 10, lot_ids=("a", "b"), strategy="x")
    assert Fill.from_dict(json.loads(json.dumps(item.to_dict()))) == item
    # And realization keys are unique
    assert len({row.key for row in rows}) == len(rows)


def test_pending_wash_survives_a_round_trip_and_later_buy() -> None:
    # Given a loss sale whose book is stored and reloaded before the repurchase
    book, _ = run([fill("b1", "buy", 10, 10), fill("s1", "sell", 10, 8, days=1)])
    book = PositionBook.from_dict(json.loads(json.dumps(book.to_dict())))
    # When the repurchase comes 10 days later
    book, rows = apply_fill(book, fill("b2", "buy", 10, 9, days=11))
    # Then the $20 loss is still disallowed into the new lot
    assert rows[0].disallowed_loss == D(20)
    assert book.lots[0].tax_basis == D(110)


def test_equity_marks_positions_and_needs_their_prices() -> None:
    # Given a long of 10 XYZ and a short of 5 ABC and $1,000 of cash
    long_book, _ = run([fill("b", "buy", 10, 20)])
    short_book, _ = run([fill("x", "short", 5, 30, symbol="ABC")])
    flat = PositionBook.empty("QQQ")
    # Then equity = 1,000 + 10 x 21 - 5 x 31 = 1,055 (a flat book needs no price)
    assert equity(D(1000), [long_book, short_book, flat], {"XYZ": D(21), "ABC": D(31)}) == D(1055)
    # And a missing price is an error naming the position
    with pytest.raises(LedgerError, match="no price to mark the ABC position of -5"):
        equity(D(1000), [long_book, short_book], {"XYZ": D(21)})


def test_check_invariants_accepts_consistent_books_and_names_a_broken_one() -> None:
    # Given two symbols' fills and their books
    xyz = [fill("b", "buy", 10, 20, fee=1), fill("s", "sell", 3, 25, days=2, fee=1)]
    abc = [fill("x", "short", 5, 30, symbol="ABC", fee="0.5")]
    books = [run(xyz)[0], run(abc)[0]]
    cash = D(10_000) + sum(item.cash_flow for item in xyz + abc)
    # Then they hold at any prices
    check_invariants(
        D(10_000), books, {"XYZ": xyz, "ABC": abc}, cash=cash, prices={"XYZ": D(19), "ABC": D(33)}
    )
    check_invariants(D(10_000), books, {"XYZ": xyz, "ABC": abc})
    # And a lot quantity that drifted from the fills is reported with both numbers
    broken = replace(books[0], lots=(replace(books[0].lots[0], quantity=D(8)),))
    with pytest.raises(InvariantError, match=r"XYZ: sum of lot quantities 8 != position from fills 7"):
        check_invariants(D(10_000), [broken, books[1]], {"XYZ": xyz, "ABC": abc})
    # And so is a cash balance that lost a fee, and a realized P&L that does not add up
    with pytest.raises(InvariantError, match=r"cash .* != starting cash"):
        check_invariants(D(10_000), books, {"XYZ": xyz, "ABC": abc}, cash=cash + 1)
    wrong_realized = replace(books[0], realized=books[0].realized + D("0.01"))
    with pytest.raises(InvariantError, match="realized \\+ unrealized"):
        check_invariants(D(10_000), [wrong_realized, books[1]], {"XYZ": xyz, "ABC": abc})
    with pytest.raises(InvariantError, match="fills without a book: ABC"):
        check_invariants(D(10_000), books[:1], {"XYZ": xyz, "ABC": abc})


def test_apply_fill_is_pure() -> None:
    # Given a book and its serialized form
    book, _ = run([fill("b", "buy", 10, 20)])
    before = book.to_dict()
    # When a sale is applied and a refused sale attempted
    apply_fill(book, fill("s", "sell", 5, 21, days=1))
    with pytest.raises(LedgerError):
        apply_fill(book, fill("s2", "sell", 50, 21, days=1))
    # Then the original book did not change
    assert book.to_dict() == before


def test_many_lots_stay_fast() -> None:
    # Given 2,000 buys and 2,000 one-share sales (FIFO) on one book
    book = PositionBook.empty("XYZ")
    start = datetime.now(UTC)
    for i in range(2000):
        book, _ = apply_fill(book, fill(f"b{i}", "buy", 2, D(100) + i % 7, days=i // 100))
    for i in range(2000):
        book, _ = apply_fill(book, fill(f"s{i}", "sell", 1, 104, days=30 + i // 100))
    elapsed = datetime.now(UTC) - start
    # Then the book holds the rest and the whole run is quick (linear per fill, not a rescan of history)
    assert book.quantity == D(2000)
    assert elapsed < timedelta(seconds=6)
