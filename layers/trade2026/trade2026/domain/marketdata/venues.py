"""Raw record formats of the venues (SYNTHETIC: invented for this project, not real exchange feeds).

Each venue names its fields differently and encodes time differently:

=======  ==========================================  ==========================  ================
venue    trade fields                                timestamp                   kind key
=======  ==========================================  ==========================  ================
XNYS     sym, px, qty, seq                           ``t``: ISO-8601 string, Z   type: trade|quote
XNAS     symbol, price, size, sequence               ``timestamp_ms``: epoch ms  event: T|Q
BATS     S, p, s, q                                  ``ts_ns``: epoch ns string  ev: t|q
=======  ==========================================  ==========================  ================

Quotes: XNYS ``bp ap bq aq``; XNAS ``bid ask bid_size ask_size``; BATS ``bp ap bs as``.
The timestamp key identifies the venue; the kind key then picks the trade or quote layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import itemgetter
from typing import Any, Final

from trade2026.domain.marketdata.schema import KIND_QUOTE, KIND_TRADE

TRADE_FIELDS: Final = ("symbol", "seq", "price", "size")
QUOTE_FIELDS: Final = ("symbol", "seq", "bid", "ask", "bid_size", "ask_size")


class TsEncoding(StrEnum):
    ISO = "iso"  # "2024-01-02T14:30:00.123456789Z"
    EPOCH_MS = "epoch_ms"  # JSON integer
    EPOCH_NS_STR = "epoch_ns_str"  # decimal digits in a JSON string


@dataclass(frozen=True)
class RecordLayout:
    """One (venue, kind) record shape: which raw key holds each canonical field."""

    venue: str
    kind: int
    ts_key: str
    ts_encoding: TsEncoding
    kind_key: str
    kind_value: str
    raw_keys: Mapping[str, str]  # canonical field -> raw key
    canonical: tuple[str, ...] = field(init=False)
    getter: itemgetter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Extraction order: symbol, ts, seq, then the numeric fields of the kind.
        canonical = TRADE_FIELDS if self.kind == KIND_TRADE else QUOTE_FIELDS
        order = (self.raw_keys["symbol"], self.ts_key, *(self.raw_keys[c] for c in canonical[1:]))
        object.__setattr__(self, "canonical", ("symbol", "ts", *canonical[1:]))
        object.__setattr__(self, "getter", itemgetter(*order))

    @property
    def extracted_keys(self) -> tuple[str, ...]:
        """Raw keys in the order ``getter`` returns them (parallel to ``canonical``)."""
        return tuple(self.ts_key if c == "ts" else self.raw_keys[c] for c in self.canonical)

    def encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A raw record of this layout from canonical values (``ts`` already encoded for the venue)."""
        record: dict[str, Any] = {self.kind_key: self.kind_value, self.ts_key: values["ts"]}
        for canonical in (*self.canonical[2:], "symbol"):
            record[self.raw_keys[canonical]] = values[canonical]
        return record


@dataclass(frozen=True)
class VenueFormat:
    venue: str
    trade: RecordLayout
    quote: RecordLayout

    @property
    def ts_key(self) -> str:
        return self.trade.ts_key

    def layout(self, kind: int) -> RecordLayout:
        return self.trade if kind == KIND_TRADE else self.quote


def _venue(
    venue: str,
    ts: tuple[str, TsEncoding],
    kind: tuple[str, str, str],
    trade: dict[str, str],
    quote: dict[str, str],
) -> VenueFormat:
    ts_key, encoding = ts
    kind_key, trade_value, quote_value = kind
    return VenueFormat(
        venue=venue,
        trade=RecordLayout(venue, KIND_TRADE, ts_key, encoding, kind_key, trade_value, trade),
        quote=RecordLayout(venue, KIND_QUOTE, ts_key, encoding, kind_key, quote_value, quote),
    )


VENUE_FORMATS: Final[tuple[VenueFormat, ...]] = (
    _venue(
        "XNYS",
        ("t", TsEncoding.ISO),
        ("type", "trade", "quote"),
        trade={"symbol": "sym", "seq": "seq", "price": "px", "size": "qty"},
        quote={"symbol": "sym", "seq": "seq", "bid": "bp", "ask": "ap", "bid_size": "bq", "ask_size": "aq"},
    ),
    _venue(
        "XNAS",
        ("timestamp_ms", TsEncoding.EPOCH_MS),
        ("event", "T", "Q"),
        trade={"symbol": "symbol", "seq": "sequence", "price": "price", "size": "size"},
        quote={
            "symbol": "symbol",
            "seq": "sequence",
            "bid": "bid",
            "ask": "ask",
            "bid_size": "bid_size",
            "ask_size": "ask_size",
        },
    ),
    _venue(
        "BATS",
        ("ts_ns", TsEncoding.EPOCH_NS_STR),
        ("ev", "t", "q"),
        trade={"symbol": "S", "seq": "q", "price": "p", "size": "s"},
        quote={"symbol": "S", "seq": "q", "bid": "bp", "ask": "ap", "bid_size": "bs", "ask_size": "as"},
    ),
)

VENUES: Final[tuple[str, ...]] = tuple(f.venue for f in VENUE_FORMATS)
LAYOUTS: Final[tuple[RecordLayout, ...]] = tuple(lay for f in VENUE_FORMATS for lay in (f.trade, f.quote))


def format_of(venue: str) -> VenueFormat:
    for venue_format in VENUE_FORMATS:
        if venue_format.venue == venue:
            return venue_format
    raise ValueError(f"unknown venue {venue!r}; known: {', '.join(VENUES)}")


def detect_layout(record: Mapping[str, Any]) -> RecordLayout | None:
    """The layout of a decoded record, or None when no venue format matches."""
    for venue_format in VENUE_FORMATS:
        if venue_format.ts_key in record:
            kind_value = record.get(venue_format.trade.kind_key)
            # `==` rather than a dict lookup: the value may be unhashable (a list, an object).
            if kind_value == venue_format.trade.kind_value:
                return venue_format.trade
            if kind_value == venue_format.quote.kind_value:
                return venue_format.quote
            return None
    return None
