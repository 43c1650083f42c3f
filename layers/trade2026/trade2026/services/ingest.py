"""Normalizer service: a batch of raw stream records -> canonical ticks -> minute bars, exactly once.

Exactly once, without a checkpoint table: every open bar keeps the hashes of the ticks in it, so a tick
redelivered by a retried batch, or published twice by a producer, is recognised and dropped. A bar is final
once the symbol's watermark (its newest trade, or a session-close record) passes the bar's end plus the
allowed lateness; final bars go to the lake and out as ``BarClosed`` events, and a tick arriving for a final
bar is rejected as late. Bad records are rejected with a reason and never retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from trade2026.domain.marketdata import Bars, TickBatch, aggregate_trades, concat_bars, merge_bars, normalize
from trade2026.domain.marketdata.schema import KIND_QUOTE, NS_PER_MINUTE

LATE_TICK = "late tick: its bar is already final"
_CONTROL_MARK = b'"control"'


@dataclass(frozen=True)
class StreamRecord:
    sequence: str  # Kinesis sequence number
    data: bytes
    partition_key: str = ""
    shard: str = ""


@dataclass
class StoredBar:
    """A minute bar as persisted between batches."""

    bar: Bars  # exactly one row
    tick_hashes: np.ndarray  # uint64
    final: bool = False
    version: int = 0


class MarketStateStore(Protocol):
    def load_bars(self, symbol: str, minutes: Sequence[int]) -> dict[int, StoredBar]: ...
    def save_bar(self, symbol: str, stored: StoredBar) -> None: ...
    def open_bars(self, symbol: str) -> list[StoredBar]: ...
    def mark_final(self, symbol: str, stored: StoredBar) -> None: ...
    def watermark(self, symbol: str) -> int: ...
    def update_latest(self, symbol: str, watermark_ns: int, quote: dict[str, Any] | None,
                      last_bar: dict[str, Any] | None) -> None: ...  # fmt: skip


@dataclass
class IngestPorts:
    store: MarketStateStore
    known_symbols: Callable[[], frozenset[str]]
    write_final_bars: Callable[[str, Bars], None]  # lake
    publish_bar_closed: Callable[[list[dict[str, Any]]], None]  # EventBridge
    send_rejects: Callable[[list[dict[str, Any]]], None]  # DLQ
    hash_ticks: Callable[[TickBatch], np.ndarray]


@dataclass
class BatchReport:
    records: int = 0
    ticks: int = 0
    trades: int = 0
    quotes: int = 0
    duplicates: int = 0
    rejects: int = 0
    late: int = 0
    bars_updated: int = 0
    bars_closed: int = 0
    failed_symbols: dict[str, str] = field(default_factory=dict)
    failed_sequences: list[str] = field(default_factory=list)  # lowest failed record per failed symbol


def bar_to_dict(bars: Bars, row: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in bars.to_dict().items():
        value = values[row].item() if hasattr(values[row], "item") else values[row]
        out[name] = None if isinstance(value, float) and np.isnan(value) else value
    return out


def bar_from_dict(interval: str, data: dict[str, Any]) -> Bars:
    columns = {
        name: np.asarray([np.nan if data.get(name) is None else data[name]])
        for name in Bars.empty(interval).columns()
    }
    columns["symbol"] = np.asarray([data["symbol"]], dtype=str)
    for name in ("start", "end", "count", "first_ts", "first_seq", "last_ts", "last_seq"):
        columns[name] = columns[name].astype(np.int64)
    return Bars(interval, **columns)


def _split_controls(records: Sequence[StreamRecord]) -> tuple[list[int], dict[str, int]]:
    """Positions of data records, and the session-close watermark per symbol from control records."""
    data_positions, closes = [], {}
    for i, record in enumerate(records):
        if _CONTROL_MARK in record.data:
            try:
                control = json.loads(record.data)
                if control.get("control") == "session_close":
                    symbol, ts = str(control["symbol"]), int(control["ts_ns"])
                    closes[symbol] = max(closes.get(symbol, 0), ts)
                    continue
            except (ValueError, KeyError, TypeError):
                pass  # not a valid control record: let normalization reject it with a reason
        data_positions.append(i)
    return data_positions, closes


def _reject_message(record: StreamRecord, reason: str, field_name: str = "") -> dict[str, Any]:
    return {
        "reason": reason,
        "field": field_name or None,
        "shard": record.shard,
        "sequence_number": record.sequence,
        "partition_key": record.partition_key,
        "data": record.data[:2048].decode("utf-8", errors="replace"),
    }


def _latest_quote(ticks: TickBatch) -> dict[str, Any] | None:
    quotes = ticks.quotes()
    if len(quotes) == 0:
        return None
    i = int(np.lexsort((quotes.seq, quotes.ts))[-1])
    return {
        "bid": float(quotes.bid[i]),
        "ask": float(quotes.ask[i]),
        "bid_size": float(quotes.bid_size[i]),
        "ask_size": float(quotes.ask_size[i]),
        "ts": int(quotes.ts[i]),
        "venue": str(quotes.venue[i]),
    }


class Normalizer:
    def __init__(self, ports: IngestPorts, lateness_ns: int, future_tolerance_ns: int) -> None:
        self.ports = ports
        self.lateness_ns = lateness_ns
        self.future_tolerance_ns = future_tolerance_ns

    def process(self, records: Sequence[StreamRecord], now_ns: int) -> BatchReport:
        report = BatchReport(records=len(records))
        positions, closes = _split_controls(records)
        data_records = [records[i] for i in positions]
        result = normalize(
            [r.data for r in data_records],
            now_ns=now_ns,
            known_symbols=self.ports.known_symbols(),
            future_tolerance_ns=self.future_tolerance_ns,
        )
        rejects = [_reject_message(data_records[r.index], str(r.reason), r.field) for r in result.rejects]
        report.duplicates = len(result.duplicates)
        ticks = result.ticks
        symbols = sorted(set(ticks.symbol.tolist()) | set(closes))
        source = np.asarray(result.source_index)
        for symbol in symbols:
            mask = ticks.symbol == symbol
            symbol_ticks = ticks.take(mask)
            try:
                late = self._process_symbol(symbol, symbol_ticks, closes.get(symbol, 0), report)
            except Exception as exc:  # noqa: BLE001 - isolate the symbol; Kinesis redelivers from its first record
                report.failed_symbols[symbol] = f"{type(exc).__name__}: {exc}"
                first = source[mask].min() if mask.any() else None
                if first is not None:
                    report.failed_sequences.append(data_records[int(first)].sequence)
                continue
            late_positions = source[np.flatnonzero(mask)[late]]
            rejects += [_reject_message(data_records[int(p)], LATE_TICK) for p in late_positions]
            report.late += int(late.sum())
        if rejects:
            self.ports.send_rejects(rejects)
        report.rejects = len(rejects)
        report.ticks = len(ticks)
        report.quotes = int((ticks.kind == KIND_QUOTE).sum())
        report.trades = report.ticks - report.quotes
        return report

    def _process_symbol(self, symbol: str, ticks: TickBatch, close_ns: int, report: BatchReport) -> np.ndarray:
        """Merge the symbol's trades into its bars; returns the mask of ticks rejected as late."""
        late = np.zeros(len(ticks), dtype=bool)
        trades_mask = ticks.kind != KIND_QUOTE
        watermark = max(self.ports.store.watermark(symbol), close_ns)
        if trades_mask.any():
            trades = ticks.take(trades_mask)
            minutes = trades.ts - trades.ts % NS_PER_MINUTE
            stored = self.ports.store.load_bars(symbol, sorted(set(minutes.tolist())))
            hashes = self.ports.hash_ticks(trades)
            keep = np.ones(len(trades), dtype=bool)
            for minute, bar in stored.items():
                in_minute = minutes == minute
                seen = np.isin(hashes, bar.tick_hashes) & in_minute
                keep &= ~seen  # redelivered or duplicated: already counted
                if bar.final:
                    late_here = in_minute & ~seen
                    keep &= ~late_here
                    late[np.flatnonzero(trades_mask)[late_here]] = True
            report.duplicates += int((~keep & ~late[trades_mask]).sum())
            # A minute never stored and already past the watermark + lateness is late too.
            too_old = (minutes + NS_PER_MINUTE + self.lateness_ns <= watermark) & ~np.isin(minutes, list(stored))
            keep &= ~too_old
            late[np.flatnonzero(trades_mask)[too_old]] = True
            fresh = trades.take(keep)
            if len(fresh):
                self._merge(symbol, fresh, hashes[keep], stored, report)
                watermark = max(watermark, int(fresh.ts.max()))
        closed = self._close_bars(symbol, watermark, report)
        self.ports.store.update_latest(symbol, watermark, _latest_quote(ticks), closed)
        return late

    def _merge(
        self, symbol: str, fresh: TickBatch, hashes: np.ndarray, stored: dict[int, StoredBar], report: BatchReport
    ) -> None:
        new_bars = aggregate_trades(fresh, "1m")
        minutes = fresh.ts - fresh.ts % NS_PER_MINUTE
        for row in range(len(new_bars)):
            minute = int(new_bars.start[row])
            bar = new_bars.take(np.array([row]))
            previous = stored.get(minute)
            if previous is not None:
                bar = merge_bars(previous.bar, bar)
            known = previous.tick_hashes if previous is not None else np.empty(0, dtype=np.uint64)
            merged_hashes = np.union1d(known, hashes[minutes == minute])
            version = previous.version if previous is not None else 0
            self.ports.store.save_bar(symbol, StoredBar(bar, merged_hashes, False, version))
            report.bars_updated += 1

    def _close_bars(self, symbol: str, watermark: int, report: BatchReport) -> dict[str, Any] | None:
        due = [b for b in self.ports.store.open_bars(symbol) if int(b.bar.end[0]) + self.lateness_ns <= watermark]
        if not due:
            return None
        due.sort(key=lambda b: int(b.bar.start[0]))
        final = concat_bars([b.bar for b in due])
        # Lake first, then events, then the mark: a crash in between repeats work (readers and consumers
        # drop duplicates by symbol+start) but never loses a bar.
        self.ports.write_final_bars(symbol, final)
        events = [bar_to_dict(final, row) | {"id": f"{symbol}:1m:{int(final.start[row])}"} for row in range(len(final))]
        self.ports.publish_bar_closed(events)
        for stored in due:
            self.ports.store.mark_final(symbol, stored)
        report.bars_closed += len(due)
        return events[-1]
