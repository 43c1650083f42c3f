"""Resampling of minute and daily bars against pandas, and interval parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.marketdata import (
    Bars,
    aggregate_trades,
    daily_bars,
    normalize,
    parse_interval,
    resample,
)
from trade2026.domain.marketdata.intervals import IntervalKind
from trade2026.domain.marketdata.synthetic import synthetic_feed

DAY = 86_400_000_000_000
PANDAS_FREQ = {"5m": "5min", "15m": "15min", "1h": "1h", "1d": "1D", "1w": "W-MON", "1mo": "MS"}


@pytest.fixture(scope="module")
def minute_bars() -> Bars:
    # SYNTHETIC trades over 75 days from Tuesday 2024-01-02, so weeks and months have several bars.
    feed = synthetic_feed(30_000, seed=5, duration_ns=75 * DAY, symbols={"AAPL": 185.0, "KO": 59.0})
    return aggregate_trades(normalize(feed.records, now_ns=feed.now_ns, known_symbols=feed.symbols).ticks)


@pytest.fixture(scope="module")
def sp500_daily() -> Bars:
    return daily_bars(load_daily("sp500"))


def pandas_resample(bars: Bars, interval: str) -> pd.DataFrame:
    """The reference: pandas Grouper bins [start, end) labelled by their start."""
    frame = pd.DataFrame({name: values for name, values in bars.columns().items() if name != "start"})
    frame["start"] = pd.to_datetime(bars.start, unit="ns")
    grouper = pd.Grouper(key="start", freq=PANDAS_FREQ[interval], label="left", closed="left")
    reference = frame.groupby(["symbol", grouper]).agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        notional=("notional", "sum"),
        count=("count", "sum"),
        adj_close=("adj_close", "last"),
        bars=("open", "size"),
    )
    return reference[reference["bars"] > 0].reset_index()


def assert_matches_pandas(ours: Bars, reference: pd.DataFrame) -> None:
    assert ours.symbol.tolist() == reference["symbol"].tolist()
    assert np.array_equal(ours.start, reference["start"].to_numpy().astype("datetime64[ns]").astype(np.int64))
    for name in ("open", "high", "low", "close", "count"):
        assert np.array_equal(getattr(ours, name), reference[name].to_numpy()), name
    for name in ("volume", "notional"):  # sums in another order: equal to rounding
        assert np.allclose(getattr(ours, name), reference[name].to_numpy(), rtol=1e-12, atol=0), name


@pytest.mark.parametrize("interval", ["5m", "15m", "1h", "1d", "1w", "1mo"])
def test_resampled_minute_bars_equal_pandas(minute_bars: Bars, interval: str) -> None:
    # Given minute bars of two symbols over 75 days
    # When resampled
    ours = resample(minute_bars, interval)
    # Then they equal pandas' grouping of the same bars, and every trade is still counted once
    assert_matches_pandas(ours, pandas_resample(minute_bars, interval))
    assert ours.count.sum() == minute_bars.count.sum()
    assert np.allclose(ours.vwap, ours.notional / ours.volume, rtol=1e-12)


@pytest.mark.parametrize("interval", ["1w", "1mo"])
def test_resampled_sp500_daily_bars_equal_pandas_on_the_original_frame(
    sp500_daily: Bars, interval: str
) -> None:
    # Given the S&P 500 daily bars (arch) and pandas resampling arch's own DataFrame
    from arch.data import sp500

    frame = sp500.load()
    reference = frame.resample(PANDAS_FREQ[interval], label="left", closed="left").agg(
        {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Adj Close": "last", "Volume": "sum"}
    )
    reference = reference.dropna(subset=["Open"])
    # When our daily bars are resampled
    ours = resample(sp500_daily, interval)
    # Then OHLC, adjusted close and volume equal pandas', bucket by bucket
    assert np.array_equal(ours.start, reference.index.to_numpy().astype("datetime64[ns]").astype(np.int64))
    for ours_name, column in [
        ("open", "Open"),
        ("high", "High"),
        ("low", "Low"),
        ("close", "Close"),
        ("adj_close", "Adj Close"),
        ("volume", "Volume"),
    ]:
        assert np.array_equal(getattr(ours, ours_name), reference[column].to_numpy(dtype=float)), ours_name


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    # Given instants / When bucketed / Then weeks start Monday 00:00 UTC and months on the 1st
    texts = ["2024-01-07T23:59:59", "2024-01-08T00:00:00", "2024-02-29T12:00:00"]
    instants = np.array(texts, dtype="datetime64[ns]").astype(np.int64)

    def days(ns: np.ndarray) -> list[str]:
        return ns.astype("datetime64[ns]").astype("datetime64[D]").astype(str).tolist()

    week = parse_interval("1w").bucket_start(instants)
    month = parse_interval("1mo").bucket_start(instants)
    assert days(week) == ["2024-01-01", "2024-01-08", "2024-02-26"]
    assert days(month) == ["2024-01-01", "2024-01-01", "2024-02-01"]
    assert days(parse_interval("1mo").bucket_end(month)) == ["2024-02-01", "2024-02-01", "2024-03-01"]
    assert days(parse_interval("1w").bucket_end(week)) == ["2024-01-08", "2024-01-15", "2024-03-04"]


@pytest.mark.parametrize(
    ("text", "kind", "count"),
    [
        ("1m", IntervalKind.FIXED, 1),
        ("15m", IntervalKind.FIXED, 15),
        ("4h", IntervalKind.FIXED, 4),
        ("1d", IntervalKind.FIXED, 1),
        ("2w", IntervalKind.WEEK, 2),
        ("3mo", IntervalKind.MONTH, 3),
    ],
)
def test_intervals_parse(text: str, kind: IntervalKind, count: int) -> None:
    # Given a valid interval / When parsed / Then kind and count are read
    interval = parse_interval(text)
    assert (interval.kind, interval.count, interval.text) == (kind, count, text)


@pytest.mark.parametrize("text", ["", "m", "0m", "5", "1M", "1y", "-1d", "1.5h", "5 min", "1mon"])
def test_bad_intervals_raise_a_clear_value_error(text: str) -> None:
    # Given a malformed interval / When parsed / Then a ValueError names it and the accepted forms
    with pytest.raises(ValueError, match=r"bad interval .*expected <count><unit>"):
        parse_interval(text)


@pytest.mark.parametrize(("source", "target"), [("1d", "1h"), ("1w", "1mo"), ("1m", "90s"), ("1mo", "1w")])
def test_resampling_to_an_interval_that_does_not_hold_whole_bars_is_refused(source: str, target: str) -> None:
    # Given empty bars of the source interval / When resampled to a non-multiple / Then ValueError
    with pytest.raises(ValueError, match="not a whole multiple"):
        resample(Bars.empty(source), target)
