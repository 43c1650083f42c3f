"""The normalizer service (services.ingest.Normalizer) with in-memory fakes of its ports: exactly-once bars.

The fake store honours the conditions DynamoMarketStateStore writes with (a bar is saved only over the version
it was read at, a final mark likewise, the watermark only moves forward) and writes item by item, so a crash
can leave a symbol half-committed, as it can on DynamoDB. The tick hashes are the production ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from trade2026.adapters.marketstate import tick_hashes
from trade2026.domain.marketdata import Bars, aggregate_trades, concat_bars
from trade2026.domain.marketdata.synthetic import DUPLICATE, VALID, SyntheticFeed, synthetic_feed
from trade2026.services.ingest import (
    LATE_TICK,
    BatchReport,
    IngestPorts,
    Normalizer,
    StoredBar,
    StreamRecord,
    SymbolUpdate,
    bar_to_dict,
)

NS = 1_000_000_000
MINUTE = 60 * NS
LATENESS = 120 * NS
T0 = 1_704_205_800 * NS  # 2024-01-02T14:30:00Z, a minute boundary
NOW = T0 + 3_600 * NS  # the clock of every batch: after every tick of these tests
SYMBOLS = frozenset({"AAPL", "MSFT", "KO"})
EXACT_COLUMNS = (
    "symbol", "start", "end", "open", "high", "low", "close", "volume", "count",
    "first_ts", "first_seq", "last_ts", "last_seq",
)  # fmt: skip


class StoreDown(RuntimeError):
    """What the fake store raises when told to fail (a throttled or unavailable table)."""


class ConditionFailed(RuntimeError):
    """A write whose condition did not hold (DynamoDB's ConditionalCheckFailedException)."""


# ---------------------------------------------------------------------------- fakes of the ports
def _copy(stored: StoredBar) -> StoredBar:
    """What a read returns: a new object, as a DynamoDB read would (the caller cannot alias the store)."""
    return StoredBar(stored.bar.take(np.arange(1)), stored.tick_hashes.copy(), stored.final, stored.version)


@dataclass
class InMemoryStore:
    """A MarketStateStore in memory, with DynamoMarketStateStore's write order and conditions."""

    bars: dict[tuple[str, int], StoredBar] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0
    crash_at_write: int | None = None  # the n-th write (1-based, counted over the store's life) raises
    down_for: set[str] = field(default_factory=set)  # symbols whose writes all raise

    def load_bars(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], StoredBar]:
        return {key: _copy(self.bars[key]) for key in keys if key in self.bars}

    def open_bars(self, symbol: str) -> list[StoredBar]:
        return [_copy(b) for (s, _), b in sorted(self.bars.items()) if s == symbol and not b.final]

    def watermarks(self, symbols: Sequence[str]) -> dict[str, int]:
        return {s: self.latest[s]["watermark_ns"] for s in symbols if s in self.latest}

    def commit(self, symbol: str, update: SymbolUpdate) -> None:
        final_minutes = {int(b.bar.start[0]) for b in update.finals}
        saved = set()
        for stored in update.saves:
            minute = int(stored.bar.start[0])
            saved.add(minute)
            self._write_bar(symbol, stored, final=minute in final_minutes)
        for stored in update.finals:
            if int(stored.bar.start[0]) not in saved:
                self._mark_final(symbol, stored)
        self._write_latest(symbol, update)

    def _count_write(self, symbol: str) -> None:
        self.writes += 1
        if symbol in self.down_for or self.writes == self.crash_at_write:
            raise StoreDown(f"write {self.writes} ({symbol}) failed")

    def _write_bar(self, symbol: str, stored: StoredBar, *, final: bool) -> None:
        self._count_write(symbol)
        key = (symbol, int(stored.bar.start[0]))
        current = self.bars.get(key)
        if (current.version if current else 0) != stored.version:
            raise ConditionFailed(f"{key}: version {stored.version} expected")
        self.bars[key] = StoredBar(stored.bar, stored.tick_hashes.copy(), final, stored.version + 1)

    def _mark_final(self, symbol: str, stored: StoredBar) -> None:
        self._count_write(symbol)
        key = (symbol, int(stored.bar.start[0]))
        current = self.bars.get(key)
        if current is None or current.version != stored.version:
            raise ConditionFailed(f"{key}: version {stored.version} expected")
        self.bars[key] = StoredBar(current.bar, current.tick_hashes, True, current.version + 1)

    def _write_latest(self, symbol: str, update: SymbolUpdate) -> None:
        self._count_write(symbol)
        latest = self.latest.setdefault(symbol, {"watermark_ns": 0, "quote": None, "last_bar": None})
        if latest["watermark_ns"] > update.watermark_ns:
            raise ConditionFailed(f"{symbol}: the watermark may not move back")
        latest["watermark_ns"] = update.watermark_ns
        for name in ("quote", "last_bar"):
            if getattr(update, name) is not None:
                latest[name] = getattr(update, name)

    def final_bars(self) -> Bars:
        return concat_bars([self.bars[key].bar for key in sorted(self.bars)])


