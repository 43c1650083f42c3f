"""Market-data normalize + 1-minute bars: trade2026 (numpy) vs a straightforward pandas implementation.

Input: SYNTHETIC raw JSON records (seeded generator, three venue formats, 1% malformed spread over every
reject reason, 0.5% exact duplicates). Both sides do the same work and must agree on the result:
per-record JSON parsing ("parse", unavoidable Python), then validation, conversion, de-duplication and
aggregation into 1-minute OHLCV bars ("columnar": numpy for trade2026, pandas for the reference).
Runs alternate between the two sides; the table shows medians and the min-max spread.

    .venv/bin/python benchmarks/bench_normalize.py [--runs 5] [--records 1000000] [--write]
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from common import bench_arguments, markdown_table, median, provenance, ratio, spread, update_section

from trade2026.domain.marketdata import (
    VENUE_FORMATS,
    Bars,
    RecordLayout,
    aggregate_trades,
    decode_records,
    normalize_decoded,
)
from trade2026.domain.marketdata.synthetic import synthetic_feed
from trade2026.domain.marketdata.venues import TsEncoding

SEED = 2026
MALFORMED_SHARE = 0.01
DUPLICATE_SHARE = 0.005
_INT64_MS_LIMIT = (2**63 - 1) // 1_000_000


@dataclass(frozen=True)
class Outcome:
    """What both implementations must agree on."""

    valid: int
    rejects: Counter[str]
    duplicates: int
    bars: pd.DataFrame  # symbol, start (ns), open, high, low, close, volume, count


# ---------------------------------------------------------------------------- trade2026 (numpy)
def ours_parse(records: Sequence[str]) -> Any:
    return decode_records(records)


def ours_columnar(decoded: Any, now_ns: int, symbols: Sequence[str]) -> Outcome:
    result = normalize_decoded(decoded, now_ns=now_ns, known_symbols=symbols)
    bars = aggregate_trades(result.ticks)
    return Outcome(
        valid=len(result.ticks),
        rejects=Counter(r.reason.value for r in result.rejects),
        duplicates=len(result.duplicates),
        bars=_bars_frame(bars),
    )


def _bars_frame(bars: Bars) -> pd.DataFrame:
    columns = ("symbol", "start", "open", "high", "low", "close", "volume", "count")
    return pd.DataFrame({name: getattr(bars, name) for name in columns})


# ---------------------------------------------------------------------------- pandas reference
def _detect(obj: dict[str, Any]) -> RecordLayout | None:
    for venue_format in VENUE_FORMATS:
        if venue_format.ts_key in obj:
            kind = obj.get(venue_format.trade.kind_key)
            if kind == venue_format.trade.kind_value:
                return venue_format.trade
            if kind == venue_format.quote.kind_value:
                return venue_format.quote
            return None
    return None


def pandas_parse(records: Sequence[str]) -> tuple[dict[int, list[Any]], dict[int, str], int]:
    """json.loads every record and group the dicts by layout (index into VENUE_FORMATS layouts)."""
    layouts = [lay for f in VENUE_FORMATS for lay in (f.trade, f.quote)]
    groups: dict[int, list[Any]] = {i: [] for i in range(len(layouts))}
    rejects: dict[int, str] = {}
    for index, raw in enumerate(records):
        try:
            obj = json.loads(raw)
        except ValueError:
            rejects[index] = "bad JSON"
            continue
        layout = _detect(obj) if isinstance(obj, dict) else None
        if layout is None:
            rejects[index] = "unknown venue/format"
            continue
        groups[layouts.index(layout)].append((index, obj))
    return groups, rejects, len(records)


def pandas_columnar(
    parsed: tuple[dict[int, list[Any]], dict[int, str], int], now_ns: int, symbols: Sequence[str]
) -> Outcome:
    groups, parse_rejects, _ = parsed
    layouts = [lay for f in VENUE_FORMATS for lay in (f.trade, f.quote)]
    frames, reasons = [], [pd.Series(parse_rejects, dtype=object)]
    for slot, rows in groups.items():
        if rows:
            frame, reason = _pandas_layout(layouts[slot], rows, now_ns, set(symbols))
            frames.append(frame)
            reasons.append(reason)
    ticks = pd.concat(frames).sort_index()
    duplicate = ticks.duplicated(subset=["symbol", "venue", "ts", "seq"], keep="first")
    ticks = ticks[~duplicate]
    all_reasons = pd.concat(reasons)
    return Outcome(
        valid=len(ticks),
        rejects=Counter(all_reasons.tolist()),
        duplicates=int(duplicate.sum()),
        bars=_pandas_bars(ticks),
    )


def _pandas_layout(
    layout: RecordLayout, rows: list[Any], now_ns: int, known: set[str]
) -> tuple[pd.DataFrame, pd.Series]:
    """Validate one layout's records with pandas: (valid canonical rows, reject reason of each bad row)."""
    index = [i for i, _ in rows]
    # dtype=object keeps each JSON value as parsed (else an int column with a gap turns into floats)
    raw = pd.DataFrame([obj for _, obj in rows], index=index, dtype=object)
    keys = dict(zip(layout.canonical, layout.extracted_keys, strict=True))
    reason = pd.Series(None, index=raw.index, dtype=object)

    def flag(bad: pd.Series, why: str) -> None:
        reason[bad & reason.isna()] = why

    for key in keys.values():
        flag(raw[key].isna() if key in raw else pd.Series(True, index=raw.index), "missing field")
    types = {canonical: raw[key].map(type) for canonical, key in keys.items() if key in raw}
    flag(~_is(types["symbol"], str), "wrong type")
    ts = _pandas_timestamps(layout, raw[keys["ts"]], types["ts"], flag)
    flag(~_is(types["seq"], int), "wrong type")
    numbers = {}
    for name in layout.canonical[3:]:
        flag(~types[name].isin([int, float]), "wrong type")
        numbers[name] = pd.to_numeric(raw[keys[name]].where(types[name].isin([int, float])), errors="coerce")
        flag(~np.isfinite(numbers[name].fillna(0.0)), "wrong type")
    for name in ("price", "bid", "ask"):
        if name in numbers:
            flag(numbers[name] <= 0, "non-positive price")
    for name in ("size", "bid_size", "ask_size"):
        if name in numbers:
            flag(numbers[name] < 0, "negative size")
    flag(~raw[keys["symbol"]].isin(known), "unknown symbol")
    flag(ts > now_ns + 2_000_000_000, "timestamp in the future")
    if "bid" in numbers:
        flag(numbers["bid"] > numbers["ask"], "crossed quote")
    ok = reason.isna()
    frame = pd.DataFrame(
        {
            "symbol": raw.loc[ok, keys["symbol"]],
            "venue": layout.venue,
            "kind": "trade" if "price" in numbers else "quote",
            "ts": ts[ok].astype("int64"),
            "seq": raw.loc[ok, keys["seq"]].astype("int64"),
            **{name: values[ok] for name, values in numbers.items()},
        }
    )
    return frame, reason[~ok]


