"""Positions, P&L, tax lots and PTRC reports of an account, from its books and fill history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from trade2026.adapters import trading_store as store
from trade2026.auth import Caller
from trade2026.domain.trading import reports
from trade2026.domain.trading.ledger import Fill, PositionBook, Realization, ReliefMethod
from trade2026.errors import Unprocessable
from trade2026.services.trading import ZERO, cash_of, owned_account

DailyCloses = Callable[[str, date, date], Sequence[tuple[date, Decimal]]]  # symbol, first, last -> closes


def _text(value: Any) -> Any:
    """Decimals and dates as exact strings for JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return value


def _state(caller: Caller, account_id: str) -> tuple[store.AccountModel, dict[str, PositionBook]]:
    owned_account(caller, account_id)
    account, positions, _open = store.account_state(account_id)
    assert account is not None
    return account, {p.sk.split("#", 1)[1]: PositionBook.from_dict(p.book) for p in positions}


def positions(caller: Caller, account_id: str) -> dict[str, Any]:
    """Every position marked to the latest price, and the account summary (cash, equity, P&L today)."""
    account, books = _state(caller, account_id)
    prices = store.last_prices(list(books))
    rows: list[dict[str, Any]] = []
    values: list[Decimal] = []  # market values of the marked positions
    unrealized: list[Decimal] = []
    for symbol, book in sorted(books.items()):
        price = prices.get(symbol)
        rows.append({
            "symbol": symbol, "quantity": book.quantity, "average_cost": book.average_cost if book.quantity else None,
            "cost_basis": book.cost_basis, "price": price,
            "market_value": None if price is None else book.market_value(price),
            "unrealized": None if price is None else book.unrealized(price), "realized": book.realized,
            "fees": book.fees, "lots": len(book.lots),
        })  # fmt: skip
        if price is not None:
            values.append(book.market_value(price))
            unrealized.append(book.unrealized(price))
    cash = cash_of(account, books)
    market_value = sum(values, ZERO)
    equity = cash + market_value
    today = datetime.now(UTC).date().isoformat()
    daily = equity - Decimal(account.sod_equity) if account.sod_date == today and account.sod_equity else None
    summary = {
        "cash": cash, "market_value": market_value, "equity": equity, "starting_cash": Decimal(account.starting_cash),
        "realized": sum((b.realized for b in books.values()), ZERO),
        "unrealized": sum(unrealized, ZERO), "pnl_today": daily,
        "gross_exposure": sum((abs(v) for v in values), ZERO),
        "kill_switch": account.kill, "global_kill_switch": store.global_kill(),
    }  # fmt: skip
    return _text({"account_id": account_id, "summary": summary, "positions": rows})


def fill_history(account_id: str) -> tuple[list[Fill], list[Realization]]:
    fills: list[Fill] = []
    realizations: list[Realization] = []
    for record in store.records(account_id, "FILL#"):
        data = record.data or {}
        fills.append(Fill.from_dict(data["fill"]))
        realizations.extend(Realization.from_dict(r) for r in data.get("realizations", []))
    return fills, realizations


def pnl(caller: Caller, account_id: str, by: str, daily_closes: DailyCloses) -> dict[str, Any]:
    account, books = _state(caller, account_id)
    fills, _ = fill_history(account_id)
    method = ReliefMethod(account.lot_method)
    if by == "day":
        if not fills:
            return {"by": by, "rows": []}
        first, last = min(f.trade_date for f in fills), datetime.now(UTC).date()
        closes = {symbol: daily_closes(symbol, first, last) for symbol in {f.symbol for f in fills}}
        rows: list[Any] = list(reports.pnl_by_day(fills, closes, method))
    else:
        prices = store.last_prices(list(books))
        report = reports.pnl_by_symbol if by == "symbol" else reports.pnl_by_strategy
        rows = list(report(fills, prices, method))
    return _text({"by": by, "rows": rows})


def tax_lots(caller: Caller, account_id: str) -> dict[str, Any]:
    _, books = _state(caller, account_id)
    prices = store.last_prices(list(books))
    today = datetime.now(UTC).date()
    lots = [row for s, b in sorted(books.items()) for row in reports.open_lot_rows(b, prices.get(s), today)]
    return _text({"account_id": account_id, "as_of": today, "lots": lots})


def realized_gains(caller: Caller, account_id: str, tax_year: int) -> dict[str, Any]:
    owned_account(caller, account_id)
    _, realizations = fill_history(account_id)
    return _text({"account_id": account_id, **reports.realized_gains(realizations, tax_year)})


def blotter(caller: Caller, account_id: str) -> str:
    owned_account(caller, account_id)
    fills, _ = fill_history(account_id)
    return reports.blotter_csv(fills)


def compliance(caller: Caller, account_id: str, start: str | None, end: str | None) -> dict[str, Any]:
    """Risk rejections (with rule and numbers), kill-switch history and restricted-list hits in [start, end]."""
    owned_account(caller, account_id)
    lo, hi = start or "", (end or "9999") + "\uffff"
    if lo > hi:
        raise Unprocessable("start is after end")
    rejected = [
        o
        for o in store.query_orders(account_id, 10_000, None, "rejected", None)[0]
        if lo <= o.created_at <= hi
    ]
    rejections = [
        {
            "order_id": o.order_id,
            "at": o.created_at,
            "symbol": o.symbol,
            "spec": o.spec,
            "violations": o.rejection,
        }
        for o in rejected
    ]
    kills = [
        {"at": r.sk.split("#", 1)[1], **(r.data or {})} for r in store.records(account_id, "KILL#", lo, hi)
    ]
    by_rule: dict[str, int] = {}
    for row in rejections:
        for violation in row["violations"] or []:
            by_rule[violation["rule"]] = by_rule.get(violation["rule"], 0) + 1
    restricted = [
        r for r in rejections if any(v["rule"] == "restricted_symbol" for v in r["violations"] or [])
    ]
    return _text({
        "account_id": account_id, "start": start, "end": end, "rejections": rejections,
        "rejections_by_rule": by_rule, "kill_switch_events": kills, "restricted_list_hits": restricted,
    })  # fmt: skip


def lake_daily_closes(lake: Any) -> DailyCloses:
    """Daily closes from the market data lake (the daily bars, or minute bars resampled to days)."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    def closes(symbol: str, first: date, last: date) -> Sequence[tuple[date, Decimal]]:
        meta = get_symbol(symbol)
        if meta is None:
            return []
        start = mq.parse_time(first.isoformat(), end_of_day=False, default=mq.EARLIEST_NS)
        end = mq.parse_time(last.isoformat(), end_of_day=True, default=mq.LATEST_NS)
        query = mq.BarsQuery(symbol, "1d", start, end, limit=100_000, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        days = bars.start.astype("datetime64[ns]").astype("datetime64[D]").astype(object)
        return [(d, Decimal(repr(float(c)))) for d, c in zip(days, bars.close, strict=True)]

    return closes
