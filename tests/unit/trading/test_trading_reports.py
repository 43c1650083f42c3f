"""PTRC report math: P&L by day/symbol/strategy, realized gains by tax year, open tax lots, the blotter CSV.

Hand-worked cases first, then an oracle: the daily P&L of a trading history on the REAL S&P 500 closes
(``load_daily("sp500")``, 2018) equals the daily change of vectorbt's portfolio value for the same orders.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.trading.ledger import Fill, LedgerError, PositionBook, ReliefMethod, Side, apply_fill
from trade2026.domain.trading.reports import (
    BLOTTER_COLUMNS,
    blotter_csv,
    open_lot_rows,
    pnl_by_day,
    pnl_by_strategy,
    pnl_by_symbol,
    realized_gains,
    replay,
)

D = Decimal


def fill(
    fill_id: str,
    symbol: str,
    side: str,
    quantity: object,
    price: object,
    day: str,
    fee: object = 0,
    **extra: object,
) -> Fill:
    ts = datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)
    return Fill(
        fill_id, f"o-{fill_id}", symbol, side, D(str(quantity)), D(str(price)), D(str(fee)), ts, **extra
    )  # type: ignore[arg-type]


# A week of two symbols, worked by hand:
#   XYZ  Jan 2 buy 10 @ 100 (+$1 fee, cost 1,001)   close 102: unrealized 1,020 - 1,001 = +19
#        Jan 3 -                                    close  99: unrealized   990 - 1,001 = -11 (change -30)
#        Jan 4 sell 4 @ 101 (fee $1: proceeds 403, cost 4/10 x 1,001 = 400.4: realized +2.6)
#                                                   close 100: unrealized 600 - 600.6 = -0.6 (change +10.4)
#        Jan 5 sell 6 @ 98 (fee $1: proceeds 587, cost 600.6: realized -13.6), flat
#                                                   close  97: unrealized 0 (change +0.6)
#        Jan 8 flat, no fill: no row.          Sum of totals: 19 - 30 + 13 - 13 = -11 = the cash it cost.
#   ABC  Jan 3 short 5 @ 50 (credit 250)            close 48: unrealized 250 - 240 = +10
#        Jan 4 -                                    close 51: unrealized 250 - 255 = -5 (change -15)
WEEK = [
    fill("x1", "XYZ", "buy", 10, 100, "2024-01-02", fee=1),
    fill("a1", "ABC", "short", 5, 50, "2024-01-03"),
    fill("x2", "XYZ", "sell", 4, 101, "2024-01-04", fee=1),
    fill("x3", "XYZ", "sell", 6, 98, "2024-01-05", fee=1),
]
CLOSES = {
    "XYZ": [
        (date(2024, 1, 2), D(102)),
        (date(2024, 1, 3), D(99)),
        (date(2024, 1, 4), D(100)),
        (date(2024, 1, 5), D(97)),
        (date(2024, 1, 8), D(96)),
    ],
    "ABC": [(date(2024, 1, 3), D(48)), (date(2024, 1, 4), D(51))],
}


def test_pnl_by_day_hand_worked_week() -> None:
    # Given the week above, When the daily P&L is computed
    rows = pnl_by_day(WEEK, CLOSES)
    # Then each (day, symbol) has the realized P&L, the change of unrealized and their total worked out above
    got = [
        (row["day"].day, row["symbol"], row["realized"], row["unrealized_change"], row["total"])
        for row in rows
    ]
    assert got == [
        (2, "XYZ", D(0), D(19), D(19)),
        (3, "ABC", D(0), D(10), D(10)),
        (3, "XYZ", D(0), D(-30), D(-30)),
        (4, "ABC", D(0), D(-15), D(-15)),
        (4, "XYZ", D("2.6"), D("10.4"), D(13)),
        (5, "XYZ", D("-13.6"), D("0.6"), D(-13)),
    ]
    # And XYZ's totals add up to what the round trip cost in cash
    assert sum(row["total"] for row in rows if row["symbol"] == "XYZ") == D(-11)


def test_pnl_by_day_needs_closes_for_every_traded_symbol() -> None:
    # Given fills of a symbol without closes, Then the report says which symbol cannot be marked
    with pytest.raises(LedgerError, match="no daily closes to mark ABC"):
        pnl_by_day(WEEK, {"XYZ": CLOSES["XYZ"]})


def test_pnl_by_symbol_marks_at_given_prices() -> None:
    # Given the week and prices XYZ 96 (flat anyway), ABC 52
    rows = pnl_by_symbol(WEEK, {"XYZ": D(96), "ABC": D(52)})
    # Then ABC: short 5, unrealized 250 - 260 = -10; XYZ: realized 2.6 - 13.6 = -11, fees 3
    assert [
        (r["key"], r["position"], r["realized"], r["unrealized"], r["total"], r["fees"]) for r in rows
    ] == [
        ("ABC", D(-5), D(0), D(-10), D(-10), D(0)),
        ("XYZ", D(0), D(-11), D(0), D(-11), D(3)),
    ]
    # And a position without a price cannot be marked
    with pytest.raises(LedgerError, match="no price to mark the ABC position of -5"):
        pnl_by_symbol(WEEK, {"XYZ": D(96)})


def test_pnl_by_strategy_attributes_realized_pnl_to_the_lot_opener() -> None:
    # Given strategy A buys 10 @ 100, strategy B buys 10 @ 110, and strategy C sells 15 @ 120 (FIFO)
    fills = [
        fill("1", "XYZ", "buy", 10, 100, "2024-01-02", strategy="A"),
        fill("2", "XYZ", "buy", 10, 110, "2024-01-03", strategy="B"),
        fill("3", "XYZ", "sell", 15, 120, "2024-01-04", fee="1.5", strategy="C"),
        fill("4", "ABC", "buy", 1, 10, "2024-01-04"),
    ]
    rows = pnl_by_strategy(fills, {"XYZ": D(130), "ABC": D(11)})
    # Then A's lot closed entirely: 10 x 120 - 1,000 - 1.00 (its 10/15 of the fee) = +199
    # And B's lot closed 5 shares: 600 - 0.50 - 550 = +49.5, and its 5 open shares gain 650 - 550 = +100
    # And C realized nothing (it only closed other strategies' lots) but paid the $1.50 fee
    # And the fill without a strategy is "unassigned"
    assert [(r["key"], r["realized"], r["unrealized"], r["total"], r["fees"]) for r in rows] == [
        ("A", D(199), D(0), D(199), D(0)),
        ("B", D("49.5"), D(100), D("149.5"), D(0)),
        ("C", D(0), D(0), D(0), D("1.5")),
        ("unassigned", D(0), D(1), D(1), D(0)),
    ]
    # And the strategies' totals add up to the symbols' totals
    by_symbol = pnl_by_symbol(fills, {"XYZ": D(130), "ABC": D(11)})
    assert sum(r["total"] for r in rows) == sum(r["total"] for r in by_symbol)


def test_realized_gains_split_short_and_long_term_for_one_year() -> None:
    # Given in 2023-2024: a long-term sale (+$500), a short-term sale (-$100, no repurchase), a short sale
    # covered for +$40 (short-term), and a 2025 sale that belongs to another year
    fills = [
        fill("b1", "AAA", "buy", 10, 100, "2023-01-03"),
        fill("b2", "BBB", "buy", 10, 50, "2024-02-01"),
        fill("x1", "CCC", "short", 10, 20, "2024-03-01"),
        fill("s1", "AAA", "sell", 10, 150, "2024-06-03"),
        fill("s2", "BBB", "sell", 10, 40, "2024-06-03"),
        fill("c1", "CCC", "cover", 10, 16, "2024-07-01"),
        fill("b3", "DDD", "buy", 1, 10, "2024-07-01"),
        fill("s3", "DDD", "sell", 1, 12, "2025-01-10"),
    ]
    _, realizations = replay(fills)
    # When the 2024 report is built
    report = realized_gains(realizations, 2024)
    # Then long-term: 1 row, proceeds 1,500, basis 1,000, gain 500
    assert {k: report["long_term"][k] for k in ("count", "proceeds", "cost_basis", "gain")} == {
        "count": 1,
        "proceeds": D(1500),
        "cost_basis": D(1000),
        "gain": D(500),
    }
    # And short-term: the BBB loss (-100) and the CCC short sale (+40): 2 rows, gain -60
    assert (report["short_term"]["count"], report["short_term"]["gain"]) == (2, D(-60))
    assert report["total"]["gain"] == D(440)
    # And the rows carry the Form 8949 description and dates, the short sale's proceeds being the credit
    ccc = next(row for row in report["rows"] if row["symbol"] == "CCC")
    assert (ccc["description"], ccc["proceeds"], ccc["cost_basis"], ccc["term"]) == (
        "10 sh. CCC",
        D(200),
        D(160),
        "short",
    )
    assert [row["date_sold"] for row in report["rows"]] == [
        date(2024, 6, 3),
        date(2024, 6, 3),
        date(2024, 7, 1),
    ]
    # And 2025 only has the DDD sale
    assert realized_gains(realizations, 2025)["total"]["gain"] == D(2)


def test_open_lot_rows_show_tax_basis_term_and_unrealized() -> None:
    # Given a replacement lot (basis $800 + $250 disallowed, holding period from 2023-03-18) and a plain lot
    book = PositionBook.empty("XYZ")
    for item in [
        fill("b1", "XYZ", "buy", 100, 10, "2023-03-01"),
        fill("s1", "XYZ", "sell", 100, "7.5", "2023-06-03"),
        fill("b2", "XYZ", "buy", 100, 8, "2023-06-20"),
        fill("b3", "XYZ", "buy", 10, 9, "2024-03-01"),
    ]:
        book, _ = apply_fill(book, item)
    # When the lots are listed on 2024-03-19 at $9
    rows = open_lot_rows(book, D(9), date(2024, 3, 19))
    # Then the replacement lot is already long-term (tacked holding period) and its tax P&L is
    # 900 - 1,050 = -150 although the money gained 900 - 800 = +100
    first, second = rows
    assert (
        first["lot_id"],
        first["tax_basis"],
        first["term"],
        first["unrealized"],
        first["unrealized_tax"],
    ) == (
        "b2",
        D(1050),
        "long",
        D(100),
        D(-150),
    )
    assert (second["lot_id"], second["term"], second["market_value"]) == ("b3", "short", D(90))


def test_blotter_csv_has_exact_decimals_and_defuses_formulas() -> None:
    # Given fills with fractional shares, prices with trailing zeros and a hostile strategy name
    fills = [
        fill("f2", "XYZ", "sell", "0.25", "101.10", "2024-01-03", fee="0.015", strategy="=HYPERLINK(1)"),
        fill("f1", "XYZ", "buy", "0.25", "100.00", "2024-01-02", lot_ids=()),
    ]
    # When the blotter is exported
    table = list(csv.reader(io.StringIO(blotter_csv(fills))))
    # Then the header is fixed, rows are in time order and every number is the exact decimal string
    assert tuple(table[0]) == BLOTTER_COLUMNS
    first, second = (dict(zip(table[0], row, strict=True)) for row in table[1:])
    assert (first["fill_id"], first["price"], first["gross"], first["cash_flow"]) == (
        "f1",
        "100.00",
        "25.0000",
        "-25.0000",
    )
    assert (second["quantity"], second["fee"], second["gross"], second["cash_flow"]) == (
        "0.25",
        "0.015",
        "25.2750",
        "25.2600",
    )
    assert second["trade_date"] == "2024-01-03"
    # And a cell that a spreadsheet would run as a formula is quoted
    assert second["strategy"] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------------------- oracle on real data
@pytest.fixture(scope="module")
def sp500_2018() -> tuple[np.ndarray, np.ndarray]:
    data = load_daily("sp500")
    keep = (data["date"] >= np.datetime64("2018-01-01")) & (data["date"] <= np.datetime64("2018-12-31"))
    return data["date"][keep], data["close"][keep]


def _orders(n_days: int) -> np.ndarray:
    """A deterministic long/short history in whole shares: a random walk of the target position in [-6, 6]."""
    rng = np.random.default_rng(20260101)
    target = np.clip(np.cumsum(rng.integers(-2, 3, n_days)), -6, 6)
    target[-20:] = 0  # flat at the end
    return np.diff(target, prepend=0).astype(float)


def _fills(days: np.ndarray, closes: np.ndarray, orders: np.ndarray, fee: Decimal) -> list[Fill]:
    """The ledger fills of the orders at each day's close; an order through zero is a close and an open."""
    fills: list[Fill] = []
    position = 0
    for i, size in enumerate(orders.astype(int).tolist()):
        if size == 0:
            continue
        ts = datetime.fromisoformat(str(days[i])).replace(hour=21, tzinfo=UTC)
        price = D(repr(float(closes[i])))
        legs: list[tuple[Side, int]] = []
        new = position + size
        if position > 0 and new < position:
            legs.append(("sell", min(position, -size)))
        elif position < 0 and new > position:
            legs.append(("cover", min(-position, size)))
        rest = abs(size) - (legs[0][1] if legs else 0)
        if rest:
            legs.append(("buy" if size > 0 else "short", rest))
        for leg, (side, quantity) in enumerate(legs):  # the order's one fee goes on its first leg
            fills.append(
                Fill(
                    f"f{i}.{leg}",
                    f"o{i}",
                    "^GSPC",
                    side,
                    D(quantity),
                    price,
                    fee if leg == 0 else D(0),
                    ts + timedelta(seconds=leg),
                )
            )  # type: ignore[arg-type]
        position = new
    return fills