def _is(types: pd.Series, kind: type) -> pd.Series:
    return types.isin([kind])


def _pandas_timestamps(
    layout: RecordLayout, values: pd.Series, types: pd.Series, flag: Callable[[pd.Series, str], None]
) -> pd.Series:
    if layout.ts_encoding is TsEncoding.EPOCH_MS:
        flag(~_is(types, int), "wrong type")
        ms = pd.to_numeric(values.where(_is(types, int)), errors="coerce")
        flag(ms.abs() > _INT64_MS_LIMIT, "unparseable timestamp")
        return (ms.where(ms.abs() <= _INT64_MS_LIMIT).fillna(0).astype("int64")) * 1_000_000
    flag(~_is(types, str), "wrong type")
    text = values.where(_is(types, str), "")
    if layout.ts_encoding is TsEncoding.ISO:
        pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"
        parsed = pd.to_datetime(
            text.where(text.str.fullmatch(pattern)), format="ISO8601", utc=True, errors="coerce"
        )
        flag(parsed.isna(), "unparseable timestamp")
        return parsed.dt.tz_localize(None).astype("datetime64[ns]").astype("int64").where(parsed.notna(), 0)
    digits = text.str.fullmatch(r"\d{1,19}")
    ns = text.where(digits, "0").map(int)
    flag(~digits | (ns > 2**63 - 1), "unparseable timestamp")
    return ns.where(ns <= 2**63 - 1, 0).astype("int64")