@dataclass
class Outbox:
    """What the normalizer sent out: lake writes, BarClosed events, dead-letter messages."""

    lake_writes: list[dict[str, Bars]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def lake_rows(self) -> int:
        return sum(len(bars) for write in self.lake_writes for bars in write.values())

    def lake_view(self) -> Bars:
        """What a lake reader sees: one bar per (symbol, start), the last written (Lake.read_bars' rule)."""
        latest: dict[tuple[str, int], Bars] = {}
        for write in self.lake_writes:
            for bars in write.values():
                for row in range(len(bars)):
                    latest[(str(bars.symbol[row]), int(bars.start[row]))] = bars.take(np.array([row]))
        return concat_bars([latest[key] for key in sorted(latest)])


def make_normalizer(store: InMemoryStore, outbox: Outbox, symbols: Iterable[str] = SYMBOLS) -> Normalizer:
    known = frozenset(symbols)
    ports = IngestPorts(
        store=store,
        known_symbols=lambda: known,
        write_final_bars=outbox.lake_writes.append,
        publish_bar_closed=outbox.events.extend,
        send_rejects=outbox.rejects.extend,
        hash_ticks=tick_hashes,
    )
    return Normalizer(ports, lateness_ns=LATENESS, future_tolerance_ns=5 * NS)


# ---------------------------------------------------------------------------- records
class Stream:
    """Numbers records as a Kinesis shard does (increasing sequence numbers)."""

    def __init__(self) -> None:
        self._next = 49_000_000_000_000_000_000

    def records(self, payloads: Iterable[str | bytes], partition_key: str = "") -> list[StreamRecord]:
        out = []
        for payload in payloads:
            self._next += 1
            data = payload if isinstance(payload, bytes) else payload.encode()
            out.append(StreamRecord(str(self._next), data, partition_key, "shardId-000000000000"))
        return out


def trade(symbol: str, ts_ns: int, seq: int, price: float, size: int = 100) -> str:
    """A trade in the BATS layout (epoch ns as a string)."""
    return json.dumps({"ev": "t", "ts_ns": str(ts_ns), "S": symbol, "q": seq, "p": price, "s": size})


def quote(symbol: str, ts_ns: int, seq: int, bid: float, ask: float) -> str:
    return json.dumps(
        {"ev": "q", "ts_ns": str(ts_ns), "S": symbol, "q": seq, "bp": bid, "ap": ask, "bs": 100, "as": 200}
    )


def session_close(symbol: str, ts_ns: int) -> str:
    return json.dumps({"control": "session_close", "symbol": symbol, "ts_ns": ts_ns})


def expected_bars(trades: Sequence[str]) -> Bars:
    """The domain's bars of the given trade records, built in one go (the reference)."""
    from trade2026.domain.marketdata import normalize

    return aggregate_trades(normalize(trades, now_ns=NOW, known_symbols=SYMBOLS).ticks)


def assert_same_bars(actual: Bars, expected: Bars) -> None:
    assert len(actual) == len(expected)
    for name in EXACT_COLUMNS:
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    # merged bars add notionals in another order than one aggregation: equal to the last bits
    assert np.allclose(actual.notional, expected.notional, rtol=1e-12, atol=0)


def snapshot(store: InMemoryStore) -> dict[tuple[str, int], tuple[Any, ...]]:
    return {
        key: (bar_to_dict(b.bar), tuple(b.tick_hashes.tolist()), b.final, b.version)  # NaN-free dicts
        for key, b in store.bars.items()
    }


# ---------------------------------------------------------------------------- (a) redelivered batch
def test_a_batch_delivered_twice_changes_nothing_the_second_time() -> None:
    # Given a batch of trades over four minutes whose last trade finalizes the first bar, processed once
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    trades = [trade("AAPL", T0 + i * 20 * NS, i, 185.0 + i / 100) for i in range(12)]
    batch = stream.records([*trades, quote("AAPL", T0 + 5 * NS, 99, 184.9, 185.1)])
    first = normalizer.process(batch, now_ns=NOW)
    assert first.bars_updated == 4 and first.bars_closed == 1
    bars_before, lake_before, events_before = snapshot(store), outbox.lake_rows(), len(outbox.events)
    # When Kinesis delivers the same batch again
    second = normalizer.process(batch, now_ns=NOW)
    # Then every trade is recognised as already counted; no bar, lake row or event changes
    assert second.duplicates == 12
    assert (second.bars_updated, second.bars_closed, second.late, second.failed_sequences) == (0, 0, 0, [])
    assert snapshot(store) == bars_before
    assert (outbox.lake_rows(), len(outbox.events)) == (lake_before, events_before)
    assert_same_bars(store.final_bars(), expected_bars(trades))


# ---------------------------------------------------------------------------- (b) producer duplicates
def test_a_producer_duplicate_in_a_later_batch_is_dropped() -> None:
    # Given a batch with a trade in minute 0
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    original = trade("MSFT", T0 + 10 * NS, 1, 370.0, 300)
    normalizer.process(stream.records([original]), now_ns=NOW)
    # When a later batch brings the same trade again (a producer retry) and a new one of the same minute
    newer = trade("MSFT", T0 + 30 * NS, 2, 371.0, 100)
    report = normalizer.process(stream.records([original, newer]), now_ns=NOW)
    # Then the repeat is dropped as a duplicate (not a reject) and the bar holds each trade once
    assert (report.duplicates, report.rejects) == (1, 0)
    assert_same_bars(store.final_bars(), expected_bars([original, newer]))
    assert int(store.final_bars().count[0]) == 2


def test_a_duplicate_of_a_trade_whose_bar_is_final_is_dropped_not_rejected_as_late() -> None:
    # Given minute 0 made final by a trade past its end plus the lateness
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    original = trade("KO", T0 + 10 * NS, 1, 59.0)
    closer = trade("KO", T0 + MINUTE + LATENESS, 2, 59.1)
    normalizer.process(stream.records([original, closer]), now_ns=NOW)
    assert store.bars[("KO", T0)].final
    # When the first trade arrives once more
    report = normalizer.process(stream.records([original]), now_ns=NOW)
    # Then it is recognised by its hash (the final bar keeps them): a duplicate, nothing in the dead-letter queue
    assert (report.duplicates, report.late, outbox.rejects) == (1, 0, [])
    assert_same_bars(store.final_bars(), expected_bars([original, closer]))


# ---------------------------------------------------------------------------- (c) late ticks
def test_a_late_tick_within_the_lateness_updates_its_bar_and_after_the_bar_is_final_it_is_rejected() -> None:
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    # Given trades in minutes 0 and 1 (watermark 1:30, minute 0 final only at 3:00)
    on_time = [trade("AAPL", T0 + 20 * NS, 10, 185.0), trade("AAPL", T0 + 90 * NS, 11, 186.0)]
    normalizer.process(stream.records(on_time), now_ns=NOW)
    # When a trade of minute 0, earlier than its first trade, arrives within the lateness
    late_ok = trade("AAPL", T0 + 5 * NS, 9, 184.0, 500)
    report = normalizer.process(stream.records([late_ok]), now_ns=NOW)
    # Then it is merged into its bar: it becomes the bar's open and adds its volume
    assert (report.late, report.bars_updated, outbox.rejects) == (0, 1, [])
    bar = store.bars[("AAPL", T0)]
    assert (bar.bar.open[0], bar.bar.volume[0], bar.bar.count[0], bar.final) == (184.0, 600.0, 2, False)
    # When a trade at 4:00 moves the watermark past minute 0's end plus the lateness
    closer = trade("AAPL", T0 + 4 * MINUTE, 12, 187.0)
    normalizer.process(stream.records([closer]), now_ns=NOW)
    assert store.bars[("AAPL", T0)].final
    # and another new trade of minute 0 arrives
    too_late = stream.records([trade("AAPL", T0 + 30 * NS, 8, 150.0)])
    report = normalizer.process(too_late, now_ns=NOW)
    # Then it is rejected to the dead-letter queue as late, and the final bar stays as it was
    assert (report.late, report.rejects) == (1, 1)
    assert [(r["reason"], r["sequence_number"]) for r in outbox.rejects] == [
        (LATE_TICK, too_late[0].sequence)
    ]
    assert LATE_TICK.startswith("late tick")
    assert_same_bars(store.final_bars(), expected_bars([*on_time, late_ok, closer]))
    assert [e["id"] for e in outbox.events] == [f"AAPL:1m:{T0}", f"AAPL:1m:{T0 + MINUTE}"]


# ---------------------------------------------------------------------------- (d) crash and redelivery
@pytest.fixture(scope="module")
def small_feed() -> SyntheticFeed:
    """480 SYNTHETIC records of 3 symbols over 5 minutes, 5% malformed over every reject reason."""
    prices = {"AAPL": 185.0, "MSFT": 370.0, "KO": 59.0}
    return synthetic_feed(480, seed=11, symbols=prices, duration_ns=5 * MINUTE, malformed_share=0.05)


def feed_batches(feed: SyntheticFeed) -> list[list[StreamRecord]]:
    """The feed in three batches, then a batch of session closes (one per symbol)."""
    stream = Stream()
    close_ns = int(feed.truth.ts.max()) + LATENESS + MINUTE
    records = stream.records([*feed.records, *(session_close(s, close_ns) for s in feed.symbols)])
    cut = len(feed.records) // 3
    return [
        records[:cut],
        records[cut : 2 * cut],
        records[2 * cut : len(feed.records)],
        records[len(feed.records) :],
    ]


def deliver(normalizer: Normalizer, batch: list[StreamRecord], now_ns: int) -> BatchReport:
    """Kinesis with ReportBatchItemFailures: redeliver from the lowest failed sequence until none fails."""
    report = normalizer.process(batch, now_ns=now_ns)
    for _ in range(5):
        if not report.failed_sequences:
            return report
        retry_from = min(int(s) for s in report.failed_sequences)
        batch = [r for r in batch if int(r.sequence) >= retry_from]
        report = normalizer.process(batch, now_ns=now_ns)
    raise AssertionError(f"still failing after 5 redeliveries: {report.failed_symbols}")


def writes_of_a_clean_run(feed: SyntheticFeed) -> int:
    store = InMemoryStore()
    normalizer = make_normalizer(store, Outbox(), feed.symbols)
    for batch in feed_batches(feed):
        deliver(normalizer, batch, feed.now_ns)
    return store.writes


def assert_exactly_once(feed: SyntheticFeed, store: InMemoryStore, outbox: Outbox) -> None:
    truth = aggregate_trades(feed.truth)
    # every valid trade in exactly one bar, the store's and the lake's bars equal the domain's one-go aggregate
    assert int(store.final_bars().count.sum()) == len(feed.truth.trades())
    assert all(b.final for b in store.bars.values())
    assert_same_bars(store.final_bars(), truth)
    assert_same_bars(outbox.lake_view(), truth)
    # each bar announced (at least once; consumers drop repeats by id), the last announcement is the final bar
    last_event = {e["id"]: e for e in outbox.events}
    assert sorted(last_event) == sorted(f"{s}:1m:{t}" for s, t in zip(truth.symbol, truth.start, strict=True))
    for row in range(len(truth)):
        event = last_event[f"{truth.symbol[row]}:1m:{truth.start[row]}"]
        assert (event["count"], event["volume"], event["close"]) == (
            truth.count[row], truth.volume[row], truth.close[row]
        )  # fmt: skip
    # every malformed record rejected (at least once) with its reason; nothing valid rejected
    malformed = np.flatnonzero(~np.isin(feed.expected, [VALID, DUPLICATE]))
    reasons_by_data: dict[str, set[str]] = {}
    for message in outbox.rejects:
        reasons_by_data.setdefault(message["data"], set()).add(message["reason"])
    assert {feed.records[i]: {feed.expected[i]} for i in malformed} == reasons_by_data


def test_a_clean_run_of_the_small_feed_is_exactly_once(small_feed: SyntheticFeed) -> None:
    # Given the feed in three batches, no failure / When delivered / Then the bars are exactly once
    store, outbox = InMemoryStore(), Outbox()
    normalizer = make_normalizer(store, outbox, small_feed.symbols)
    for batch in feed_batches(small_feed):
        assert not deliver(normalizer, batch, small_feed.now_ns).failed_sequences
    assert_exactly_once(small_feed, store, outbox)


@pytest.mark.parametrize("redeliver", ["from the reported sequence", "the whole batch"])
def test_a_crash_at_any_store_write_then_redelivery_loses_nothing_and_doubles_nothing(
    small_feed: SyntheticFeed, redeliver: str
) -> None:
    total = writes_of_a_clean_run(small_feed)
    assert total > 20
    for crash_at in range(1, total + 1):
        # Given a store that fails its crash_at-th write (earlier writes of the symbol stay written)
        store, outbox = InMemoryStore(crash_at_write=crash_at), Outbox()
        normalizer = make_normalizer(store, outbox, small_feed.symbols)
        # When every batch is delivered, and a batch that failed is delivered again
        for batch in feed_batches(small_feed):
            report = normalizer.process(batch, now_ns=small_feed.now_ns)
            if report.failed_symbols:
                assert report.failed_sequences, (
                    f"write {crash_at}: failed {report.failed_symbols}, nothing to retry"
                )
                retry = batch if redeliver == "the whole batch" else [
                    r for r in batch if int(r.sequence) >= min(map(int, report.failed_sequences))
                ]  # fmt: skip
                assert not normalizer.process(retry, now_ns=small_feed.now_ns).failed_symbols
        # Then the bars, the lake and the events are exactly those of the valid ticks
        assert store.writes >= crash_at
        assert_exactly_once(small_feed, store, outbox)


# ---------------------------------------------------------------------------- (e) failure isolation
def test_one_symbols_store_failure_reports_its_first_record_and_the_others_are_committed() -> None:
    # Given a batch interleaving three symbols, and a store that fails every write of MSFT
    store, outbox, stream = InMemoryStore(down_for={"MSFT"}), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    payloads = [
        trade("AAPL", T0 + 1 * NS, 1, 185.0),
        trade("KO", T0 + 2 * NS, 2, 59.0),
        trade("MSFT", T0 + 3 * NS, 3, 370.0),
        trade("AAPL", T0 + 4 * NS, 4, 185.5),
        trade("MSFT", T0 + 5 * NS, 5, 371.0),
        trade("KO", T0 + 6 * NS, 6, 59.5),
    ]
    batch = stream.records(payloads)
    # When it is processed
    report = normalizer.process(batch, now_ns=NOW)
    # Then the batch item failure is MSFT's first record, AAPL and KO are committed and MSFT has nothing
    assert report.failed_sequences == [batch[2].sequence]
    assert set(report.failed_symbols) == {"MSFT"}
    assert {s for s, _ in store.bars} == {"AAPL", "KO"}
    # When the store recovers and Kinesis redelivers from that record
    store.down_for.clear()
    retry = normalizer.process(batch[2:], now_ns=NOW)
    # Then MSFT's bar is built once and the redelivered AAPL/KO trades are recognised as duplicates
    assert (retry.failed_sequences, retry.duplicates) == ([], 2)
    assert_same_bars(store.final_bars(), expected_bars(payloads))


def test_a_symbol_whose_only_record_is_a_session_close_is_retried_when_its_commit_fails() -> None:
    # Given an open bar of KO, and a batch whose only KO record is its session close
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    normalizer.process(stream.records([trade("KO", T0 + NS, 1, 59.0)]), now_ns=NOW)
    batch = stream.records([trade("AAPL", T0 + NS, 2, 185.0), session_close("KO", T0 + 10 * MINUTE)])
    # When the store fails KO's writes
    store.down_for.add("KO")
    report = normalizer.process(batch, now_ns=NOW)
    # Then the close is reported as a batch item failure (Kinesis must deliver it again), not silently dropped
    assert set(report.failed_symbols) == {"KO"}
    assert report.failed_sequences == [batch[1].sequence]


# ---------------------------------------------------------------------------- (f) session close
def test_session_close_control_records_close_every_bar() -> None:
    # Given open bars of two symbols over three minutes (no trade after them: nothing final yet)
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    trades = [
        trade(s, T0 + i * 30 * NS, i, p + i) for s, p in (("AAPL", 185.0), ("MSFT", 370.0)) for i in range(6)
    ]
    normalizer.process(stream.records(trades), now_ns=NOW)
    assert outbox.lake_writes == [] and len(store.open_bars("AAPL")) == 3
    # When the session-close records arrive, one with a trade of its symbol in the same batch
    close_ns = T0 + 3 * MINUTE + LATENESS
    last = trade("MSFT", T0 + 175 * NS, 99, 375.0)
    report = normalizer.process(
        stream.records([session_close("AAPL", close_ns), last, session_close("MSFT", close_ns)]), now_ns=NOW
    )
    # Then every bar is final, in the lake and announced once, and the watermarks are the close
    assert (report.bars_closed, report.rejects) == (6, 0)
    assert store.open_bars("AAPL") == [] and store.open_bars("MSFT") == []
    assert store.watermarks(["AAPL", "MSFT"]) == {"AAPL": close_ns, "MSFT": close_ns}
    assert_same_bars(outbox.lake_view(), expected_bars([*trades, last]))
    assert len(outbox.events) == 6
    assert store.latest["MSFT"]["last_bar"]["close"] == 375.0


def test_trades_before_a_session_close_in_the_same_batch_are_counted_not_rejected_as_late() -> None:
    # Given a batch (Kinesis batches whatever has arrived) ending a session: the last trades, then the close
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    trades = [trade("KO", T0 + i * 30 * NS, i, 59.0 + i / 10) for i in range(6)]
    batch = stream.records([*trades, session_close("KO", T0 + 3 * MINUTE + LATENESS)])
    # When it is processed
    report = normalizer.process(batch, now_ns=NOW)
    # Then the trades arrived before the close: all are in their (now final) bars, none rejected as late
    assert (report.late, outbox.rejects) == (0, [])
    assert_same_bars(store.final_bars(), expected_bars(trades))
    assert all(b.final for b in store.bars.values())


# ---------------------------------------------------------------------------- (g) malformed records
def test_malformed_records_go_to_the_dead_letter_queue_with_their_reason_and_sequence_number() -> None:
    # Given a batch of good trades and one record per kind of fault
    store, outbox, stream = InMemoryStore(), Outbox(), Stream()
    normalizer = make_normalizer(store, outbox)
    good = [trade("AAPL", T0 + NS, 1, 185.0), trade("KO", T0 + 2 * NS, 2, 59.0)]
    bad = {
        '{"ev": "t", "ts_ns": "1"': "bad JSON",
        json.dumps(
            {"ev": "x", "ts_ns": str(T0), "S": "AAPL", "q": 3, "p": 1.0, "s": 1}
        ): "unknown venue/format",
        json.dumps({"ev": "t", "ts_ns": str(T0), "S": "AAPL", "p": 1.0, "s": 1}): "missing field",
        trade("AAPL", T0 + 3 * NS, 4, -1.0): "non-positive price",
        trade("AAPL", T0 + 3 * NS, 5, 185.0, -100): "negative size",
        trade("ZZZZ", T0 + 3 * NS, 6, 1.0): "unknown symbol",
        trade("AAPL", NOW + 60 * NS, 7, 185.0): "timestamp in the future",
        quote("AAPL", T0 + 3 * NS, 8, 186.0, 185.0): "crossed quote",
        json.dumps({"control": "session_close", "symbol": "AAPL"}): "unknown venue/format",
    }
    batch = stream.records([good[0], *bad, good[1]], partition_key="AAPL")
    # When it is processed
    report = normalizer.process(batch, now_ns=NOW)
    # Then each bad record is in the dead-letter queue once, with its reason, sequence number and data
    assert (report.rejects, report.ticks, report.failed_sequences) == (len(bad), 2, [])
    by_sequence = {m["sequence_number"]: m for m in outbox.rejects}
    assert len(by_sequence) == len(bad)
    for record, reason in zip(batch[1:-1], bad.values(), strict=True):
        message = by_sequence[record.sequence]
        assert (message["reason"], message["data"]) == (reason, record.data.decode())
        assert (message["shard"], message["partition_key"]) == ("shardId-000000000000", "AAPL")
    assert by_sequence[batch[3].sequence]["field"] == "q"  # the missing key is named
    # and the good trades are bars
    assert_same_bars(store.final_bars(), expected_bars(good))
