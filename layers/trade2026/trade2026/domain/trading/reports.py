"""PTRC report math over fills and realizations (pure, exact Decimal; formatting is the caller's job).

- ``replay``: the books and realizations of a list of fills (time order, one ``PositionBook`` per symbol).
- ``realized_gains``: Form 8949 / Schedule D style totals of one tax year, short- and long-term, with rows.
- ``pnl_by_day``: each symbol marked at each daily close: realized that day, change of unrealized, total.
- ``pnl_by_symbol`` / ``pnl_by_strategy``: realized + unrealized at given prices; realized P&L belongs to the
  strategy of the fill that OPENED the lot, unrealized to the strategy of the open lots.
- ``open_lot_rows``: the tax lots of a book with their tax basis, holding term and unrealized P&L.
- ``blotter_csv``: the trade blotter, one CSV row per fill with exact decimal strings.

All P&L here is economic (fees included, wash sales ignored: they move tax, not money); only
``realized_gains`` and ``open_lot_rows`` show tax basis and disallowed losses. Dates are UTC calendar dates
of the timestamps, as in the ledger.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, TypedDict

from trade2026.domain.trading.ledger import (
    LEDGER_CONTEXT,
    ZERO,
    Fill,
    LedgerError,
    PositionBook,
    Realization,
    ReliefMethod,
    Term,
    apply_fill,
    dec_str,
    to_decimal,
)

UNASSIGNED = "unassigned"  # strategy label of fills without one

BLOTTER_COLUMNS = (
    "ts",
    "trade_date",
    "fill_id",
    "order_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "gross",
    "cash_flow",
    "strategy",
    "lot_ids",
)


class PnlDayRow(TypedDict):
    day: date
    symbol: str
    realized: Decimal
    unrealized_change: Decimal
    total: Decimal
    position: Decimal
    close: Decimal
    fills: int


class PnlRow(TypedDict):
    key: str  # the symbol (pnl_by_symbol) or the strategy (pnl_by_strategy)
    realized: Decimal
    unrealized: Decimal
    total: Decimal
    fees: Decimal
    position: Decimal  # signed shares (pnl_by_symbol); 0 for strategies


def _ordered(fills: Iterable[Fill]) -> list[Fill]:
    """Fills in time order (stable for equal timestamps)."""
    return sorted(fills, key=lambda fill: fill.ts)


def replay(
    fills: Iterable[Fill], method: ReliefMethod | str = ReliefMethod.FIFO
) -> tuple[dict[str, PositionBook], list[Realization]]:
    """Every symbol's book after ``fills`` (applied in time order) and all their realizations."""
    books: dict[str, PositionBook] = {}
    realizations: list[Realization] = []
    for fill in _ordered(fills):
        book = books.get(fill.symbol) or PositionBook.empty(fill.symbol)
        books[fill.symbol], rows = apply_fill(book, fill, method)
        realizations.extend(rows)
    return books, realizations


# ---------------------------------------------------------------------------- realized gains (tax)
def _empty_totals() -> dict[str, Any]:
    return {
        "count": 0,
        "proceeds": ZERO,
        "cost_basis": ZERO,
        "adjustment": ZERO,
        "gain": ZERO,
        "economic_gain": ZERO,
    }


