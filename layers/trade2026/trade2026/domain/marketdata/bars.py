"""OHLCV bars: aggregation of trades, merging of late ticks, finalization, and daily bars.

A bar's state keeps the notional (sum of price * size) next to the volume so that bars can be merged
and resampled exactly; ``vwap`` is derived. Open/close follow the earliest/latest trade by (ts, seq),
which ``first_ts``/``first_seq`` and ``last_ts``/``last_seq`` record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

from trade2026.domain.marketdata.intervals import DAY_NS, Interval, parse_interval
from trade2026.domain.marketdata.ordering import lexorder, run_starts
from trade2026.domain.marketdata.schema import KIND_TRADE, TickBatch

_INT_COLUMNS: Final = ("start", "end", "count", "first_ts", "first_seq", "last_ts", "last_seq")
_FLOAT_COLUMNS: Final = ("open", "high", "low", "close", "volume", "notional", "adj_close")


@dataclass(frozen=True, eq=False)
class Bars:
    """Bars of one interval as parallel arrays, sorted by (symbol, start)."""

    interval: str
    symbol: np.ndarray  # str
    start: np.ndarray  # int64 epoch ns, inclusive
    end: np.ndarray  # int64 epoch ns, exclusive
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    notional: np.ndarray  # sum(price * size); NaN when unknown (daily sources)
    count: np.ndarray  # int64 trades; 0 when the source does not give it (daily sources)
    first_ts: np.ndarray
    first_seq: np.ndarray
    last_ts: np.ndarray
    last_seq: np.ndarray
    adj_close: np.ndarray  # NaN where the source has none

    def __len__(self) -> int:
        return len(self.start)

    @property
    def vwap(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.volume > 0, self.notional / self.volume, np.nan)

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "interval"}

    def take(self, index: np.ndarray) -> Bars:
        return Bars(self.interval, **{name: values[index] for name, values in self.columns().items()})

    def to_dict(self) -> dict[str, np.ndarray]:
        """Columns plus ``vwap`` (e.g. for a Parquet writer or an API response)."""
        return {**self.columns(), "vwap": self.vwap}

    @classmethod
    def empty(cls, interval: str) -> Bars:
        columns: dict[str, np.ndarray] = {name: np.zeros(0, dtype=np.int64) for name in _INT_COLUMNS}
        columns |= {name: np.zeros(0) for name in _FLOAT_COLUMNS}
        return cls(parse_interval(interval).text, symbol=np.zeros(0, dtype=str), **columns)


def concat_bars(parts: list[Bars]) -> Bars:
    """Stack bars of one interval (not re-grouped: use ``merge_bars`` for that)."""
    intervals = {b.interval for b in parts}
    if len(intervals) != 1:
        raise ValueError(f"cannot concatenate bars of intervals {sorted(intervals)}")
    columns = [b.columns() for b in parts]
    stacked = {name: np.concatenate([c[name] for c in columns]) for name in columns[0]}
    return Bars(parts[0].interval, **stacked)


def aggregate_trades(ticks: TickBatch, interval: str = "1m") -> Bars:
    """Bars of the trades in ``ticks`` (quotes are ignored), one per (symbol, interval bucket)."""
    bucketing = parse_interval(interval)
    is_trade = ticks.kind == KIND_TRADE
    if not is_trade.any():
        return Bars.empty(bucketing.text)
    names = np.asarray(ticks.symbols, dtype=str)
    sorted_symbols = np.sort(names)
    rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
    code = rank[ticks.symbol_code[is_trade]]  # codes in alphabetical order, so bars sort by symbol name
    ts, seq = ticks.ts[is_trade], ticks.seq[is_trade]
    order = lexorder([code, ts, seq])
    code, ts, seq = code[order], ts[order], seq[order]
    price, size = ticks.price[is_trade][order], ticks.size[is_trade][order]
    bucket = bucketing.bucket_start(ts)
    starts = run_starts(code, bucket)
    last = np.r_[starts[1:], len(ts)] - 1
    return Bars(
        interval=bucketing.text,
        symbol=sorted_symbols[code[starts]],
        start=bucket[starts],
        end=bucketing.bucket_end(bucket[starts]),
        open=price[starts],
        high=np.maximum.reduceat(price, starts),
        low=np.minimum.reduceat(price, starts),
        close=price[last],
        volume=np.add.reduceat(size, starts),
        notional=np.add.reduceat(price * size, starts),
        count=np.diff(np.r_[starts, len(ts)]),
        first_ts=ts[starts],
        first_seq=seq[starts],
        last_ts=ts[last],
        last_seq=seq[last],
        adj_close=np.full(len(starts), np.nan),
    )


def merge_bars(existing: Bars, new: Bars) -> Bars:
    """Bars of the union of both tick sets: late ticks update the bar they belong to."""
    if existing.interval != new.interval:
        raise ValueError(f"cannot merge {existing.interval} bars with {new.interval} bars")
    return combine_bars(concat_bars([existing, new]), parse_interval(existing.interval))


def finalize(bars: Bars, watermark_ns: int, lateness_ns: int) -> tuple[Bars, Bars]:
    """(final, still open): final once the bar's end plus the allowed lateness is <= the watermark."""
    final = bars.end + lateness_ns <= watermark_ns
    return bars.take(final), bars.take(~final)


