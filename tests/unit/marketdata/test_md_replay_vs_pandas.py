"""A 100,000-record SYNTHETIC replay with 1% malformed records, checked against pandas.

pandas is the independent reference here only (the domain never imports it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trade2026.domain.marketdata import Bars, NormalizeResult, aggregate_trades, normalize
from trade2026.domain.marketdata.synthetic import DUPLICATE, VALID, SyntheticFeed, synthetic_feed

RECORDS = 100_000


@pytest.fixture(scope="module")
def feed() -> SyntheticFeed:
    return synthetic_feed(RECORDS, seed=2026, malformed_share=0.01, duplicate_share=0.002)


@pytest.fixture(scope="module")
def result(feed: SyntheticFeed) -> NormalizeResult:
    return normalize(feed.records, now_ns=feed.now_ns, known_symbols=feed.symbols)


@pytest.fixture(scope="module")
def bars(result: NormalizeResult) -> Bars:
    return aggregate_trades(result.ticks)


def pandas_minute_bars(result: NormalizeResult) -> pd.DataFrame:
    """The reference: group the valid trades by symbol and minute with pandas."""
    trades = result.ticks.trades()
    frame = pd.DataFrame(
        {
            "symbol": trades.symbol,
            "ts": pd.to_datetime(trades.ts, unit="ns"),
            "seq": trades.seq,
            "price": trades.price,
            "size": trades.size,
        }
    ).sort_values(["symbol", "ts", "seq"], kind="stable")
    # reset_index: groupby().resample(on=...) misreads rows whose index is out of order (pandas #59350).
    frame = frame.reset_index(drop=True)
    frame["notional"] = frame["price"] * frame["size"]
    grouped = frame.groupby("symbol").resample("1min", on="ts")
    reference = grouped.agg(
        {"price": ["first", "max", "min", "last", "count"], "size": "sum", "notional": "sum"}
    )
    reference.columns = ["open", "high", "low", "close", "count", "volume", "notional"]
    return reference[reference["count"] > 0].reset_index()


def test_every_record_gets_the_outcome_the_generator_intended(
    feed: SyntheticFeed, result: NormalizeResult
) -> None:
    # Given the replay's ground truth (valid / duplicate / reject reason per record)
    # When the outcome of each record is read back from the normalizer's result
    outcome = np.full(RECORDS, VALID, dtype=object)
    for reject in result.rejects:
        outcome[reject.index] = reject.reason.value
    outcome[result.duplicates] = DUPLICATE
    # Then every record matches: each malformed one rejected with the right reason, each repeat dropped
    assert (outcome == feed.expected).all()
    malformed = ~np.isin(feed.expected, [VALID, DUPLICATE])
    assert malformed.sum() == round(RECORDS * 0.998 * 0.01)
    assert len(set(feed.expected[malformed])) == 10  # every reject reason is exercised


def test_valid_ticks_equal_the_generators_canonical_ticks(
    feed: SyntheticFeed, result: NormalizeResult
) -> None:
    # Given the generator's canonical ticks of the valid records / When compared column by column
    # Then the normalized ticks are identical (venue precision included: XNAS keeps milliseconds)
    assert np.array_equal(result.source_index, feed.truth_index)
    for name in ("symbol_code", "venue_code", "kind", "ts", "seq"):
        assert np.array_equal(getattr(result.ticks, name), getattr(feed.truth, name)), name
    for name in ("price", "size", "bid", "ask", "bid_size", "ask_size"):
        assert np.array_equal(getattr(result.ticks, name), getattr(feed.truth, name), equal_nan=True), name


def test_minute_bars_equal_a_pandas_resample(result: NormalizeResult, bars: Bars) -> None:
    # Given the bars and pandas' groupby("symbol").resample("1min") of the same valid trades
    reference = pandas_minute_bars(result)
    # When compared bar by bar / Then keys, OHLC, volume and count are identical, VWAP to rounding
    assert len(bars) == len(reference) > 1_000
    assert bars.symbol.tolist() == reference["symbol"].tolist()
    assert np.array_equal(bars.start, reference["ts"].to_numpy().astype("datetime64[ns]").astype(np.int64))
    for name in ("open", "high", "low", "close", "volume", "count"):
        assert np.array_equal(getattr(bars, name), reference[name].to_numpy()), name
    assert np.allclose(bars.notional, reference["notional"], rtol=1e-12, atol=0)
    assert np.allclose(bars.vwap, reference["notional"] / reference["volume"], rtol=1e-12, atol=0)


def test_every_valid_trade_is_counted_in_exactly_one_bar(result: NormalizeResult, bars: Bars) -> None:
    # Given the valid trades / When their count and volume are summed over the bars
    trades = result.ticks.trades()
    # Then nothing is lost or counted twice, and each trade lies inside its bar
    assert bars.count.sum() == len(trades)
    assert bars.volume.sum() == trades.size.sum()
    assert ((bars.first_ts >= bars.start) & (bars.last_ts < bars.end)).all()
    assert (bars.end - bars.start == 60_000_000_000).all()
    assert (bars.low <= np.minimum(bars.open, bars.close)).all()
    assert (bars.high >= np.maximum(bars.open, bars.close)).all()
