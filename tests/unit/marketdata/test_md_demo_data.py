"""Real daily data shipped by arch and skfolio, loaded offline."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.marketdata import daily_bars


def test_sp500_has_5031_sessions_from_1999_to_2018_with_the_packages_values() -> None:
    # Given arch's own S&P 500 frame
    from arch.data import sp500

    frame = sp500.load()
    # When loaded through the adapter
    data = load_daily("sp500")
    # Then it has 5,031 rows 1999-01-04 .. 2018-12-31 and exactly the package's values
    assert len(data["date"]) == 5_031
    assert str(data["date"][0]) == "1999-01-04" and str(data["date"][-1]) == "2018-12-31"
    assert set(data["symbol"].tolist()) == {"^GSPC"}
    for ours, theirs in [
        ("open", "Open"),
        ("high", "High"),
        ("low", "Low"),
        ("close", "Close"),
        ("adj_close", "Adj Close"),
        ("volume", "Volume"),
    ]:
        assert np.array_equal(data[ours], frame[theirs].to_numpy(dtype=float)), ours
    # And known values of the first and last sessions
    assert data["close"][0] == pytest.approx(1228.099976)
    assert data["volume"][-1] == 3_442_870_000


def test_nasdaq_covers_the_same_span_with_the_packages_values() -> None:
    # Given arch's NASDAQ Composite frame
    from arch.data import nasdaq

    frame = nasdaq.load()
    # When loaded through the adapter
    data = load_daily("nasdaq")
    # Then it spans 1999-01-04 .. 2018-12-31 with the package's closes and sane ranges
    assert str(data["date"][0]) == "1999-01-04" and str(data["date"][-1]) == "2018-12-31"
    assert set(data["symbol"].tolist()) == {"^IXIC"}
    assert np.array_equal(data["close"], frame["Close"].to_numpy(dtype=float))
    assert (data["high"] >= data["low"]).all() and (data["volume"] >= 0).all()


def test_stocks20_is_close_only_with_unknown_volume() -> None:
    # Given skfolio's 20-stock data set / When loaded and turned into bars
    data = load_daily("stocks20")
    bars = daily_bars(data)
    # Then 20 symbols x 8,313 sessions 1990-01-02 .. 2022-12-28, open = high = low = close, volume NaN
    assert len(set(data["symbol"].tolist())) == 20
    assert len(bars) == 20 * 8_313
    assert str(data["date"].min()) == "1990-01-02" and str(data["date"].max()) == "2022-12-28"
    assert np.array_equal(bars.open, bars.close) and np.array_equal(bars.high, bars.low)
    assert np.isnan(bars.volume).all()
    first_aapl = np.flatnonzero(bars.symbol == "AAPL")[0]
    assert bars.close[first_aapl] == pytest.approx(0.264)


def test_unknown_source_is_refused() -> None:
    # Given / When an unknown source is asked for / Then a ValueError lists the known ones
    with pytest.raises(ValueError, match="sp500, nasdaq, stocks20"):
        load_daily("ftse")