def combine_bars(bars: Bars, target: Interval) -> Bars:
    """Group bars by (symbol, target bucket of their start) with OHLCV semantics."""
    if len(bars) == 0:
        return Bars.empty(target.text)
    symbols, code = np.unique(bars.symbol, return_inverse=True)
    bucket = target.bucket_start(bars.start)
    by_first = lexorder([code, bucket, bars.first_ts, bars.first_seq, bars.start])
    by_last = lexorder([code, bucket, bars.last_ts, bars.last_seq, bars.start])
    starts = run_starts(code[by_first], bucket[by_first])  # same groups, same order in both sortings
    last = np.r_[starts[1:], len(bars)] - 1
    first_of = {name: bars.columns()[name][by_first] for name in ("open", "first_ts", "first_seq")}
    last_of = {name: bars.columns()[name][by_last][last] for name in ("close", "last_ts", "last_seq")}
    group_start = bucket[by_first][starts]

    def total(name: str) -> np.ndarray:
        return np.add.reduceat(getattr(bars, name)[by_first], starts)

    return Bars(
        interval=target.text,
        symbol=symbols[code[by_first][starts]],
        start=group_start,
        end=target.bucket_end(group_start),
        open=first_of["open"][starts],
        high=np.maximum.reduceat(bars.high[by_first], starts),
        low=np.minimum.reduceat(bars.low[by_first], starts),
        close=last_of["close"],
        volume=total("volume"),
        notional=total("notional"),
        count=total("count"),
        first_ts=first_of["first_ts"][starts],
        first_seq=first_of["first_seq"][starts],
        last_ts=last_of["last_ts"],
        last_seq=last_of["last_seq"],
        adj_close=_last_present(bars.adj_close[by_last], starts),
    )


def _last_present(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Last non-NaN value of each group (NaN when a group has none)."""
    position = np.where(np.isnan(values), -1, np.arange(len(values)))
    last = np.maximum.reduceat(position, starts)
    return np.where(last >= 0, values[np.maximum(last, 0)], np.nan)


def daily_bars(columns: Mapping[str, np.ndarray]) -> Bars:
    """Daily bars from dict-of-arrays daily data (e.g. ``adapters.demo_data.load_daily``).

    Needs ``symbol``, ``date`` (datetime64, one per session: the bar spans that date 00:00-24:00 UTC),
    ``open``, ``high``, ``low``, ``close``; ``adj_close`` and ``volume`` are optional (NaN when absent).
    Daily data has no trade count, notional or sequence: count = 0, notional = NaN (so vwap is NaN),
    first_ts = last_ts = start, sequences 0.
    """
    start = np.asarray(columns["date"]).astype("datetime64[D]").astype("datetime64[ns]").astype(np.int64)
    n = len(start)
    nan = np.full(n, np.nan)
    order = lexorder([np.unique(np.asarray(columns["symbol"], dtype=str), return_inverse=True)[1], start])

    def column(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=np.float64) if name in columns else nan

    zeros = np.zeros(n, dtype=np.int64)
    bars = Bars(
        interval="1d",
        symbol=np.asarray(columns["symbol"], dtype=str),
        start=start,
        end=start + DAY_NS,
        open=column("open"),
        high=column("high"),
        low=column("low"),
        close=column("close"),
        volume=column("volume"),
        notional=nan,
        count=zeros,
        first_ts=start,
        first_seq=zeros,
        last_ts=start,
        last_seq=zeros,
        adj_close=column("adj_close"),
    )
    return bars.take(order)
