"""Bar merging (late ticks), finalization and bars of daily data."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.domain.marketdata import (
    Bars,
    TickBatch,
    aggregate_trades,
    daily_bars,
    finalize,
    merge_bars,
    normalize,
)
from trade2026.domain.marketdata.synthetic import synthetic_feed

MINUTE = 60_000_000_000


@pytest.fixture(scope="module")
def ticks() -> TickBatch:
    feed = synthetic_feed(20_000, seed=11, duration_ns=30 * MINUTE)
    return normalize(feed.records, now_ns=feed.now_ns, known_symbols=feed.symbols).ticks


def assert_same_bars(actual: Bars, expected: Bars) -> None:
    assert actual.interval == expected.interval
    assert actual.symbol.tolist() == expected.symbol.tolist()
    for name in ("start", "end", "open", "high", "low", "close", "volume", "count"):
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    for name in ("first_ts", "first_seq", "last_ts", "last_seq"):
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    # Sums of notional depend on addition order: equal to rounding.
    assert np.allclose(actual.notional, expected.notional, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(8))
def test_merging_bars_of_a_randomly_split_stream_equals_the_bars_of_the_whole(
    ticks: TickBatch, seed: int
) -> None:
    # Given the stream split at random into 2..6 parts (each tick in one part, arrival order shuffled)
    rng = np.random.default_rng(seed)
    parts = int(rng.integers(2, 7))
    part_of = rng.integers(0, parts, len(ticks))
    # When each part is aggregated and the bars are merged one part after another
    merged = aggregate_trades(ticks.take(rng.permutation(np.flatnonzero(part_of == 0))))
    for part in range(1, parts):
        merged = merge_bars(merged, aggregate_trades(ticks.take(np.flatnonzero(part_of == part))))
    # Then the result equals the bars of the whole stream
    assert_same_bars(merged, aggregate_trades(ticks))


def _trade(ts: int, seq: int, price: float, size: float) -> TickBatch:
    return TickBatch.from_columns(
        ("AAPL",), ("XNYS",), {"ts": [ts], "seq": [seq], "price": [price], "size": [size], "kind": [0]}
    )


def test_a_late_tick_becomes_the_open_of_its_bar_and_updates_volume_and_vwap() -> None:
    # Given a bar from two trades at 10 s and 20 s into a minute
    t0 = 1_704_205_800_000_000_000
    bar = merge_bars(
        aggregate_trades(_trade(t0 + 10 * 10**9, 2, 100.0, 10)),
        aggregate_trades(_trade(t0 + 20 * 10**9, 3, 102.0, 10)),
    )
    # When a late trade stamped 5 s into the same minute arrives
    updated = merge_bars(bar, aggregate_trades(_trade(t0 + 5 * 10**9, 1, 99.0, 20)))
    # Then it is the bar's open and low, the close is unchanged, and VWAP comes from the notional sums
    assert len(updated) == 1
    assert (updated.open[0], updated.high[0], updated.low[0], updated.close[0]) == (99.0, 102.0, 99.0, 102.0)
    assert (updated.volume[0], updated.count[0]) == (40.0, 3)
    assert updated.vwap[0] == pytest.approx((99.0 * 20 + 100.0 * 10 + 102.0 * 10) / 40)


def test_equal_timestamps_are_ordered_by_sequence() -> None:
    # Given two trades with the same timestamp, the higher sequence arriving first
    t0 = 1_704_205_800_000_000_000
    both = merge_bars(aggregate_trades(_trade(t0, 8, 101.0, 1)), aggregate_trades(_trade(t0, 7, 100.0, 1)))
    # When merged / Then open is the lower sequence and close the higher
    assert (both.open[0], both.close[0]) == (100.0, 101.0)


def test_finalize_splits_bars_by_watermark_and_allowed_lateness(ticks: TickBatch) -> None:
    # Given bars and a watermark in the middle of the stream
    bars = aggregate_trades(ticks)
    watermark = int(np.median(bars.end))
    lateness = 2 * MINUTE
    # When finalized
    final, still_open = finalize(bars, watermark, lateness)
    # Then a bar is final exactly when its end plus the lateness is at or before the watermark
    assert len(final) + len(still_open) == len(bars)
    assert (final.end + lateness <= watermark).all()
    assert (still_open.end + lateness > watermark).all()
    assert len(final) > 0 and len(still_open) > 0


def test_merging_bars_of_different_intervals_is_refused(ticks: TickBatch) -> None:
    # Given 1m and 5m bars / When merged / Then a ValueError says why
    with pytest.raises(ValueError, match="cannot merge 1m bars with 5m bars"):
        merge_bars(aggregate_trades(ticks), aggregate_trades(ticks, "5m"))


def test_daily_bars_sort_by_symbol_and_date_and_span_one_utc_day() -> None:
    # Given daily rows of two symbols, out of order
    columns = {
        "symbol": np.array(["B", "A", "A"]),
        "date": np.array(["2020-01-03", "2020-01-03", "2020-01-02"], dtype="datetime64[D]"),
        "open": np.array([1.0, 2.0, 3.0]),
        "high": np.array([1.5, 2.5, 3.5]),
        "low": np.array([0.5, 1.5, 2.5]),
        "close": np.array([1.2, 2.2, 3.2]),
    }
    # When turned into bars
    bars = daily_bars(columns)
    # Then they are sorted, one day long, with no volume, count or VWAP (unknown)
    assert bars.symbol.tolist() == ["A", "A", "B"]
    assert bars.close.tolist() == [3.2, 2.2, 1.2]
    assert (bars.end - bars.start == 86_400_000_000_000).all()
    assert np.isnan(bars.volume).all() and np.isnan(bars.vwap).all() and (bars.count == 0).all()
