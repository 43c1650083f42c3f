"""Real daily demo data shipped inside PyPI packages (no network): S&P 500, NASDAQ, 20 stocks.

Used only by the data loader CLI and by tests - never by a Lambda function: ``arch``, ``skfolio`` and
``pandas`` are imported inside ``load_daily`` so that importing this module costs nothing.

The result is a plain dict of numpy arrays (long format, one row per symbol and session) that
``trade2026.domain.marketdata.daily_bars`` turns into bars:

- ``"sp500"``: ``arch.data.sp500.load()``, the S&P 500 index (symbol ``^GSPC``), OHLC, adjusted close and
  volume, 5,031 sessions from 1999-01-04 to 2018-12-31.
- ``"nasdaq"``: ``arch.data.nasdaq.load()``, the NASDAQ Composite (symbol ``^IXIC``), same columns and span.
- ``"stocks20"``: ``skfolio.datasets.load_sp500_dataset()``, daily ADJUSTED closing prices of 20 S&P 500
  stocks, 1990-01-02 to 2022-12-28 (8,313 sessions each). That data set is CLOSE-ONLY: close and
  adj_close both carry the adjusted close, open/high/low are set equal to it, and volume is NaN
  (unknown, not zero).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

SOURCES: Final = ("sp500", "nasdaq", "stocks20")
_ARCH_SYMBOLS: Final = {"sp500": "^GSPC", "nasdaq": "^IXIC"}
_ARCH_COLUMNS: Final = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}


def load_daily(source: str) -> dict[str, np.ndarray]:
    """Daily rows of ``source``: symbol, date (datetime64[D]), open, high, low, close, adj_close, volume."""
    if source in _ARCH_SYMBOLS:
        return _load_arch(source)
    if source == "stocks20":
        return _load_stocks20()
    raise ValueError(f"unknown daily source {source!r}; known: {', '.join(SOURCES)}")


def _load_arch(source: str) -> dict[str, np.ndarray]:
    from arch.data import nasdaq, sp500

    frame: Any = sp500.load() if source == "sp500" else nasdaq.load()
    columns = {name: frame[column].to_numpy(dtype=np.float64) for name, column in _ARCH_COLUMNS.items()}
    return {
        "symbol": np.full(len(frame), _ARCH_SYMBOLS[source]),
        "date": frame.index.to_numpy().astype("datetime64[D]"),
        **columns,
    }


def _load_stocks20() -> dict[str, np.ndarray]:
    from skfolio.datasets import load_sp500_dataset

    prices: Any = load_sp500_dataset()  # wide: one column per stock, adjusted closes only
    dates = prices.index.to_numpy().astype("datetime64[D]")
    symbols = np.asarray(prices.columns, dtype=str)
    values = prices.to_numpy(dtype=np.float64)  # (days, stocks)
    present = ~np.isnan(values)
    day_index, stock_index = np.nonzero(present)  # row-major: day by day
    order = np.lexsort((day_index, stock_index))  # long format, stock by stock
    close = values[day_index, stock_index][order]
    nan = np.full(len(close), np.nan)
    return {
        "symbol": symbols[stock_index][order],
        "date": dates[day_index][order],
        "open": close,
        "high": close,
        "low": close,
        "close": close,
        "adj_close": close,
        "volume": nan,
    }
