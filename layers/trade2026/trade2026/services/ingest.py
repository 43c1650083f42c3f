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
    def load_bars(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], StoredBar]: ...
    def open_bars(self, symbol: str) -> list[StoredBar]: ...
    def watermarks(self, symbols: Sequence[str]) -> dict[str, int]: ...
    def commit(self, symbol: str, update: SymbolUpdate) -> None: ...


@dataclass
class SymbolUpdate:
    """Everything one batch changes for one symbol, written together (one transaction per 100 items)."""

    saves: list[StoredBar] = field(default_factory=list)
    finals: list[StoredBar] = field(default_factory=list)
    watermark_ns: int = 0
    quote: dict[str, Any] | None = None
    last_bar: dict[str, Any] | None = None


@dataclass
class IngestPorts:
    store: MarketStateStore
    known_symbols: Callable[[], frozenset[str]]
    write_final_bars: Callable[[dict[str, Bars]], None]  # lake: symbol -> its final bars
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


def _split_controls(records: Sequence[StreamRecord]) -> tuple[list[int], dict[str, int], dict[str, int]]:
    """Positions of data records, the session-close watermark per symbol, and each close's first position."""
    data_positions: list[int] = []
    closes: dict[str, int] = {}
    first_close: dict[str, int] = {}
    for i, record in enumerate(records):
        if _CONTROL_MARK in record.data:
            try:
                control = json.loads(record.data)
                if control.get("control") == "session_close":
                    symbol, ts = str(control["symbol"]), int(control["ts_ns"])
                    closes[symbol] = max(closes.get(symbol, 0), ts)
                    first_close.setdefault(symbol, i)
                    continue
            except (ValueError, KeyError, TypeError):
                pass  # not a valid control record: let normalization reject it with a reason
        data_positions.append(i)
    return data_positions, closes, first_close


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
        positions, closes, first_close = _split_controls(records)
        data_records = [records[i] for i in positions]
        result = normalize(
            [r.data for r in data_records],
            now_ns=now_ns,
            known_symbols=self.ports.known_symbols(),
            future_tolerance_ns=self.future_tolerance_ns,
        )
        rejects = [_reject_message(data_records[r.index], str(r.reason), r.field) for r in result.rejects]
        ticks, source = result.ticks, np.asarray(result.source_index)
        report.duplicates = len(result.duplicates)
        report.ticks = len(ticks)
        report.quotes = int((ticks.kind == KIND_QUOTE).sum())
        report.trades = report.ticks - report.quotes
        symbols = sorted(set(ticks.symbol.tolist()) | set(closes))
        by_symbol = {symbol: ticks.symbol == symbol for symbol in symbols}
        trade_minutes = {
            (symbol, minute)
            for symbol, mask in by_symbol.items()
            for minute in set(
                (ticks.ts[mask & (ticks.kind != KIND_QUOTE)] // NS_PER_MINUTE * NS_PER_MINUTE).tolist()
            )
        }
        stored = self.ports.store.load_bars(sorted(trade_minutes))
        watermarks = self.ports.store.watermarks(symbols)
        planned: dict[str, SymbolUpdate] = {}
        for symbol, mask in by_symbol.items():
            watermark, close_ns = watermarks.get(symbol, 0), closes.get(symbol, 0)
            update, late = self._plan_symbol(symbol, ticks.take(mask), watermark, close_ns, stored, report)
            planned[symbol] = update
            late_positions = source[np.flatnonzero(mask)[late]]
            rejects += [_reject_message(data_records[int(p)], LATE_TICK) for p in late_positions]
            report.late += int(late.sum())
        self._write_finals(planned)
        for symbol, update in planned.items():
            try:
                self.ports.store.commit(symbol, update)
            except Exception as exc:
                report.failed_symbols[symbol] = f"{type(exc).__name__}: {exc}"
                firsts = [positions[int(source[by_symbol[symbol]].min())]] if by_symbol[symbol].any() else []
                firsts += [first_close[symbol]] if symbol in first_close else []
                report.failed_sequences.append(records[min(firsts)].sequence)
                continue
            report.bars_updated += len(update.saves)
            report.bars_closed += len(update.finals)
        if rejects:
            self.ports.send_rejects(rejects)
        report.rejects = len(rejects)
        return report

    def _plan_symbol(
        self,
        symbol: str,
        ticks: TickBatch,
        watermark: int,
        close_ns: int,
        stored: dict[tuple[str, int], StoredBar],
        report: BatchReport,
    ) -> tuple[SymbolUpdate, np.ndarray]:
        """The symbol's bar changes, and the mask of its ticks rejected as late."""
        update = SymbolUpdate(quote=_latest_quote(ticks))
        late = np.zeros(len(ticks), dtype=bool)
        trades_mask = ticks.kind != KIND_QUOTE
        trades = ticks.take(trades_mask)
        minutes = trades.ts // NS_PER_MINUTE * NS_PER_MINUTE
        hashes = self.ports.hash_ticks(trades)
        keep = np.ones(len(trades), dtype=bool)
        for minute in set(minutes.tolist()):
            in_minute = minutes == minute
            bar = stored.get((symbol, minute))
            seen = in_minute & np.isin(hashes, bar.tick_hashes) if bar else np.zeros_like(in_minute)
            report.duplicates += int(seen.sum())  # redelivered or duplicated: already counted
            is_final = bar.final if bar else minute + NS_PER_MINUTE + self.lateness_ns <= watermark
            too_late = in_minute & ~seen if is_final else np.zeros_like(in_minute)
            keep &= ~(seen | too_late)
            late[np.flatnonzero(trades_mask)[too_late]] = True
        fresh = trades.take(keep)
        touched: dict[int, StoredBar] = {}
        if len(fresh):
            touched = self._merge(symbol, fresh, hashes[keep], stored)
            update.saves = list(touched.values())
            watermark = max(watermark, int(fresh.ts.max()))
        watermark = max(watermark, close_ns)  # after the batch's ticks: they arrived before the close
        update.watermark_ns = watermark
        candidates = {int(b.bar.start[0]): b for b in self.ports.store.open_bars(symbol)} | touched
        update.finals = sorted(
            (b for b in candidates.values() if int(b.bar.end[0]) + self.lateness_ns <= watermark),
            key=lambda b: int(b.bar.start[0]),
        )
        return update, late

    def _merge(
        self, symbol: str, fresh: TickBatch, hashes: np.ndarray, stored: dict[tuple[str, int], StoredBar]
    ) -> dict[int, StoredBar]:
        new_bars = aggregate_trades(fresh, "1m")
        minutes = fresh.ts // NS_PER_MINUTE * NS_PER_MINUTE
        touched = {}
        for row in range(len(new_bars)):
            minute = int(new_bars.start[row])
            bar = new_bars.take(np.array([row]))
            previous = stored.get((symbol, minute))
            known = previous.tick_hashes if previous is not None else np.empty(0, dtype=np.uint64)
            touched[minute] = StoredBar(
                bar=merge_bars(previous.bar, bar) if previous is not None else bar,
                tick_hashes=np.union1d(known, hashes[minutes == minute]),
                final=False,
                version=previous.version if previous is not None else 0,
            )
        return touched

    def _write_finals(self, planned: dict[str, SymbolUpdate]) -> None:
        """Lake first, then events, then (in commit) the marks: a crash in between repeats work - readers and
        consumers drop duplicates by symbol and start - but never loses a bar."""
        finals = {symbol: concat_bars([b.bar for b in u.finals]) for symbol, u in planned.items() if u.finals}
        if not finals:
            return
        self.ports.write_final_bars(finals)
        events = [
            bar_to_dict(bars, row) | {"id": f"{symbol}:1m:{int(bars.start[row])}"}
            for symbol, bars in finals.items()
            for row in range(len(bars))
        ]
        self.ports.publish_bar_closed(events)
        for symbol, update in planned.items():
            if update.finals:
                update.last_bar = bar_to_dict(finals[symbol], len(finals[symbol]) - 1)
