"""Market data queries: which lake dataset serves a request, resampling, pagination, output formats."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from trade2026.domain.marketdata import Bars, parse_interval, resample
from trade2026.domain.marketdata.intervals import DAY_NS, IntervalKind
from trade2026.domain.marketdata.schema import NS_PER_MINUTE
from trade2026.errors import BadRequest

MAX_PAGE = {"json": 10_000, "csv": 50_000, "parquet": 50_000}
_SOURCE_STEP_NS = {"bars_1d": DAY_NS, "bars_1m": NS_PER_MINUTE}
# Requested ranges are clamped to what int64 nanoseconds (and bucket arithmetic on them) hold: ~1823..2116.
EARLIEST_NS, LATEST_NS = -(2**62), 2**62
OUTPUT_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "vwap", "trades", "adj_close")


@dataclass(frozen=True)
class BarsQuery:
    symbol: str
    interval: str
    start_ns: int
    end_ns: int
    limit: int
    after_ns: int | None  # from next_token: bars strictly after this start


def parse_time(text: str | None, *, end_of_day: bool, default: int) -> int:
    """ISO date (2018-12-31) or datetime (2018-12-31T15:30:00Z) -> epoch ns UTC, clamped to EARLIEST_NS..LATEST_NS;
    ``default`` when absent."""
    if text is None or text == "":
        return default
    return min(max(_parse_ns(text, end_of_day=end_of_day), EARLIEST_NS), LATEST_NS)


def _parse_ns(text: str, *, end_of_day: bool) -> int:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            ns = int(moment.timestamp()) * 1_000_000_000
            return ns + DAY_NS - 1 if end_of_day else ns
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Bad date {text!r}: use YYYY-MM-DD or an ISO-8601 datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000) * 1_000


def encode_token(after_ns: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after_ns}).encode()).decode()


def decode_token(token: str | None) -> int | None:
    if not token:
        return None
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["after"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("Bad next_token: pass the value a previous page returned") from None


def choose_dataset(interval: str, available: Mapping[str, Any]) -> str:
    """The finest stored dataset the interval can be built from."""
    try:
        target = parse_interval(interval)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    for dataset in ("bars_1m", "bars_1d"):
        if dataset not in available:
            continue
        step = _SOURCE_STEP_NS[dataset]
        whole_steps = target.kind is not IntervalKind.FIXED or target.step_ns % step == 0
        if whole_steps and (target.kind is IntervalKind.FIXED or DAY_NS % step == 0):
            return dataset
    stored = ", ".join(sorted(available)) or "none"
    raise BadRequest(f"Interval {interval} cannot be built from the stored data ({stored})")


def bars_from_lake(columns: Mapping[str, np.ndarray], symbol: str, dataset: str) -> Bars:
    start = np.asarray(columns["ts"], dtype=np.int64)
    n = len(start)
    zeros = np.zeros(n, dtype=np.int64)
    nan = np.full(n, np.nan)

    def floats(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=np.float64) if name in columns else nan

    trades = columns.get("trades")
    return Bars(
        interval=dataset.removeprefix("bars_"),
        symbol=np.full(n, symbol, dtype=object).astype(str),
        start=start,
        end=start + _SOURCE_STEP_NS[dataset],
        open=floats("open"),
        high=floats("high"),
        low=floats("low"),
        close=floats("close"),
        volume=floats("volume"),
        notional=floats("notional"),
        count=zeros
        if trades is None
        else np.nan_to_num(np.asarray(trades, dtype=np.float64)).astype(np.int64),
        first_ts=start,
        first_seq=zeros,
        last_ts=start,
        last_seq=zeros,
        adj_close=floats("adj_close"),
    )


def query_bars(
    query: BarsQuery, datasets: Mapping[str, Any], read: Callable[[str, int, int], Mapping[str, np.ndarray]]
) -> tuple[Bars, str | None]:
    """One page of bars and the token of the next page (None on the last page)."""
    if query.start_ns > query.end_ns:
        raise BadRequest("start is after end")
    dataset = choose_dataset(query.interval, datasets)
    target = parse_interval(query.interval)
    # Read from the start of the first target bucket so that it is complete; the last bucket holds data up to
    # `end` only (a partial bar, never data after `end`).
    read_start = int(target.bucket_start(np.array([query.start_ns]))[0])
    bars = bars_from_lake(read(dataset, read_start, query.end_ns), query.symbol, dataset)
    if target.text != bars.interval:
        bars = resample(bars, target.text)
    keep = (bars.start >= read_start) & (bars.start <= query.end_ns)  # buckets that hold start..end
    if query.after_ns is not None:
        keep &= bars.start > query.after_ns
    bars = bars.take(keep)
    if len(bars) > query.limit:
        page = bars.take(np.arange(query.limit))
        return page, encode_token(int(page.start[-1]))
    return bars, None


def iso(ns: int) -> str:
    return (
        np.datetime64(int(ns), "ns").astype("datetime64[ms]").item().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        + "Z"
    )


def bar_rows(bars: Bars) -> list[dict[str, Any]]:
    """JSON-ready rows; NaN (unknown, e.g. volume of a close-only source) becomes null."""
    data = bars.to_dict()
    columns = {
        "open": data["open"], "high": data["high"], "low": data["low"], "close": data["close"],
        "volume": data["volume"], "vwap": data["vwap"], "adj_close": data["adj_close"],
    }  # fmt: skip
    as_lists = {name: [None if np.isnan(v) else float(v) for v in values] for name, values in columns.items()}
    counts = [int(c) if c > 0 else None for c in data["count"]]
    return [
        {"ts": iso(int(ts)), **{name: as_lists[name][i] for name in as_lists}, "trades": counts[i]}
        for i, ts in enumerate(data["start"])
    ]


def bar_row_from_event(bar: Mapping[str, Any]) -> dict[str, Any]:
    """An API row from a stored bar dict (``services.ingest.bar_to_dict``)."""
    names = ("open", "high", "low", "close", "volume", "vwap", "adj_close")
    return {
        "ts": iso(int(bar["start"])),
        **{name: bar.get(name) for name in names},
        "trades": int(bar["count"]) if bar.get("count") else None,
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_parquet(bars: Bars, symbol: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = bars.to_dict()
    table = pa.table(
        {
            "symbol": pa.array([symbol] * len(bars)),
            "ts": pa.array(data["start"].astype("datetime64[ns]"), type=pa.timestamp("ns", tz="UTC")),
            **{name: pa.array(data[name]) for name in ("open", "high", "low", "close", "volume", "vwap")},
            "trades": pa.array(data["count"]),
            "adj_close": pa.array(data["adj_close"]),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()
