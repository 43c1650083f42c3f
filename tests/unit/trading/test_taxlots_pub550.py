"""Tax lots and wash sales against hand-worked examples in the style of IRS Publication 550.

Every scenario is written out as Pub 550 would: what was bought and sold, when, for how much, and the
arithmetic of the basis, the disallowed loss and the holding period. Fees are 0 unless a test says
otherwise, so "$1,000" is simply 100 shares at $10. All fills happen at 15:00 UTC (10:00 New York).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trade2026.domain.trading.ledger import (
    Fill,
    PositionBook,
    Realization,
    ReliefMethod,
    apply_fill,
    holding_term,
)
from trade2026.domain.trading.reports import realized_gains

D = Decimal


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)


def fill(
    fill_id: str, side: str, quantity: object, price: object, day: str, fee: object = 0, **extra: object
) -> Fill:
    return Fill(
        fill_id, f"o-{fill_id}", "XYZ", side, D(str(quantity)), D(str(price)), D(str(fee)), at(day), **extra
    )  # type: ignore[arg-type]


def run(
    fills: list[Fill], method: ReliefMethod = ReliefMethod.FIFO
) -> tuple[PositionBook, list[Realization]]:
    book = PositionBook.empty("XYZ")
    rows: list[Realization] = []
    for item in fills:
        book, new_rows = apply_fill(book, item, method)
        rows.extend(new_rows)
    return book, rows


def test_pub550_example_replacement_within_30_days_after_the_sale() -> None:
    # Given Pub 550's example: "You buy 100 shares of X stock for $1,000. You sell these shares for $750 and
    # within 30 days from the sale you buy 100 shares of the same stock for $800."
    book, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-03-01"),  # $1,000
            fill("s1", "sell", 100, "7.50", "2024-06-03"),  # $750: a $250 loss
            fill("b2", "buy", 100, 8, "2024-06-20"),  # 17 days later, $800
        ]
    )
    # Then "you can't deduct your loss of $250 on the sale": the sale's row says so once the buy arrives
    sale, wash = rows
    assert (sale.kind, sale.gain, sale.proceeds, sale.tax_basis) == ("close", D(-250), D(750), D(1000))
    assert (wash.kind, wash.fill_id, wash.trigger_fill_id, wash.disallowed_loss) == (
        "wash",
        "s1",
        "b2",
        D(250),
    )
    # And "you add the disallowed loss ($250) to the cost of the new stock ($800) ... basis ... $1,050"
    (lot,) = book.lots
    assert (lot.lot_id, lot.cost, lot.wash_adjustment, lot.tax_basis) == ("b2", D(800), D(250), D(1050))
    # And the holding period of the sold shares (March 1 -> June 3 = 94 days) is added to the new shares':
    # June 20 - 94 days = March 18
    assert lot.holding_start == at("2024-03-18")
    # And the pending wash entry is used up
    assert book.pending_wash == ()
    # And on Form 8949 the sale shows proceeds 750, basis 1,000, adjustment 250 code W, gain 0
    (row,) = realized_gains(rows, 2024)["rows"]
    assert (row["proceeds"], row["cost_basis"], row["code"], row["adjustment"], row["gain"]) == (
        D(750),
        D(1000),
        "W",
        D(250),
        D(0),
    )
    # And the money is untouched: the economic loss of $250 stays realized
    assert book.realized == D(-250)


def test_partial_replacement_disallows_the_replaced_fraction_only() -> None:
    # Given 100 shares bought for $1,000 and sold for $750 (a $250 loss, $2.50 a share),
    # and only 60 shares bought back for $480 within 30 days
    book, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-03-01"),
            fill("s1", "sell", 100, "7.50", "2024-06-03"),
            fill("b2", "buy", 60, 8, "2024-06-10"),
        ]
    )
    # Then 60 of the 100 shares are replaced: 60 x $2.50 = $150 (60 %) is disallowed
    assert rows[-1].disallowed_loss == D(150)
    # And the 60 new shares have basis $480 + $150 = $630
    (lot,) = book.lots
    assert (lot.quantity, lot.cost, lot.tax_basis) == (D(60), D(480), D(630))
    # And the other 40 shares' $100 loss stays deductible but waits in case of another purchase
    (pending,) = book.pending_wash
    assert (pending.quantity, pending.loss, pending.expires) == (D(40), D(100), date(2024, 7, 3))
    # When the next purchase comes on day 31 after the sale (July 4), Then it is no replacement
    book, late = apply_fill(book, fill("b3", "buy", 40, 9, "2024-07-04"))
    assert late == []
    assert book.pending_wash == ()
    assert book.lots[-1].tax_basis == D(360)
    # And the 2024 report deducts $250 - $150 = $100
    report = realized_gains(rows, 2024)
    assert report["short_term"]["gain"] == D(-100)
    assert report["short_term"]["adjustment"] == D(150)


def test_purchase_on_day_30_after_the_sale_is_still_a_replacement() -> None:
    # Given a loss sale on June 3 and a purchase on July 3 (30 days later: the last day of the window)
    _, rows = run(
        [
            fill("b1", "buy", 10, 10, "2024-03-01"),
            fill("s1", "sell", 10, 9, "2024-06-03"),
            fill("b2", "buy", 10, 9, "2024-07-03"),
        ]
    )
    # Then the $10 loss is disallowed
    assert rows[-1].kind == "wash"
    assert rows[-1].disallowed_loss == D(10)


def test_more_replacement_shares_than_sold_split_the_new_lot() -> None:
    # Given 100 shares sold at a $300 loss and 150 shares bought back within 30 days for $1,200
    book, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-01-02"),
            fill("s1", "sell", 100, 7, "2024-02-01"),
            fill("b2", "buy", 150, 8, "2024-02-05"),
        ]
    )
    # Then only 100 of the 150 new shares are replacement shares: the lot splits into
    # 100 shares with basis $800 + $300 = $1,100 (and the tacked holding period) and 50 plain shares at $400
    plain, replacement = sorted(book.lots, key=lambda lot: lot.wash_adjustment)
    assert (replacement.lot_id, replacement.quantity, replacement.tax_basis) == ("b2#1", D(100), D(1100))
    assert replacement.holding_start == at("2024-01-06")  # Feb 5 - (Feb 1 - Jan 2 = 30 days)
    assert (plain.lot_id, plain.quantity, plain.tax_basis, plain.holding_start) == (
        "b2",
        D(50),
        D(400),
        at("2024-02-05"),
    )
    assert rows[-1].disallowed_loss == D(300)


def test_replacement_bought_before_the_sale_still_held_after_it() -> None:
    # Given 100 shares bought on January 2 for $2,000 (lot A) and 100 more on February 1 for $1,500 (lot B)
    # When 100 shares are sold FIFO on February 15 for $1,200: lot A, a loss of $800
    book, rows = run(
        [
            fill("A", "buy", 100, 20, "2024-01-02"),
            fill("B", "buy", 100, 15, "2024-02-01"),
            fill("S", "sell", 100, 12, "2024-02-15"),
        ]
    )
    # Then lot B was bought within 30 days BEFORE the sale (14 days) and is still held: it replaces A
    (sale,) = rows
    assert (sale.lot_id, sale.gain, sale.disallowed_loss) == ("A", D(-800), D(800))
    # And B's basis is $1,500 + $800 = $2,300, its holding period starts 44 days (Jan 2 -> Feb 15) before
    # February 1: December 19, 2023
    (lot_b,) = book.lots
    assert (lot_b.lot_id, lot_b.tax_basis, lot_b.holding_start) == ("B", D(2300), at("2023-12-19"))
    # And nothing waits for later purchases
    assert book.pending_wash == ()


def test_part_of_a_single_purchase_is_not_its_own_replacement() -> None:
    # Given 100 shares bought in one purchase on January 2 for $2,000, 40 of them sold on January 20 at $15
    book, rows = run([fill("A", "buy", 100, 20, "2024-01-02"), fill("S", "sell", 40, 15, "2024-01-20")])
    # Then the 60 shares left of the SAME purchase are not replacement shares (Rev. Rul. 56-602):
    # the $200 loss is deductible unless shares are bought in the next 30 days
    (sale,) = rows
    assert (sale.gain, sale.disallowed_loss) == (D(-200), D(0))
    assert book.lots[0].wash_adjustment == 0
    assert book.pending_wash[0].loss == D(200)


def test_purchase_more_than_30_days_before_the_sale_is_no_replacement() -> None:
    # Given lot A (Jan 2), lot B bought 31 days before the sale (Jan 15), and A sold at a loss on Feb 15
    book, rows = run(
        [
            fill("A", "buy", 10, 20, "2024-01-02"),
            fill("B", "buy", 10, 15, "2024-01-15"),
            fill("S", "sell", 10, 12, "2024-02-15"),
        ]
    )
    # Then B is outside the window: the $80 loss is not disallowed at the sale
    assert rows[0].disallowed_loss == 0
    assert book.lots[0].wash_adjustment == 0


def test_each_replacement_share_absorbs_only_one_share_of_loss() -> None:
    # Given two loss sales of 100 shares each ($100 and $200 losses) and ONE later purchase of 100 shares
    book, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-03-01"),
            fill("b2", "buy", 100, 10, "2024-03-01"),
            fill("s1", "sell", 100, 9, "2024-04-10"),  # $100 loss (lot b1)
            fill("s2", "sell", 100, 8, "2024-04-11"),  # $200 loss (lot b2)
            fill("b3", "buy", 100, 8, "2024-04-20"),
        ]
    )
    # Then the purchase replaces the FIRST loss sale's shares only (sales matched in order): $100 disallowed
    washes = [row for row in rows if row.kind == "wash"]
    assert [(row.fill_id, row.disallowed_loss) for row in washes] == [("s1", D(100))]
    assert book.lots[0].tax_basis == D(900)
    # And the second sale's $200 loss still waits for a purchase until May 11
    assert [(item.sale_fill_id, item.loss) for item in book.pending_wash] == [("s2", D(200))]


def test_gains_are_never_affected_by_a_repurchase() -> None:
    # Given 100 shares sold at a $200 GAIN and bought back the next day
    book, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-03-01"),
            fill("s1", "sell", 100, 12, "2024-03-05"),
            fill("b2", "buy", 100, 11, "2024-03-06"),
        ]
    )
    # Then nothing is disallowed and the new shares have their own basis and holding period
    assert [row.disallowed_loss for row in rows] == [0]
    assert (book.lots[0].tax_basis, book.lots[0].holding_start) == (D(1100), at("2024-03-06"))


def test_holding_period_tacking_makes_the_replacement_long_term() -> None:
    # Given 100 shares bought on January 3, 2023 for $5,000 and sold on December 1, 2023 for $4,000
    # (held 332 days), then 100 shares bought back on December 15, 2023 for $4,200
    book, rows = run(
        [
            fill("b1", "buy", 100, 50, "2023-01-03"),
            fill("s1", "sell", 100, 40, "2023-12-01"),
            fill("b2", "buy", 100, 42, "2023-12-15"),
        ]
    )
    # Then the replacement's basis is $4,200 + $1,000 = $5,200 and its holding period starts 332 days before
    # December 15, 2023: January 17, 2023
    (lot,) = book.lots
    assert (lot.tax_basis, lot.holding_start) == (D(5200), at("2023-01-17"))
    # When the replacement is sold on January 18, 2024 for $4,500 (owned only 34 days)
    book, sale = apply_fill(book, fill("s2", "sell", 100, 45, "2024-01-18"))
    # Then it is LONG-term: held from January 17, 2023 more than one year (the anniversary is Jan 17, 2024)
    assert sale[0].term == "long"
    # And a sale on the anniversary itself would have been short-term
    assert holding_term(lot.holding_start, date(2024, 1, 17)) == "short"
    # And the 2024 long-term reportable result is $4,500 - $5,200 = -$700 although the money gained $300
    report = realized_gains(rows + sale, 2024)
    assert (report["long_term"]["gain"], report["long_term"]["economic_gain"]) == (D(-700), D(300))
    # And the 2023 report shows the first sale's $1,000 loss as disallowed (code W, reportable 0)
    assert realized_gains(rows + sale, 2023)["short_term"]["gain"] == 0
    assert realized_gains(rows + sale, 2023)["short_term"]["adjustment"] == D(1000)


@pytest.mark.parametrize(
    ("acquired", "sold", "term"),
    [
        # Pub 550: "if you bought investment property on February 5, 2023, and sold it on February 5, 2024,
        # your holding period is not longer than 1 year ... If you sold it on February 6, 2024, your holding
        # period is longer than 1 year"
        ("2023-02-05", "2024-02-05", "short"),
        ("2023-02-05", "2024-02-06", "long"),
        # a leap day acquisition: the count starts March 1, 2024, one year ends February 28, 2025
        ("2024-02-29", "2025-02-28", "short"),
        ("2024-02-29", "2025-03-01", "long"),
        ("2023-12-31", "2024-12-31", "short"),
        ("2023-12-31", "2025-01-01", "long"),
    ],
)
def test_short_long_split_at_exactly_one_year(acquired: str, sold: str, term: str) -> None:
    # Given 10 shares bought on `acquired` for $100, When they are sold on `sold` for $150
    _, rows = run([fill("b", "buy", 10, 10, acquired), fill("s", "sell", 10, 15, sold)])
    # Then the $50 gain is short-term up to the anniversary and long-term from the day after it
    assert rows[0].term == term
    assert rows[0].gain == D(50)


def test_a_year_end_sale_is_amended_by_a_january_repurchase_in_its_own_tax_year() -> None:
    # Given a loss sale on December 20, 2024 ($300) and a repurchase on January 6, 2025 (17 days later)
    _, rows = run(
        [
            fill("b1", "buy", 100, 10, "2024-06-03"),
            fill("s1", "sell", 100, 7, "2024-12-20"),
            fill("b2", "buy", 100, 7, "2025-01-06"),
        ]
    )
    # Then the 2024 return shows the loss disallowed, and 2025 has no realized sale at all
    assert realized_gains(rows, 2024)["total"]["gain"] == 0
    assert realized_gains(rows, 2024)["total"]["adjustment"] == D(300)
    assert realized_gains(rows, 2025)["total"]["count"] == 0


# ---------------------------------------------------------------------------- relief methods
# Three purchases and one sale, the same under every method:
#   L1: 100 sh on Jan 10 at $10 ($1,000)   L2: 100 sh on Feb 10 at $14 ($1,400)   L3: 100 sh on Mar 10 at $12
#   sell 150 sh on Jun 3 at $13 ($1,950)   (more than 30 days after the last purchase: no wash sale)
#   FIFO:  100 x (13-10) + 50 x (13-14)      = 300 - 50  = 250
#   LIFO:  100 x (13-12) + 50 x (13-14)      = 100 - 50  =  50
#   HIFO:  100 x (13-14) + 50 x (13-12)      = -100 + 50 = -50
#   SPECIFIC [L1, L3]: 100 x 3 + 50 x 1      = 300 + 50  = 350
# Whatever the method, realized + unrealized at $13 = 1,950 + 150 x 13 - 3,600 = 300.
LOTS_FILLS = [
    ("L1", "2024-01-10", 10),
    ("L2", "2024-02-10", 14),
    ("L3", "2024-03-10", 12),
]


@pytest.mark.parametrize(
    ("method", "lot_ids", "gain", "closed", "left"),
    [
        (ReliefMethod.FIFO, (), D(250), [("L1", 100), ("L2", 50)], {"L2": 50, "L3": 100}),
        (ReliefMethod.LIFO, (), D(50), [("L3", 100), ("L2", 50)], {"L1": 100, "L2": 50}),
        (ReliefMethod.HIFO, (), D(-50), [("L2", 100), ("L3", 50)], {"L1": 100, "L3": 50}),
        (ReliefMethod.SPECIFIC, ("L1", "L3"), D(350), [("L1", 100), ("L3", 50)], {"L2": 100, "L3": 50}),
    ],
)
def test_relief_methods_on_the_same_fills(
    method: ReliefMethod,
    lot_ids: tuple[str, ...],
    gain: Decimal,
    closed: list[tuple[str, int]],
    left: dict[str, int],
) -> None:
    # Given the three lots above
    fills = [fill(lot_id, "buy", 100, price, day) for lot_id, day, price in LOTS_FILLS]
    # When 150 shares are sold at $13 with `method`
    book, rows = run([*fills, fill("S", "sell", 150, 13, "2024-06-03", lot_ids=lot_ids)], method)
    # Then the lots closed, the gain and the lots left are those worked out above
    assert [(row.lot_id, row.quantity) for row in rows] == [(lot_id, D(q)) for lot_id, q in closed]
    assert sum(row.gain for row in rows) == gain
    assert {lot.lot_id: lot.quantity for lot in book.lots} == {lot_id: D(q) for lot_id, q in left.items()}
    # And the total P&L does not depend on the method
    assert book.realized + book.unrealized(D(13)) == D(300)


def test_specific_lot_relief_in_the_given_order_with_a_partial_last_lot() -> None:
    # Given lots L1, L2, L3 (100 each) When 150 are sold naming L3 then L2
    fills = [fill(lot_id, "buy", 100, price, day) for lot_id, day, price in LOTS_FILLS]
    book, rows = run(
        [*fills, fill("S", "sell", 150, 13, "2024-06-03", lot_ids=("L3", "L2"))], ReliefMethod.FIFO
    )
    # Then all of L3 (+100) and 50 of L2 (-50) close: a lot named on the fill wins over the default method
    assert [(row.lot_id, row.quantity, row.gain) for row in rows] == [
        ("L3", D(100), D(100)),
        ("L2", D(50), D(-50)),
    ]
    # And L2 keeps 50 shares at $700 (half its cost)
    assert {lot.lot_id: lot.cost for lot in book.lots} == {"L1": D(1000), "L2": D(700)}


def test_hifo_uses_the_tax_basis_including_a_wash_adjustment() -> None:
    # Given lot W: 10 sh bought at $9 after a $30 loss sale -> tax basis $90 + $30 = $120 ($12/sh),
    # and lot P: 10 sh at $11 ($11/sh)
    book, _ = run(
        [
            fill("b0", "buy", 10, 12, "2024-01-02"),
            fill("s0", "sell", 10, 9, "2024-02-01"),  # $30 loss
            fill("W", "buy", 10, 9, "2024-02-02"),  # replacement: basis $120
            fill("P", "buy", 10, 11, "2024-03-20"),
        ]
    )
    # When 10 are sold HIFO on May 1 at $10
    book, rows = apply_fill(book, fill("S", "sell", 10, 10, "2024-05-01"), ReliefMethod.HIFO)
    # Then lot W (highest tax basis per share, $12 > $11) is relieved: economic loss $100 - $90 = +$10 gain,
    # but a $20 tax loss ($100 - $120)
    (row,) = rows
    assert (row.lot_id, row.gain, row.proceeds - row.tax_basis) == ("W", D(10), D(-20))


def test_fees_are_part_of_cost_and_proceeds_and_split_exactly() -> None:
    # Given 3 shares bought at $10 with a $1 fee: cost $31, i.e. $10.333... a share
    book, _ = run([fill("b", "buy", 3, 10, "2024-01-02", fee=1)])
    # When 1 share is sold at $11 with a $0.50 fee (proceeds $10.50)
    book, rows = apply_fill(book, fill("s", "sell", 1, 11, "2024-03-01", fee="0.50"))
    # Then one third of the cost is relieved, rounded to 12 places, and the rest stays: 31 in total, exactly
    assert rows[0].cost_basis == D("10.333333333333")
    assert book.lots[0].cost == D("20.666666666667")
    assert rows[0].cost_basis + book.lots[0].cost == D(31)
    assert rows[0].proceeds == D("10.50")
    assert rows[0].gain == D("10.50") - D("10.333333333333")
