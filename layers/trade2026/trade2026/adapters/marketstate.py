"""Hot market state in DynamoDB (PynamoDB): the symbol registry, latest quote/bar and open minute bars.

MarketState table items (pk = "SYMBOL#<symbol>"):
    sk = "LATEST"                  latest quote, last final bar, watermark (max trade ts seen)
    sk = "BAR1M#<minute ns>"       a minute bar being built: OHLCV + notional + hashes of the ticks in it
Bars keep the hashes of their ticks so that a redelivered or duplicated tick is recognised and dropped;
final bars stay (with a TTL) so that a late duplicate is still recognised after the bar has closed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

FINAL_BAR_TTL_S = 2 * 86_400


class SymbolModel(Model):
    class Meta:
        table_name = "symbols"  # bound at start-up by bind_tables()

    symbol = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    asset_class = UnicodeAttribute()  # index | equity
    source = UnicodeAttribute()  # arch | skfolio | synthetic | import
    synthetic = BooleanAttribute(default=False)
    datasets = JSONAttribute(default=dict)  # dataset -> {"bars": n, "first_ts": ns, "last_ts": ns}
    has_ohlc = BooleanAttribute(default=True)
    has_volume = BooleanAttribute(default=True)
    updated_at = NumberAttribute()


class LatestModel(Model):
    class Meta:
        table_name = "market-state"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="LATEST")
    quote = JSONAttribute(null=True)  # {"bid","ask","bid_size","ask_size","ts","venue"}
    last_bar = JSONAttribute(null=True)  # the last final minute bar
    watermark_ns = NumberAttribute(default=0)


class OpenBarModel(Model):
    class Meta:
        table_name = "market-state"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    minute_ns = NumberAttribute()
    bar = JSONAttribute()  # open/high/low/close/volume/notional/trades/first_ts/last_ts (+ ordering keys)
    tick_hashes = BinaryAttribute(legacy_encoding=False)  # sorted uint64 hashes of (venue, ts, seq)
    final = BooleanAttribute(default=False)
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL once final
    version = NumberAttribute(default=0)


def bind_tables(symbols_table: str, state_table: str) -> None:
    SymbolModel.Meta.table_name = symbols_table
    LatestModel.Meta.table_name = state_table
    OpenBarModel.Meta.table_name = state_table


def symbol_pk(symbol: str) -> str:
    return f"SYMBOL#{symbol}"


def bar_sk(minute_ns: int) -> str:
    return f"BAR1M#{minute_ns:020d}"


def tick_hashes(venues: Iterable[str], ts: Iterable[int], seq: Iterable[int]) -> np.ndarray:
    """Stable 64-bit hashes of tick identities (collision odds ~1e-19 per pair at these volumes)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{v}|{t}|{s}".encode(), digest_size=8).digest(), "little")
            for v, t, s in zip(venues, ts, seq, strict=True)
        ],
        dtype=np.uint64,
    )


def decode_hashes(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint64) if blob else np.empty(0, dtype=np.uint64)


# ---------------------------------------------------------------------- symbols
def upsert_symbol(symbol: str, **fields: Any) -> None:
    item = SymbolModel(symbol, updated_at=int(time.time()), **fields)
    item.save()


def get_symbol(symbol: str) -> SymbolModel | None:
    try:
        return SymbolModel.get(symbol)
    except SymbolModel.DoesNotExist:
        return None


def all_symbols() -> list[SymbolModel]:
    return sorted(SymbolModel.scan(), key=lambda s: s.symbol)


class SymbolCache:
    """Known symbols for validation, refreshed at most every ``ttl_s`` seconds (a warm Lambda reuses it)."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._symbols: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def get(self) -> frozenset[str]:
        if time.monotonic() - self._loaded_at > self._ttl_s:
            self._symbols = frozenset(s.symbol for s in SymbolModel.scan(attributes_to_get=["symbol"]))
            self._loaded_at = time.monotonic()
        return self._symbols


# ---------------------------------------------------------------------- state
def get_latest(symbol: str) -> LatestModel:
    try:
        return LatestModel.get(symbol_pk(symbol), "LATEST")
    except LatestModel.DoesNotExist:
        return LatestModel(symbol_pk(symbol), "LATEST")


def get_bars(symbol: str, minutes: Iterable[int]) -> dict[int, OpenBarModel]:
    keys = [(symbol_pk(symbol), bar_sk(m)) for m in set(minutes)]
    return {item.minute_ns: item for item in OpenBarModel.batch_get(keys)} if keys else {}


def open_bars(symbol: str) -> Iterator[OpenBarModel]:
    return OpenBarModel.query(
        symbol_pk(symbol),
        OpenBarModel.sk.startswith("BAR1M#"),
        filter_condition=OpenBarModel.final == False,  # noqa: E712 - PynamoDB condition, not a comparison
    )


def mark_final(bar: OpenBarModel) -> None:
    bar.final = True
    bar.expires_at = int(time.time()) + FINAL_BAR_TTL_S
    bar.save(condition=OpenBarModel.version == bar.version)