@pytest.mark.parametrize("method", [ReliefMethod.FIFO, ReliefMethod.LIFO, ReliefMethod.HIFO])
def test_daily_pnl_equals_vectorbt_portfolio_value_changes_on_real_closes(
    sp500_2018: tuple[np.ndarray, np.ndarray], method: ReliefMethod
) -> None:
    vbt = pytest.importorskip("vectorbt")
    pd = pytest.importorskip("pandas")
    days, closes = sp500_2018
    orders = _orders(len(days))
    # Given vectorbt 1.2.0 filling the same orders (shares, long and short) at the close with a $1.25 fee
    # per order (init_cash 1,000,000; min_size 0; direction both)
    index = pd.DatetimeIndex(days)
    portfolio = vbt.Portfolio.from_orders(
        pd.Series(closes, index=index),
        size=pd.Series(orders, index=index),
        size_type="amount",
        direction="both",
        fixed_fees=1.25,
        init_cash=1_000_000.0,
        min_size=0.0,
    )
    vbt_daily = np.diff(portfolio.value().to_numpy(), prepend=1_000_000.0)
    # When the ledger replays the same orders as fills and marks each day at the real close
    fills = _fills(days, closes, orders, D("1.25"))
    marks = {
        "^GSPC": [(date.fromisoformat(str(d)), D(repr(float(c)))) for d, c in zip(days, closes, strict=True)]
    }
    rows = pnl_by_day(fills, marks, method)
    ours = dict.fromkeys(range(len(days)), 0.0)
    day_index = {date.fromisoformat(str(d)): i for i, d in enumerate(days)}
    for row in rows:
        ours[day_index[row["day"]]] = float(row["total"])
    # Then every day's P&L equals vectorbt's change of portfolio value (to float precision)
    assert len(fills) > 50
    np.testing.assert_allclose(np.array(list(ours.values())), vbt_daily, rtol=0, atol=1e-6)
    # And the year's total equals vectorbt's total profit
    total = sum((row["total"] for row in rows), D(0))
    assert float(total) == pytest.approx(float(portfolio.total_profit()), abs=1e-6)
