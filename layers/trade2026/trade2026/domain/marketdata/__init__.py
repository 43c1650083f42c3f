"""Market data domain: canonical ticks, venue mapping, validation, bars and resampling.

Standard library and numpy only (the ingest Lambda imports it on cold start). Intraday ticks used
anywhere in the project are SYNTHETIC (see ``synthetic``); real daily data comes through
``trade2026.adapters.demo_data`` and ``daily_bars``.
"""

from trade2026.domain.marketdata.bars import (
    Bars,
    aggregate_trades,
    combine_bars,
    concat_bars,
    daily_bars,
    finalize,
    merge_bars,
)
from trade2026.domain.marketdata.intervals import Interval, IntervalKind, parse_interval
from trade2026.domain.marketdata.normalization import (
    DecodedRecords,
    NormalizeResult,
    Reject,
    RejectReason,
    decode_records,
    duplicate_mask,
    normalize,
    normalize_decoded,
)
from trade2026.domain.marketdata.resampling import resample
from trade2026.domain.marketdata.schema import KIND_QUOTE, KIND_TRADE, TickBatch, concat_batches
from trade2026.domain.marketdata.venues import VENUE_FORMATS, VENUES, RecordLayout, VenueFormat

__all__ = [
    "KIND_QUOTE",
    "KIND_TRADE",
    "VENUES",
    "VENUE_FORMATS",
    "Bars",
    "DecodedRecords",
    "Interval",
    "IntervalKind",
    "NormalizeResult",
    "RecordLayout",
    "Reject",
    "RejectReason",
    "TickBatch",
    "VenueFormat",
    "aggregate_trades",
    "combine_bars",
    "concat_bars",
    "concat_batches",
    "daily_bars",
    "decode_records",
    "duplicate_mask",
    "finalize",
    "merge_bars",
    "normalize",
    "normalize_decoded",
    "parse_interval",
    "resample",
]
