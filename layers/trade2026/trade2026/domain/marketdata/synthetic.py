"""SYNTHETIC intraday ticks: a seeded generator of raw venue records with their ground truth.

Nothing here is market data. Prices follow geometric Brownian motion per symbol; event times are a
Poisson process (conditioned on the total count, i.e. sorted uniform times); each event goes to one of
the venues, which emits it in its own raw format (``venues``). Optionally a share of records is
malformed - spread evenly over every reject reason - and a share are exact repeats of earlier clean
records. The ground truth tells, for each record, what a correct normalizer must do with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from trade2026.domain.marketdata.normalization import RejectReason
from trade2026.domain.marketdata.schema import KIND_QUOTE, KIND_TRADE, NS_PER_SECOND, TickBatch
from trade2026.domain.marketdata.timeparse import format_iso_utc
from trade2026.domain.marketdata.venues import VENUE_FORMATS, VENUES, RecordLayout, TsEncoding

DEFAULT_SYMBOLS: Final[Mapping[str, float]] = {
    "AAPL": 185.0,
    "MSFT": 370.0,
    "AMZN": 150.0,
    "NVDA": 480.0,
    "JPM": 170.0,
    "XOM": 100.0,
    "KO": 59.0,
    "PG": 146.0,
    "WMT": 157.0,
    "GE": 105.0,
}
SESSION_START_NS: Final = 1_704_205_800 * NS_PER_SECOND  # 2024-01-02T14:30:00Z (09:30 New York)
SESSION_NS: Final = 23_400 * NS_PER_SECOND  # 6.5 hours
DUPLICATE: Final = "duplicate"
VALID: Final = ""
UNKNOWN_SYMBOL_TEXT: Final = "ZZZZ"
_TRADING_NS_PER_YEAR: Final = 252 * SESSION_NS


@dataclass(frozen=True)
class SyntheticFeed:
    records: list[str]  # raw JSON records, in arrival order
    expected: np.ndarray  # per record: VALID, DUPLICATE or a RejectReason value (object array of str)
    truth: TickBatch  # canonical ticks of the VALID records, in arrival order
    truth_index: np.ndarray  # position in ``records`` of each truth tick
    symbols: tuple[str, ...]  # the known symbols
    now_ns: int  # a "now" after every genuine tick (future-timestamp rejects are an hour past it)


@dataclass(frozen=True)
class _Events:
    symbol_code: np.ndarray
    venue_code: np.ndarray
    kind: np.ndarray
    ts: np.ndarray  # at the venue's precision
    seq: np.ndarray
    price: np.ndarray
    size: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray


def synthetic_feed(
    n_records: int,
    *,
    seed: int,
    symbols: Mapping[str, float] = DEFAULT_SYMBOLS,
    start_ns: int = SESSION_START_NS,
    duration_ns: int = SESSION_NS,
    quote_share: float = 0.5,
    malformed_share: float = 0.0,
    duplicate_share: float = 0.0,
    annual_volatility: float = 0.3,
) -> SyntheticFeed:
    """``n_records`` raw records (including malformed ones and duplicates) from a seeded Generator."""
    rng = np.random.default_rng(seed)
    n_duplicates = round(n_records * duplicate_share)
    n_events = n_records - n_duplicates
    names = tuple(sorted(symbols))
    events = _events(
        rng,
        n_events,
        names=names,
        start_prices=symbols,
        start_ns=start_ns,
        duration_ns=duration_ns,
        quote_share=quote_share,
        volatility=annual_volatility,
    )
    now_ns = start_ns + duration_ns + NS_PER_SECOND
    records = _encode(events, names)
    expected = np.full(n_events, VALID, dtype=object)
    _inject_malformed(
        rng, records, events, expected=expected, count=round(n_events * malformed_share), now_ns=now_ns
    )
    texts = [r if isinstance(r, str) else json.dumps(r, separators=(",", ":")) for r in records]
    order, origin = _with_duplicates(rng, expected, n_duplicates)
    final_expected = np.where(origin >= 0, expected[np.maximum(origin, 0)], DUPLICATE).astype(object)
    source = np.where(origin >= 0, origin, -origin - 1)
    final_records = [texts[i] for i in source[order].tolist()]
    final_expected = final_expected[order]
    valid = np.flatnonzero(final_expected == VALID)
    truth_events = source[order][valid]
    return SyntheticFeed(
        records=final_records,
        expected=final_expected,
        truth=_truth(events, truth_events, names),
        truth_index=valid,
        symbols=names,
        now_ns=now_ns,
    )


def _events(
    rng: np.random.Generator,
    n: int,
    *,
    names: tuple[str, ...],
    start_prices: Mapping[str, float],
    start_ns: int,
    duration_ns: int,
    quote_share: float,
    volatility: float,
) -> _Events:
    symbol_code = rng.integers(0, len(names), n).astype(np.int32)
    true_ts = start_ns + np.sort(rng.integers(0, duration_ns, n))
    first_prices = np.array([start_prices[s] for s in names])
    mid = _gbm_mids(
        rng, symbol_code, true_ts, start_ns=start_ns, start_price=first_prices, volatility=volatility
    )
    venue_code = rng.integers(0, len(VENUES), n).astype(np.int8)
    kind = np.where(rng.random(n) < quote_share, KIND_QUOTE, KIND_TRADE).astype(np.int8)
    mid_cents = np.round(mid * 100)
    bid_cents = mid_cents - rng.integers(1, 4, n)
    ask_cents = mid_cents + rng.integers(1, 4, n)
    nan = np.full(n, np.nan)
    is_trade = kind == KIND_TRADE
    return _Events(
        symbol_code=symbol_code,
        venue_code=venue_code,
        kind=kind,
        ts=_venue_precision(true_ts, venue_code),
        seq=_venue_sequences(venue_code),
        price=np.where(is_trade, mid_cents / 100, nan),
        size=np.where(is_trade, rng.integers(1, 11, n) * 100.0, nan),
        bid=np.where(is_trade, nan, bid_cents / 100),
        ask=np.where(is_trade, nan, ask_cents / 100),
        bid_size=np.where(is_trade, nan, rng.integers(1, 21, n) * 100.0),
        ask_size=np.where(is_trade, nan, rng.integers(1, 21, n) * 100.0),
    )


def _gbm_mids(
    rng: np.random.Generator,
    symbol_code: np.ndarray,
    ts: np.ndarray,
    *,
    start_ns: int,
    start_price: np.ndarray,
    volatility: float,
) -> np.ndarray:
    """Driftless GBM sampled at each symbol's own event times."""
    order = np.argsort(symbol_code, kind="stable")  # time order kept inside each symbol
    code, times = symbol_code[order], ts[order]
    first = np.r_[True, code[1:] != code[:-1]]
    dt_years = np.diff(times, prepend=start_ns) / _TRADING_NS_PER_YEAR
    dt_years[first] = (times[first] - start_ns) / _TRADING_NS_PER_YEAR
    steps = -0.5 * volatility**2 * dt_years + volatility * np.sqrt(dt_years) * rng.standard_normal(len(code))
    total = np.cumsum(steps)
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(code)), 0))
    before_group = np.r_[0.0, total][group_start]  # cumulative sum up to the group's first row
    log_mid = np.log(start_price[code]) + total - before_group
    mids = np.empty(len(code))
    mids[order] = np.exp(log_mid)
    return mids