def _pandas_bars(ticks: pd.DataFrame) -> pd.DataFrame:
    trades = ticks[ticks["kind"] == "trade"].sort_values(["symbol", "ts", "seq"], kind="stable")
    trades = trades.assign(
        ts=pd.to_datetime(trades["ts"], unit="ns"), notional=trades["price"] * trades["size"]
    )
    grouped = trades.reset_index(drop=True).groupby(["symbol", pd.Grouper(key="ts", freq="1min")])
    bars = grouped.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
        count=("price", "size"),
    )
    bars = bars[bars["count"] > 0].reset_index()
    bars["start"] = bars["ts"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    return bars[["symbol", "start", "open", "high", "low", "close", "volume", "count"]]


# ---------------------------------------------------------------------------- harness
def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """(value, wall seconds, CPU seconds of this process): the CPU time shows what a busy machine hides."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def check_agreement(ours: Outcome, theirs: Outcome) -> None:
    assert ours.valid == theirs.valid, (ours.valid, theirs.valid)
    assert ours.rejects == theirs.rejects, (ours.rejects, theirs.rejects)
    assert ours.duplicates == theirs.duplicates
    assert ours.bars[["symbol", "start", "count"]].equals(theirs.bars[["symbol", "start", "count"]])
    for column in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(ours.bars[column].to_numpy(), theirs.bars[column].to_numpy()), column


STAGES = ("ours_parse", "ours_columnar", "pd_parse", "pd_columnar")


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="synthetic records (default 1,000,000)"
    )
    args = parser.parse_args()
    feed = synthetic_feed(
        args.records, seed=SEED, malformed_share=MALFORMED_SHARE, duplicate_share=DUPLICATE_SHARE
    )
    wall: dict[str, list[float]] = {stage: [] for stage in STAGES}
    cpu: dict[str, list[float]] = {stage: [] for stage in STAGES}

    def measure(stage: str, function: Callable[..., Any], *function_args: Any) -> Any:
        value, wall_s, cpu_s = timed(function, *function_args)
        wall[stage].append(wall_s)
        cpu[stage].append(cpu_s)
        return value

    for run in range(args.runs):
        decoded = measure("ours_parse", ours_parse, feed.records)
        ours = measure("ours_columnar", ours_columnar, decoded, feed.now_ns, feed.symbols)
        del decoded
        parsed = measure("pd_parse", pandas_parse, feed.records)
        theirs = measure("pd_columnar", pandas_columnar, parsed, feed.now_ns, feed.symbols)
        del parsed
        check_agreement(ours, theirs)
        done = ", ".join(f"{stage} {wall[stage][-1]:.2f}s (cpu {cpu[stage][-1]:.2f}s)" for stage in STAGES)
        print(f"run {run + 1}/{args.runs}: {done}", flush=True)
    report = render(args.records, ours, wall, cpu)
    print(report)
    if args.write:
        update_section("normalize", report)


def _totals(times: dict[str, list[float]]) -> dict[str, list[float]]:
    sides = {side: [a + b for a, b in zip(times[f"{side}_parse"], times[f"{side}_columnar"], strict=True)]
             for side in ("ours", "pd")}  # fmt: skip
    return {**times, "ours_total": sides["ours"], "pd_total": sides["pd"]}


def render(records: int, outcome: Outcome, wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> str:
    wall, cpu = _totals(wall), _totals(cpu)

    def rate(seconds: float | None) -> str:
        return f"{records / seconds:,.0f}" if seconds else "n/a"

    rows = []
    for label, stage in [
        ("parse (json.loads per record + layout)", "parse"),
        ("columnar (validate, dedup, 1-min bars)", "columnar"),
        ("total", "total"),
    ]:
        ours_wall, pd_wall = median(wall[f"ours_{stage}"]), median(wall[f"pd_{stage}"])
        ours_cpu, pd_cpu = median(cpu[f"ours_{stage}"]), median(cpu[f"pd_{stage}"])
        rows.append(
            [
                label,
                f"{ours_wall:.3f} s",
                rate(ours_wall),
                rate(ours_cpu),
                f"{pd_wall:.3f} s",
                rate(pd_wall),
                rate(pd_cpu),
                ratio(pd_wall, ours_wall),
                f"{spread(wall[f'ours_{stage}'])} / {spread(wall[f'pd_{stage}'])}",
            ]
        )
    headers = [
        "stage", "trade2026 wall", "ticks/s", "ticks/s by CPU time", "pandas wall", "ticks/s",
        "ticks/s by CPU time", "pandas/trade2026", "wall spread s (ours / pandas)",
    ]  # fmt: skip
    summary = (
        f"{records:,} SYNTHETIC records (seed {SEED}; {MALFORMED_SHARE:.0%} malformed over every reject "
        f"reason, {DUPLICATE_SHARE:.1%} exact duplicates) -> {outcome.valid:,} valid ticks, "
        f"{sum(outcome.rejects.values()):,} rejects, {outcome.duplicates:,} duplicates, "
        f"{len(outcome.bars):,} one-minute bars; both implementations agree on all of it. "
        f"Medians of {len(wall['ours_parse'])} alternating runs; 'by CPU time' divides by this "
        f"process's CPU seconds (the machine is shared). numpy {np.__version__}, pandas {pd.__version__}."
    )
    table = markdown_table(headers, rows)
    return f"### Market data: normalize + 1-minute bars\n\n{provenance()}\n\n{summary}\n\n{table}\n"


if __name__ == "__main__":
    main()
