"""Resampling of bars to a coarser interval (5m, 15m, 1h, 1d, Monday-anchored 1w, 1mo, ...).

OHLCV semantics: first open, max high, min low, last close, summed volume, notional and count
(so vwap stays volume-weighted), last present adjusted close. Only non-empty buckets are returned.
"""

from __future__ import annotations

from trade2026.domain.marketdata.bars import Bars, combine_bars
from trade2026.domain.marketdata.intervals import parse_interval


def resample(bars: Bars, interval: str) -> Bars:
    """Bars of ``interval``; ValueError when it is malformed or does not hold whole source bars."""
    target = parse_interval(interval)
    source = parse_interval(bars.interval)
    if not target.is_multiple_of(source):
        raise ValueError(f"cannot resample {source.text} bars to {target.text}: not a whole multiple")
    return combine_bars(bars, target)
