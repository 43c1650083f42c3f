"""Real data for the ML tests: skfolio's 20 S&P 500 stocks (1990-2022, adjusted closes), loaded once."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily


@cache
def _stocks20() -> dict[str, dict[str, np.ndarray]]:
    rows = load_daily("stocks20")
    out = {}
    for symbol in np.unique(rows["symbol"]):
        mask = rows["symbol"] == symbol
        out[str(symbol)] = {
            "ts": rows["date"][mask].astype("datetime64[ns]").astype(np.int64),
            **{name: rows[name][mask] for name in ("open", "high", "low", "close", "volume")},
        }
    return out


@pytest.fixture(scope="session")
def stocks20() -> dict[str, dict[str, np.ndarray]]:
    return _stocks20()


@pytest.fixture(scope="session")
def sp500() -> dict[str, np.ndarray]:
    rows = load_daily("sp500")
    return {
        "ts": rows["date"].astype("datetime64[ns]").astype(np.int64),
        **{name: rows[name] for name in ("open", "high", "low", "close", "volume")},
    }
