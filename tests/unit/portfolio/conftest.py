"""Real data of the portfolio tests: skfolio's 20 S&P 500 stocks (adjusted closes), as the platform loads them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trade2026.adapters.demo_data import load_daily


@pytest.fixture(scope="session")
def stocks20_prices() -> pd.DataFrame:
    """Wide closes of the 20 stocks on the dates all of them trade (from the platform's demo loader)."""
    data = load_daily("stocks20")
    frame = pd.DataFrame({"symbol": data["symbol"], "date": data["date"], "close": data["close"]})
    return frame.pivot(index="date", columns="symbol", values="close").dropna()


@pytest.fixture(scope="session")
def stocks20(stocks20_prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns of the 20 stocks, the last 2,000 sessions up to 2022."""
    return stocks20_prices.pct_change().dropna().iloc[-2000:]


@pytest.fixture(scope="session")
def stocks20_reader(stocks20_prices: pd.DataFrame):
    """BarReaders over the real closes between two dates (what research.lake_bar_reader returns in the cloud)."""
    from trade2026.errors import BadRequest

    def between(start: str | None, end: str | None):
        window = stocks20_prices.loc[start:end]

        def read(symbol: str) -> dict[str, np.ndarray]:
            if symbol not in window.columns:
                raise BadRequest(
                    f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones"
                )
            close = window[symbol].to_numpy()
            ts = window.index.to_numpy().astype("datetime64[ns]").astype(np.int64)
            return {"ts": ts, "open": close, "high": close, "low": close, "close": close}

        return read

    return between
