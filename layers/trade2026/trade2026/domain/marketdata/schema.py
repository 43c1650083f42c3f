"""Canonical tick schema: one batch of ticks as a struct of numpy arrays.

Every venue format is mapped onto this schema (see ``venues`` and ``normalize``). Timestamps are
int64 epoch nanoseconds UTC. Symbols and venues are stored as small integer codes into the batch's
``symbols`` / ``venues`` tables so that sorting and grouping stay numeric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

KIND_TRADE: Final = 0
KIND_QUOTE: Final = 1
KIND_NAMES: Final = ("trade", "quote")

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_MINUTE: Final = 60 * NS_PER_SECOND

_PER_TICK_FIELDS: Final = (
    "symbol_code",
    "venue_code",
    "ts",
    "seq",
    "kind",
    "price",
    "size",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
)


@dataclass(frozen=True, eq=False)
class TickBatch:
    """Canonical ticks as parallel arrays (one element per tick).

    Trade-only columns (``price``, ``size``) are NaN on quotes; quote-only columns (``bid``, ``ask``,
    ``bid_size``, ``ask_size``) are NaN on trades.
    """

    symbols: tuple[str, ...]  # code -> symbol
    venues: tuple[str, ...]  # code -> venue (MIC-like name)
    symbol_code: np.ndarray  # int32
    venue_code: np.ndarray  # int8
    ts: np.ndarray  # int64 epoch ns UTC
    seq: np.ndarray  # int64 venue sequence number
    kind: np.ndarray  # int8: KIND_TRADE | KIND_QUOTE
    price: np.ndarray  # float64
    size: np.ndarray  # float64
    bid: np.ndarray  # float64
    ask: np.ndarray  # float64
    bid_size: np.ndarray  # float64
    ask_size: np.ndarray  # float64

    def __post_init__(self) -> None:
        lengths = {len(getattr(self, name)) for name in _PER_TICK_FIELDS}
        if len(lengths) > 1:
            raise ValueError(f"TickBatch columns differ in length: {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def symbol(self) -> np.ndarray:
        """Symbols as a string array (decoded from the codes)."""
        return _decode(self.symbols, self.symbol_code)

    @property
    def venue(self) -> np.ndarray:
        """Venues as a string array (decoded from the codes)."""
        return _decode(self.venues, self.venue_code)

    def take(self, index: np.ndarray) -> TickBatch:
        """The ticks at ``index`` (integer positions or a boolean mask), same code tables."""
        columns = {name: getattr(self, name)[index] for name in _PER_TICK_FIELDS}
        return TickBatch(symbols=self.symbols, venues=self.venues, **columns)

    def trades(self) -> TickBatch:
        return self.take(self.kind == KIND_TRADE)

    def quotes(self) -> TickBatch:
        return self.take(self.kind == KIND_QUOTE)

    def keys(self) -> list[tuple[str, str, int, int]]:
        """The deduplication keys ``(symbol, venue, ts, seq)`` as plain tuples (e.g. to remember them)."""
        return list(
            zip(self.symbol.tolist(), self.venue.tolist(), self.ts.tolist(), self.seq.tolist(), strict=True)
        )

    def to_dict(self) -> dict[str, np.ndarray]:
        """Columns with symbols and venues decoded to strings (e.g. for a Parquet writer)."""
        out = {name: getattr(self, name) for name in _PER_TICK_FIELDS if not name.endswith("_code")}
        return {"symbol": self.symbol, "venue": self.venue, **out}

    @classmethod
    def empty(cls, symbols: Sequence[str] = (), venues: Sequence[str] = ()) -> TickBatch:
        return cls.from_columns(symbols, venues, {})

    @classmethod
    def from_columns(
        cls, symbols: Sequence[str], venues: Sequence[str], columns: dict[str, np.ndarray]
    ) -> TickBatch:
        """Build a batch from (possibly partial) columns; absent float columns are NaN, absent ints 0."""
        n = len(next(iter(columns.values()))) if columns else 0
        dtypes = {f.name: _DTYPES[f.name] for f in fields(cls) if f.name in _DTYPES}
        built: dict[str, np.ndarray] = {}
        for name, dtype in dtypes.items():
            if name in columns:
                built[name] = np.asarray(columns[name], dtype=dtype)
            else:
                built[name] = np.full(n, np.nan) if dtype == np.float64 else np.zeros(n, dtype=dtype)
        return cls(symbols=tuple(symbols), venues=tuple(venues), **built)


_DTYPES: Final[dict[str, type]] = {
    "symbol_code": np.int32,
    "venue_code": np.int8,
    "ts": np.int64,
    "seq": np.int64,
    "kind": np.int8,
    "price": np.float64,
    "size": np.float64,
    "bid": np.float64,
    "ask": np.float64,
    "bid_size": np.float64,
    "ask_size": np.float64,
}


def concat_batches(batches: Sequence[TickBatch]) -> TickBatch:
    """Concatenate batches that share the same symbol and venue tables."""
    if not batches:
        return TickBatch.empty()
    first = batches[0]
    if any(b.symbols != first.symbols or b.venues != first.venues for b in batches):
        raise ValueError("cannot concatenate TickBatches with different symbol/venue tables")
    columns = {name: np.concatenate([getattr(b, name) for b in batches]) for name in _PER_TICK_FIELDS}
    return TickBatch(symbols=first.symbols, venues=first.venues, **columns)


def _decode(table: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    if not table:
        return np.array([""] * len(codes), dtype=str)
    return np.asarray(table, dtype=str)[codes]
