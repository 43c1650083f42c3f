"""Bar intervals: parsing ("5m", "1h", "1d", "1w", "1mo") and bucketing of epoch-ns timestamps.

Fixed intervals are anchored on the Unix epoch (so days start at 00:00 UTC), weeks on Monday
00:00 UTC, months on the first day of the month 00:00 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np

from trade2026.domain.marketdata.schema import NS_PER_SECOND

DAY_NS: Final = 86_400 * NS_PER_SECOND
WEEK_NS: Final = 7 * DAY_NS
FIRST_MONDAY_NS: Final = 4 * DAY_NS  # 1970-01-05, the first Monday after the epoch
_UNIT_NS: Final = {"s": NS_PER_SECOND, "m": 60 * NS_PER_SECOND, "h": 3_600 * NS_PER_SECOND, "d": DAY_NS}
_PATTERN: Final = re.compile(r"([1-9][0-9]{0,5})(s|m|h|d|w|mo)")
_HELP: Final = (
    "expected <count><unit> with unit s, m, h, d, w (weeks from Monday) or mo, e.g. 5m, 1h, 1d, 1w, 1mo"
)


class IntervalKind(StrEnum):
    FIXED = "fixed"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Interval:
    text: str
    kind: IntervalKind
    count: int
    step_ns: int  # fixed and week intervals; 0 for months

    def bucket_start(self, ts: np.ndarray) -> np.ndarray:
        """Start (epoch ns) of the bucket holding each timestamp."""
        ts = np.asarray(ts, dtype=np.int64)
        if self.kind is IntervalKind.FIXED:
            return ts // self.step_ns * self.step_ns
        if self.kind is IntervalKind.WEEK:
            return (ts - FIRST_MONDAY_NS) // self.step_ns * self.step_ns + FIRST_MONDAY_NS
        months = ts.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        return _month_start_ns(months // self.count * self.count)

    def bucket_end(self, start: np.ndarray) -> np.ndarray:
        """Exclusive end of the buckets starting at ``start``."""
        start = np.asarray(start, dtype=np.int64)
        if self.kind is not IntervalKind.MONTH:
            return start + self.step_ns
        months = start.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        return _month_start_ns(months + self.count)

    def is_multiple_of(self, source: Interval) -> bool:
        """Whether every bucket of ``source`` lies inside one bucket of this interval."""
        if source.kind is IntervalKind.MONTH:
            return self.kind is IntervalKind.MONTH and self.count % source.count == 0
        if source.kind is IntervalKind.WEEK:
            return self.kind is IntervalKind.WEEK and self.count % source.count == 0
        if self.kind is IntervalKind.FIXED:
            return self.step_ns % source.step_ns == 0
        if self.kind is IntervalKind.WEEK:
            return self.step_ns % source.step_ns == 0 and FIRST_MONDAY_NS % source.step_ns == 0
        return DAY_NS % source.step_ns == 0


def parse_interval(text: str) -> Interval:
    """Parse an interval such as "1m", "5m", "15m", "1h", "1d", "1w", "1mo"; ValueError when malformed."""
    match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"bad interval {text!r}: {_HELP}")
    count, unit = int(match.group(1)), match.group(2)
    if unit == "mo":
        return Interval(f"{count}mo", IntervalKind.MONTH, count, 0)
    if unit == "w":
        return Interval(f"{count}w", IntervalKind.WEEK, count, count * WEEK_NS)
    return Interval(f"{count}{unit}", IntervalKind.FIXED, count, count * _UNIT_NS[unit])


def _month_start_ns(months_since_epoch: np.ndarray) -> np.ndarray:
    return months_since_epoch.astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64)
