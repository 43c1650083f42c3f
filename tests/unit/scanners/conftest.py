"""Real data for the scanner tests: skfolio's 20 stocks (close-only) and arch's S&P 500 / NASDAQ (OHLCV)."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.scanners import Panel

COLUMNS = ("date", "open", "high", "low", "close", "volume")


def columns_of(source: str) -> dict[str, dict[str, np.ndarray]]:
    data = load_daily(source)
    out = {}
    for symbol in np.unique(data["symbol"]):
        rows = data["symbol"] == symbol
        out[str(symbol)] = {name: data[name][rows] for name in COLUMNS}
    return out


@pytest.fixture(scope="session")
def daily_columns() -> dict[str, dict[str, np.ndarray]]:
    return {**columns_of("stocks20"), **columns_of("sp500"), **columns_of("nasdaq")}


@pytest.fixture(scope="session")
def panel(daily_columns) -> Panel:
    """22 symbols on one calendar, 1990-2022: 20 close-only stocks and two OHLCV indices (1999-2018)."""
    return Panel.from_columns(daily_columns)
