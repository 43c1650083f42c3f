"""Hot market state in DynamoDB (PynamoDB): the symbol registry, latest quote/bar and open minute bars.

MarketState table items (pk = "SYMBOL#<symbol>"):
    sk = "LATEST"                  latest quote, last final bar, watermark (max trade ts seen)
    sk = "BAR1M#<minute ns>"       a minute bar being built: OHLCV + notional + hashes of the ticks in it
Bars keep the hashes of their ticks so that a redelivered or duplicated tick is recognised and dropped;
final bars stay (with a TTL) so that a late duplicate is still recognised after the bar has closed.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from trade2026.domain.marketdata import TickBatch
from trade2026.services.ingest import StoredBar, SymbolUpdate, bar_from_dict, bar_to_dict

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
    quote_ts = NumberAttribute(null=True)  # quote["ts"], for the condition that keeps the newest quote
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


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def tick_hashes(ticks: TickBatch) -> np.ndarray:
    """64-bit hashes of tick identities (venue, ts, seq): vectorized, stable across processes.

    Collision odds are ~n^2/2^65: negligible for the few thousand ticks of one minute bar.
    """
    venue_ids = np.array([zlib.crc32(v.encode()) for v in ticks.venues], dtype=np.uint64)
    venue = venue_ids[ticks.venue_code] if len(venue_ids) else np.zeros(len(ticks), dtype=np.uint64)
    mixed = _splitmix64(ticks.seq.astype(np.uint64) ^ _splitmix64(venue))
    return _splitmix64(ticks.ts.astype(np.uint64) ^ mixed)


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


class DynamoMarketStateStore:
    """MarketStateStore of the normalizer on the MarketState table.

    A symbol's changes of one batch go in transactions of at most 100 items, each bar write conditioned on
    the version read (a concurrent writer makes the batch fail and Kinesis redeliver it; duplicates are
    then recognised by the tick hashes).
    """

    def load_bars(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], StoredBar]:
        wanted = [(symbol_pk(symbol), bar_sk(minute)) for symbol, minute in keys]
        found = {}
        for item in OpenBarModel.batch_get(wanted):
            found[(item.pk.removeprefix("SYMBOL#"), int(item.minute_ns))] = _stored(item)
        return found

    def open_bars(self, symbol: str) -> list[StoredBar]:
        return [_stored(item) for item in open_bars_of(symbol)]

    def watermarks(self, symbols: Sequence[str]) -> dict[str, int]:
        items = LatestModel.batch_get([(symbol_pk(s), "LATEST") for s in symbols])
        return {item.pk.removeprefix("SYMBOL#"): int(item.watermark_ns or 0) for item in items}

    def commit(self, symbol: str, update: SymbolUpdate) -> None:
        # Item by item, each conditioned on the version read: atomicity across items is not needed, since a
        # batch that fails half-way is redelivered and its ticks already stored are recognised by their hashes.
        final_minutes = {int(b.bar.start[0]) for b in update.finals}
        saved = set()
        for stored in update.saves:
            minute = int(stored.bar.start[0])
            saved.add(minute)
            item, condition = self._bar_write(symbol, stored, final=minute in final_minutes)
            item.save(condition=condition)
        for stored in update.finals:
            if int(stored.bar.start[0]) not in saved:
                item, (actions, condition) = self._final_mark(symbol, stored)
                item.update(actions=actions, condition=condition)
        actions = [LatestModel.watermark_ns.set(update.watermark_ns)]
        if update.quote is not None:
            _keep_newest_quote(symbol, update.quote)
        if update.last_bar is not None:
            actions.append(LatestModel.last_bar.set(update.last_bar))
        # The watermark only moves forward, whatever order two writers arrive in.
        LatestModel(symbol_pk(symbol), "LATEST").update(
            actions=actions,
            condition=LatestModel.watermark_ns.does_not_exist()
            | (LatestModel.watermark_ns <= update.watermark_ns),
        )

    @staticmethod
    def _bar_write(symbol: str, stored: StoredBar, *, final: bool) -> tuple[OpenBarModel, Any]:
        minute = int(stored.bar.start[0])
        item = OpenBarModel(
            symbol_pk(symbol),
            bar_sk(minute),
            minute_ns=minute,
            bar=bar_to_dict(stored.bar),
            tick_hashes=stored.tick_hashes.astype(np.uint64).tobytes(),
            final=final,
            expires_at=int(time.time()) + FINAL_BAR_TTL_S if final else None,
            version=stored.version + 1,
        )
        condition = (
            OpenBarModel.version == stored.version if stored.version else OpenBarModel.pk.does_not_exist()
        )
        return item, condition

    @staticmethod
    def _final_mark(symbol: str, stored: StoredBar) -> tuple[OpenBarModel, Any]:
        item = OpenBarModel(symbol_pk(symbol), bar_sk(int(stored.bar.start[0])))
        actions = [
            OpenBarModel.final.set(True),
            OpenBarModel.expires_at.set(int(time.time()) + FINAL_BAR_TTL_S),
            OpenBarModel.version.set(stored.version + 1),
        ]
        return item, (actions, OpenBarModel.version == stored.version)


def _keep_newest_quote(symbol: str, quote: dict[str, Any]) -> None:
    """Set the latest quote unless a newer one is stored (a redelivered or repeated old quote changes nothing)."""
    try:
        LatestModel(symbol_pk(symbol), "LATEST").update(
            actions=[LatestModel.quote.set(quote), LatestModel.quote_ts.set(int(quote["ts"]))],
            condition=LatestModel.quote_ts.does_not_exist() | (LatestModel.quote_ts <= int(quote["ts"])),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _stored(item: OpenBarModel) -> StoredBar:
    return StoredBar(
        bar=bar_from_dict("1m", item.bar),
        tick_hashes=decode_hashes(item.tick_hashes).copy(),
        final=bool(item.final),
        version=int(item.version or 0),
    )


def set_last_bar(symbol: str, bar: dict[str, Any]) -> None:
    LatestModel(symbol_pk(symbol), "LATEST").update(actions=[LatestModel.last_bar.set(bar)])


_KNOWN_RANGES: dict[tuple[str, str], tuple[str, str]] = {}


def record_dataset_range(symbol: str, dataset: str, first: str, last: str) -> None:
    """Widen a symbol's stored range of ``dataset`` (bar counts of streamed data are not kept).

    A warm process remembers the ranges it wrote, so the usual call (a range already covered) costs nothing.
    """
    known = _KNOWN_RANGES.get((symbol, dataset))
    if known is not None and known[0] <= first and last <= known[1]:
        return
    item = get_symbol(symbol)
    if item is None:
        return
    datasets = dict(item.datasets or {})
    stored = datasets.get(dataset) or {"first": first, "last": last, "bars": None}
    widened = {**stored, "first": min(stored["first"], first), "last": max(stored["last"], last)}
    if widened != stored or dataset not in datasets:
        datasets[dataset] = widened
        item.update(actions=[SymbolModel.datasets.set(datasets)])
    _KNOWN_RANGES[(symbol, dataset)] = (widened["first"], widened["last"])


def open_bars_of(symbol: str) -> Iterator[OpenBarModel]:
    """Minute bars of ``symbol`` not final yet."""
    return OpenBarModel.query(
        symbol_pk(symbol),
        OpenBarModel.sk.startswith("BAR1M#"),
        filter_condition=OpenBarModel.final == False,  # noqa: E712 - a PynamoDB condition
    )