def _form_rows(realizations: Iterable[Realization], tax_year: int) -> list[dict[str, Any]]:
    """One Form 8949 row per (sale fill, lot): the close row plus its wash-sale amendments."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for item in realizations:
        if item.closed.year != tax_year:
            continue
        row = grouped.get((item.fill_id, item.lot_id))
        if row is None:
            row = grouped[(item.fill_id, item.lot_id)] = {
                "fill_id": item.fill_id,
                "lot_id": item.lot_id,
                "symbol": item.symbol,
                "direction": item.direction,
                "quantity": ZERO,
                "date_acquired": item.opened.date(),
                "holding_start": item.holding_start.date(),
                "date_sold": item.closed.date(),
                "term": item.term,
                "strategy": item.strategy,
                "proceeds": ZERO,
                "cost_basis": ZERO,
                "adjustment": ZERO,
                "economic_gain": ZERO,
            }
        if item.kind == "close":
            row["quantity"] += item.quantity
        row["proceeds"] += item.proceeds
        row["cost_basis"] += item.tax_basis
        row["adjustment"] += item.disallowed_loss
        row["economic_gain"] += item.gain
    rows = sorted(
        grouped.values(), key=lambda row: (row["date_sold"], row["symbol"], row["fill_id"], row["lot_id"])
    )
    for row in rows:
        row["code"] = "W" if row["adjustment"] > 0 else ""
        row["gain"] = row["proceeds"] - row["cost_basis"] + row["adjustment"]
        row["description"] = f"{dec_str(row['quantity'])} sh. {row['symbol']}"
    return rows


def realized_gains(realizations: Iterable[Realization], tax_year: int) -> dict[str, Any]:
    """Short- and long-term totals of the sales closed in ``tax_year`` (Form 8949 columns d, e, g, h).

    ``proceeds`` (d) net of the selling fee; ``cost_basis`` (e) the TAX basis (cost incl. the buying fee plus
    wash-sale adjustments carried in); ``adjustment`` (g) the disallowed wash-sale loss, code ``W``;
    ``gain`` (h) = d - e + g, the reportable gain or loss; ``economic_gain`` = proceeds - economic cost.
    A wash-sale amendment found later (a purchase in the next 30 days) belongs to the sale's tax year.
    Values are exact Decimals; round to cents where the report is formatted.
    """
    with localcontext(LEDGER_CONTEXT):
        rows = _form_rows(realizations, tax_year)
        totals: dict[Term | str, dict[str, Any]] = {
            "short": _empty_totals(),
            "long": _empty_totals(),
            "total": _empty_totals(),
        }
        for row in rows:
            for bucket in (totals[row["term"]], totals["total"]):
                bucket["count"] += 1
                for name in ("proceeds", "cost_basis", "adjustment", "gain", "economic_gain"):
                    bucket[name] += row[name]
    return {
        "tax_year": tax_year,
        "short_term": totals["short"],
        "long_term": totals["long"],
        "total": totals["total"],
        "rows": rows,
    }


# ---------------------------------------------------------------------------- P&L
def pnl_by_day(
    fills: Iterable[Fill],
    daily_closes: Mapping[str, Sequence[tuple[date, Decimal]]],
    method: ReliefMethod | str = ReliefMethod.FIFO,
) -> list[PnlDayRow]:
    """Daily P&L per symbol: the fills of each day are replayed, then the book is marked at that day's close.

    ``realized`` is the economic gain of the day's closing fills, ``unrealized_change`` the change of the
    open lots' unrealized P&L from the previous close, ``total`` their sum; so the totals of a symbol add up
    to its realized + unrealized P&L at the last close. A day gets a row when it has fills or the symbol was
    held at the previous close. Fills on a day without a close count on the next close; fills after the last
    close are not marked and do not appear.
    """
    by_symbol: dict[str, list[Fill]] = defaultdict(list)
    for fill in _ordered(fills):
        by_symbol[fill.symbol].append(fill)
    rows: list[PnlDayRow] = []
    with localcontext(LEDGER_CONTEXT):
        for symbol, symbol_fills in sorted(by_symbol.items()):
            if not daily_closes.get(symbol):
                raise LedgerError(f"no daily closes to mark {symbol}")
            rows.extend(_symbol_days(symbol, symbol_fills, daily_closes[symbol], method))
    rows.sort(key=lambda row: (row["day"], row["symbol"]))
    return rows


def _symbol_days(
    symbol: str, fills: list[Fill], closes: Sequence[tuple[date, Decimal]], method: ReliefMethod | str
) -> list[PnlDayRow]:
    book = PositionBook.empty(symbol)
    rows: list[PnlDayRow] = []
    next_fill = 0
    previous = ZERO
    for day, close in sorted(closes, key=lambda item: item[0]):
        realized = ZERO
        count = 0
        while next_fill < len(fills) and fills[next_fill].trade_date <= day:
            book, realizations = apply_fill(book, fills[next_fill], method)
            realized += sum((row.gain for row in realizations), ZERO)
            next_fill += 1
            count += 1
        if count == 0 and book.quantity == 0:
            continue
        mark = to_decimal(close, f"close of {symbol} on {day}")
        unrealized = book.unrealized(mark)
        change = unrealized - previous
        previous = unrealized
        rows.append(
            PnlDayRow(
                day=day,
                symbol=symbol,
                realized=realized,
                unrealized_change=change,
                total=realized + change,
                position=book.quantity,
                close=mark,
                fills=count,
            )
        )
    return rows


def _price(prices: Mapping[str, Decimal], book: PositionBook) -> Decimal:
    if book.quantity == 0:
        return ZERO
    if book.symbol not in prices:
        raise LedgerError(f"no price to mark the {book.symbol} position of {book.quantity}")
    return to_decimal(prices[book.symbol], f"price of {book.symbol}")


def pnl_by_symbol(
    fills: Iterable[Fill], prices: Mapping[str, Decimal], method: ReliefMethod | str = ReliefMethod.FIFO
) -> list[PnlRow]:
    """Realized, unrealized (at ``prices``) and fees per symbol, sorted by symbol."""
    books, _ = replay(fills, method)
    rows: list[PnlRow] = []
    with localcontext(LEDGER_CONTEXT):
        for symbol, book in sorted(books.items()):
            unrealized = book.unrealized(_price(prices, book))
            rows.append(
                PnlRow(
                    key=symbol,
                    realized=book.realized,
                    unrealized=unrealized,
                    total=book.realized + unrealized,
                    fees=book.fees,
                    position=book.quantity,
                )
            )
    return rows


def pnl_by_strategy(
    fills: Iterable[Fill], prices: Mapping[str, Decimal], method: ReliefMethod | str = ReliefMethod.FIFO
) -> list[PnlRow]:
    """P&L per strategy: a lot's realized and unrealized P&L belong to the strategy of its opening fill.

    ``fees`` are the fees of the fills carrying the strategy (closing fees are inside realized P&L of the
    lot's strategy, so they may differ). Fills without a strategy report as ``"unassigned"``.
    """
    fill_list = list(fills)
    books, realizations = replay(fill_list, method)
    realized: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unrealized: dict[str, Decimal] = defaultdict(lambda: ZERO)
    fees: dict[str, Decimal] = defaultdict(lambda: ZERO)
    with localcontext(LEDGER_CONTEXT):
        for item in realizations:
            realized[item.strategy or UNASSIGNED] += item.gain
        for book in books.values():
            price = _price(prices, book)
            for lot in book.lots:
                unrealized[lot.strategy or UNASSIGNED] += lot.unrealized(price)
        for fill in fill_list:
            fees[fill.strategy or UNASSIGNED] += fill.fee
        keys = sorted(set(realized) | set(unrealized) | set(fees))
        return [
            PnlRow(
                key=key,
                realized=realized[key],
                unrealized=unrealized[key],
                total=realized[key] + unrealized[key],
                fees=fees[key],
                position=ZERO,
            )
            for key in keys
        ]


# ---------------------------------------------------------------------------- lots and blotter
def open_lot_rows(book: PositionBook, price: Decimal | None, as_of: date) -> list[dict[str, Any]]:
    """The open tax lots of ``book``: quantity, economic cost, tax basis, holding term on ``as_of`` and,
    given a ``price``, market value and unrealized P&L (economic and against the tax basis)."""
    rows: list[dict[str, Any]] = []
    with localcontext(LEDGER_CONTEXT):
        for lot in book.lots:
            row: dict[str, Any] = {
                "lot_id": lot.lot_id,
                "symbol": book.symbol,
                "direction": lot.direction,
                "quantity": lot.quantity,
                "cost": lot.cost,
                "wash_adjustment": lot.wash_adjustment,
                "tax_basis": lot.tax_basis,
                "opened": lot.opened,
                "holding_start": lot.holding_start,
                "term": lot.term_on(as_of),
                "strategy": lot.strategy,
            }
            if price is not None:
                mark = to_decimal(price, f"price of {book.symbol}")
                row["market_value"] = lot.signed_quantity * mark
                row["unrealized"] = lot.unrealized(mark)
                row["unrealized_tax"] = row["unrealized"] - (
                    lot.wash_adjustment if lot.direction == "long" else ZERO
                )
            rows.append(row)
    return rows


def _text_cell(value: str | None) -> str:
    """Text for a spreadsheet: a leading = + - @ would start a formula, so it is quoted with an apostrophe."""
    text = value or ""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def blotter_csv(fills: Iterable[Fill]) -> str:
    """The trade blotter: a header and one row per fill in time order, decimals exactly as recorded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BLOTTER_COLUMNS)
    with localcontext(LEDGER_CONTEXT):
        for fill in _ordered(fills):
            writer.writerow(
                (
                    fill.ts.isoformat(),
                    fill.trade_date.isoformat(),
                    _text_cell(fill.fill_id),
                    _text_cell(fill.order_id),
                    _text_cell(fill.symbol),
                    fill.side,
                    dec_str(fill.quantity),
                    dec_str(fill.price),
                    dec_str(fill.fee),
                    dec_str(fill.gross),
                    dec_str(fill.cash_flow),
                    _text_cell(fill.strategy),
                    _text_cell(" ".join(fill.lot_ids)),
                )
            )
    return buffer.getvalue()
