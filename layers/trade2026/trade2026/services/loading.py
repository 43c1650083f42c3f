"""Batch loads into the lake: the real daily demo data, a user's CSV/Parquet file, and symbol registration.

Used by the `trade2026 ingest` CLI and `make up` (never by a Lambda function): it imports pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from trade2026.adapters import marketstate
from trade2026.adapters.lake import Lake
from trade2026.domain.marketdata import Bars, daily_bars
from trade2026.errors import BadRequest
from trade2026.services.ingest import bar_to_dict
from trade2026.services.marketdata_query import iso

# Index symbols as the API shows them (the sources use Yahoo's ^GSPC/^IXIC, awkward in URLs).
INDEX_SYMBOLS: Final = {"^GSPC": ("SP500", "S&P 500 index"), "^IXIC": ("NASDAQ", "NASDAQ Composite index")}
SOURCE_PACKAGES: Final = {"sp500": "arch", "nasdaq": "arch", "stocks20": "skfolio"}


@dataclass
class LoadSummary:
    source: str
    symbols: list[str]
    bars: int


def _dataset_info(bars: Bars) -> dict[str, Any]:
    return {"bars": len(bars), "first": iso(int(bars.start[0])), "last": iso(int(bars.start[-1]))}


def register_daily(lake: Lake, symbol: str, name: str, source: str, bars: Bars, *, asset_class: str) -> int:
    """Replace the symbol's daily bars in the lake and (re)register it with its latest bar."""
    written = lake.replace_symbol("bars_1d", symbol, bars.to_dict())
    existing = marketstate.get_symbol(symbol)
    datasets = dict(existing.datasets or {}) if existing else {}
    datasets["bars_1d"] = _dataset_info(bars)
    marketstate.upsert_symbol(
        symbol,
        name=name,
        asset_class=asset_class,
        source=source,
        synthetic=False,
        datasets=datasets,
        has_ohlc=not np.allclose(bars.open, bars.close, equal_nan=True)
        or not np.allclose(bars.high, bars.low),
        has_volume=bool(np.isfinite(bars.volume).any()),
    )
    marketstate.set_last_bar(symbol, bar_to_dict(bars, len(bars) - 1))
    return written


def load_demo_source(
    lake: Lake, source: str, progress: Callable[[str, int, int], None] = lambda *_: None
) -> LoadSummary:
    """Load one real daily data set (sp500, nasdaq or stocks20) shipped inside a PyPI package."""
    from trade2026.adapters.demo_data import load_daily

    bars = daily_bars(load_daily(source))
    symbols = sorted(set(bars.symbol.tolist()))
    summary = LoadSummary(source, [], 0)
    for i, raw_symbol in enumerate(symbols):
        symbol, name = INDEX_SYMBOLS.get(raw_symbol, (raw_symbol, raw_symbol))
        progress(symbol, i, len(symbols))
        one = bars.take(bars.symbol == raw_symbol)
        asset_class = "index" if raw_symbol in INDEX_SYMBOLS else "equity"
        summary.bars += register_daily(
            lake, symbol, name, SOURCE_PACKAGES[source], one, asset_class=asset_class
        )
        summary.symbols.append(symbol)
    progress("", len(symbols), len(symbols))
    return summary


_COLUMN_ALIASES: Final = {
    "date": ("date", "Date", "timestamp", "ts", "time", "Datetime"),
    "open": ("open", "Open"),
    "high": ("high", "High"),
    "low": ("low", "Low"),
    "close": ("close", "Close"),
    "adj_close": ("adj_close", "Adj Close", "adjclose", "adjusted_close"),
    "volume": ("volume", "Volume"),
}


def read_user_file(path: Path) -> dict[str, np.ndarray]:
    """Daily OHLCV from a user's CSV or Parquet file, with clear errors for what is missing or wrong."""
    import pandas as pd

    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise BadRequest(f"{path.name}: only .csv and .parquet files can be imported")
    try:
        frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise BadRequest(f"{path.name}: cannot be read ({exc})") from None
    columns: dict[str, np.ndarray] = {}
    for name, aliases in _COLUMN_ALIASES.items():
        found = next((a for a in aliases if a in frame.columns), None)
        if found is None and name in ("date", "close"):
            raise BadRequest(
                f"{path.name}: no {name!r} column (columns: {', '.join(map(str, frame.columns))})"
            )
        if found is not None:
            columns[name] = frame[found].to_numpy()
    try:
        columns["date"] = (
            pd.to_datetime(columns["date"], utc=True).tz_convert(None).to_numpy().astype("datetime64[D]")
        )
        for name in ("open", "high", "low", "close", "adj_close", "volume"):
            if name in columns:
                columns[name] = columns[name].astype(np.float64)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"{path.name}: {exc}") from None
    for name in ("open", "high", "low"):
        columns.setdefault(name, columns["close"])
    validate_daily(columns, path.name)
    return columns


def validate_daily(columns: Mapping[str, np.ndarray], label: str) -> None:
    dates = columns["date"]
    problems = []
    if len(dates) == 0:
        problems.append("no rows")
    elif np.any(np.diff(dates.astype(np.int64)) <= 0):
        problems.append("dates must be strictly increasing (one row per session)")
    prices = np.vstack([columns[n] for n in ("open", "high", "low", "close")])
    if np.any(~np.isfinite(prices)) or np.any(prices <= 0):
        problems.append("prices must be positive numbers")
    elif np.any(columns["high"] < np.maximum(columns["open"], columns["close"]) - 1e-9) or np.any(
        columns["low"] > np.minimum(columns["open"], columns["close"]) + 1e-9
    ):
        problems.append("high must be >= open/close and low <= open/close")
    if "volume" in columns and np.any(columns["volume"] < 0):
        problems.append("volume must not be negative")
    if problems:
        raise BadRequest(f"{label}: " + "; ".join(problems))


def load_user_file(lake: Lake, path: Path, symbol: str) -> LoadSummary:
    columns = read_user_file(path)
    bars = daily_bars({**columns, "symbol": np.full(len(columns["date"]), symbol)})
    written = register_daily(lake, symbol, symbol, "import", bars, asset_class="equity")
    return LoadSummary(str(path), [symbol], written)