def _venue_precision(ts: np.ndarray, venue_code: np.ndarray) -> np.ndarray:
    ms_venues = [i for i, f in enumerate(VENUE_FORMATS) if f.trade.ts_encoding is TsEncoding.EPOCH_MS]
    return np.where(np.isin(venue_code, ms_venues), ts // 1_000_000 * 1_000_000, ts)


def _venue_sequences(venue_code: np.ndarray) -> np.ndarray:
    """1, 2, 3 ... per venue in time order, offset per venue so that numbers look distinct."""
    order = np.argsort(venue_code, kind="stable")
    sorted_codes = venue_code[order]
    first = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = np.arange(len(order)) - group_start + 1 + sorted_codes.astype(np.int64) * 10_000_000
    return seq


def _wire_ts(encoding: TsEncoding, ts: np.ndarray) -> list[Any]:
    if encoding is TsEncoding.ISO:
        return format_iso_utc(ts).tolist()
    if encoding is TsEncoding.EPOCH_MS:
        return (ts // 1_000_000).tolist()
    return ts.astype(str).tolist()


def _layout_of(venue_code: int, kind: int) -> RecordLayout:
    return VENUE_FORMATS[venue_code].layout(kind)


def _encode(events: _Events, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Raw dict of every event in its venue's layout."""
    records: list[dict[str, Any]] = [{} for _ in range(len(events.ts))]
    symbol_names = np.asarray(names, dtype=object)
    for venue_code, venue_format in enumerate(VENUE_FORMATS):
        for layout in (venue_format.trade, venue_format.quote):
            rows = np.flatnonzero((events.venue_code == venue_code) & (events.kind == layout.kind))
            values: dict[str, list[Any]] = {
                "symbol": symbol_names[events.symbol_code[rows]].tolist(),
                "ts": _wire_ts(layout.ts_encoding, events.ts[rows]),
                "seq": events.seq[rows].tolist(),
            }
            for name in layout.canonical[3:]:
                column = getattr(events, name)[rows]
                values[name] = column.astype(np.int64).tolist() if "size" in name else column.tolist()
            names_in_order = list(values)
            for row, tuple_values in zip(rows.tolist(), zip(*values.values(), strict=True), strict=True):
                records[row] = layout.encode(dict(zip(names_in_order, tuple_values, strict=True)))
    return records


_INJECTABLE: Final = tuple(RejectReason)


def _inject_malformed(
    rng: np.random.Generator,
    records: list[Any],
    events: _Events,
    *,
    expected: np.ndarray,
    count: int,
    now_ns: int,
) -> None:
    """Corrupt ``count`` records in place, an equal share per reject reason (crossed: quotes only)."""
    per_reason = np.diff(np.linspace(0, count, len(_INJECTABLE) + 1).round().astype(int))
    free = np.ones(len(records), dtype=bool)
    for reason, n in zip(_INJECTABLE, per_reason.tolist(), strict=True):
        pool = free & (events.kind == KIND_QUOTE) if reason is RejectReason.CROSSED_QUOTE else free
        chosen = rng.choice(np.flatnonzero(pool), size=min(n, int(pool.sum())), replace=False)
        free[chosen] = False
        for row in chosen.tolist():
            layout = _layout_of(int(events.venue_code[row]), int(events.kind[row]))
            records[row] = _corrupt(records[row], layout, reason, now_ns)
            expected[row] = reason.value


def _corrupt(record: dict[str, Any], layout: RecordLayout, reason: RejectReason, now_ns: int) -> Any:
    keys = layout.raw_keys
    price_key = keys["price"] if "price" in keys else keys["bid"]
    size_key = keys["size"] if "size" in keys else keys["bid_size"]
    match reason:
        case RejectReason.BAD_JSON:
            return json.dumps(record)[:-1]  # truncated: the closing brace is gone
        case RejectReason.UNKNOWN_FORMAT:
            record[layout.kind_key] = "?"
        case RejectReason.MISSING_FIELD:
            del record[keys["seq"]]
        case RejectReason.WRONG_TYPE:
            record[price_key] = str(record[price_key])
        case RejectReason.BAD_TIMESTAMP:
            record[layout.ts_key] = _bad_timestamp(layout.ts_encoding)
        case RejectReason.NON_POSITIVE_PRICE:
            record[price_key] = -record[price_key]
        case RejectReason.NEGATIVE_SIZE:
            record[size_key] = -record[size_key]
        case RejectReason.UNKNOWN_SYMBOL:
            record[keys["symbol"]] = UNKNOWN_SYMBOL_TEXT
        case RejectReason.FUTURE_TIMESTAMP:
            future = np.array([now_ns + 3_600 * NS_PER_SECOND], dtype=np.int64)
            record[layout.ts_key] = _wire_ts(layout.ts_encoding, future)[0]
        case RejectReason.CROSSED_QUOTE:
            record[keys["bid"]], record[keys["ask"]] = record[keys["ask"]], record[keys["bid"]]
    return record


def _bad_timestamp(encoding: TsEncoding) -> Any:
    if encoding is TsEncoding.ISO:
        return "2024-13-45T99:00:00Z"
    if encoding is TsEncoding.EPOCH_MS:
        return 10**17  # beyond what int64 nanoseconds can hold
    return "17042058OO000000000"


def _with_duplicates(
    rng: np.random.Generator, expected: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """(arrival order, origin): origin >= 0 is an event index, -1 - i a repeat of clean event i.

    Each repeat arrives at a random point after its original.
    """
    n = len(expected)
    clean = np.flatnonzero(expected == VALID)
    repeated = np.sort(rng.choice(clean, size=min(count, len(clean)), replace=False))
    origin = np.r_[np.arange(n), -repeated - 1]
    arrival = np.r_[np.arange(n, dtype=np.float64), rng.uniform(repeated + 0.5, n)]
    return np.argsort(arrival, kind="stable"), origin


def _truth(events: _Events, rows: np.ndarray, names: tuple[str, ...]) -> TickBatch:
    columns = {
        name: getattr(events, name)[rows]
        for name in (
            "symbol_code",
            "venue_code",
            "kind",
            "ts",
            "seq",
            "price",
            "size",
            "bid",
            "ask",
            "bid_size",
            "ask_size",
        )
    }
    return TickBatch.from_columns(names, VENUES, columns)
