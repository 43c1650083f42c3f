"""Each reject reason, and duplicates (which are dropped, not rejected)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from trade2026.domain.marketdata import RejectReason, duplicate_mask, normalize
from trade2026.domain.marketdata.schema import TickBatch

NOW = 1_704_205_900_000_000_000  # 2024-01-02T14:31:40Z
GOOD_XNYS: dict[str, Any] = {
    "type": "trade",
    "sym": "AAPL",
    "px": 185.5,
    "qty": 300,
    "t": "2024-01-02T14:30:00.5Z",
    "seq": 1,
}
GOOD_XNAS_QUOTE: dict[str, Any] = {
    "event": "Q",
    "symbol": "AAPL",
    "bid": 185.4,
    "ask": 185.6,
    "bid_size": 100,
    "ask_size": 200,
    "timestamp_ms": 1704205800500,
    "sequence": 5,
}
GOOD_BATS: dict[str, Any] = {
    "ev": "t",
    "S": "AAPL",
    "p": 185.5,
    "s": 300,
    "ts_ns": "1704205800500000000",
    "q": 9,
}


def _with(record: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**record, **changes})


def _without(record: dict[str, Any], key: str) -> str:
    return json.dumps({k: v for k, v in record.items() if k != key})


CASES: list[tuple[str, Any, RejectReason, str]] = [
    ("truncated JSON", json.dumps(GOOD_XNYS)[:-1], RejectReason.BAD_JSON, ""),
    ("invalid UTF-8", b'{"sym": "\xff"}', RejectReason.BAD_JSON, ""),
    ("not text at all", 12345, RejectReason.BAD_JSON, ""),
    ("JSON array", "[1, 2]", RejectReason.UNKNOWN_FORMAT, "not a JSON object"),
    ("no venue timestamp key", _without(GOOD_XNYS, "t"), RejectReason.UNKNOWN_FORMAT, ""),
    ("unknown kind value", _with(GOOD_XNYS, type="auction"), RejectReason.UNKNOWN_FORMAT, ""),
    ("unhashable kind value", _with(GOOD_BATS, ev=["t"]), RejectReason.UNKNOWN_FORMAT, ""),
    ("missing size", _without(GOOD_XNYS, "qty"), RejectReason.MISSING_FIELD, "qty"),
    ("missing sequence", _without(GOOD_XNAS_QUOTE, "sequence"), RejectReason.MISSING_FIELD, "sequence"),
    ("price as a string", _with(GOOD_XNYS, px="185.5"), RejectReason.WRONG_TYPE, "px"),
    ("price as a bool", _with(GOOD_BATS, p=True), RejectReason.WRONG_TYPE, "p"),
    ("price NaN", _with(GOOD_BATS, p=float("nan")), RejectReason.WRONG_TYPE, "p"),
    ("size null", _with(GOOD_XNYS, qty=None), RejectReason.WRONG_TYPE, "qty"),
    ("symbol as a number", _with(GOOD_XNYS, sym=7), RejectReason.WRONG_TYPE, "sym"),
    ("symbol as a list", _with(GOOD_XNYS, sym=["AAPL"]), RejectReason.WRONG_TYPE, "sym"),
    ("sequence as a float", _with(GOOD_BATS, q=9.0), RejectReason.WRONG_TYPE, "q"),
    ("sequence beyond int64", _with(GOOD_BATS, q=2**70), RejectReason.WRONG_TYPE, "q"),
    ("price beyond float range", _with(GOOD_BATS, p=10**400), RejectReason.WRONG_TYPE, "p"),
    (
        "ms timestamp as a string",
        _with(GOOD_XNAS_QUOTE, timestamp_ms="1704205800500"),
        RejectReason.WRONG_TYPE,
        "timestamp_ms",
    ),
    (
        "ns timestamp as a number",
        _with(GOOD_BATS, ts_ns=1704205800500000000),
        RejectReason.WRONG_TYPE,
        "ts_ns",
    ),
    ("ISO without Z", _with(GOOD_XNYS, t="2024-01-02T14:30:00.5"), RejectReason.BAD_TIMESTAMP, "t"),
    ("ISO month 13", _with(GOOD_XNYS, t="2024-13-02T14:30:00Z"), RejectReason.BAD_TIMESTAMP, "t"),
    ("ISO 30 February", _with(GOOD_XNYS, t="2024-02-30T14:30:00Z"), RejectReason.BAD_TIMESTAMP, "t"),
    (
        "ns timestamp with a letter",
        _with(GOOD_BATS, ts_ns="17042058OO500000000"),
        RejectReason.BAD_TIMESTAMP,
        "ts_ns",
    ),
    (
        "ms timestamp beyond int64 ns",
        _with(GOOD_XNAS_QUOTE, timestamp_ms=10**17),
        RejectReason.BAD_TIMESTAMP,
        "timestamp_ms",
    ),
    ("zero price", _with(GOOD_XNYS, px=0), RejectReason.NON_POSITIVE_PRICE, "px"),
    ("negative bid", _with(GOOD_XNAS_QUOTE, bid=-1.0), RejectReason.NON_POSITIVE_PRICE, "bid"),
    ("negative size", _with(GOOD_BATS, s=-100), RejectReason.NEGATIVE_SIZE, "s"),
    ("negative ask size", _with(GOOD_XNAS_QUOTE, ask_size=-5), RejectReason.NEGATIVE_SIZE, "ask_size"),
    ("unknown symbol", _with(GOOD_BATS, S="ZZZZ"), RejectReason.UNKNOWN_SYMBOL, "S"),
    (
        "timestamp an hour ahead",
        _with(GOOD_XNYS, t="2024-01-02T15:31:40Z"),
        RejectReason.FUTURE_TIMESTAMP,
        "t",
    ),
    ("crossed quote", _with(GOOD_XNAS_QUOTE, bid=185.7), RejectReason.CROSSED_QUOTE, "bid"),
]


@pytest.mark.parametrize(("record", "reason", "fault"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_malformed_record_is_rejected_with_its_reason(
    record: Any, reason: RejectReason, fault: str
) -> None:
    # Given one good record, one malformed record and another good record
    records = [json.dumps(GOOD_XNYS), record, json.dumps(GOOD_BATS)]
    # When the batch is normalized
    result = normalize(records, now_ns=NOW, known_symbols={"AAPL", "MSFT"})
    # Then only the malformed one is rejected, at its position, with the reason and the field at fault
    assert [(r.index, r.reason, r.field) for r in result.rejects] == [(1, reason, fault)]
    assert result.source_index.tolist() == [0, 2]
    assert len(result.duplicates) == 0


def test_a_timestamp_within_the_tolerance_is_not_in_the_future() -> None:
    # Given a tick 1 s after "now" and one 3 s after, with a 2 s tolerance
    records = [_with(GOOD_XNYS, t="2024-01-02T14:31:41Z"), _with(GOOD_XNYS, t="2024-01-02T14:31:43Z", seq=2)]
    # When normalized
    result = normalize(records, now_ns=NOW, known_symbols={"AAPL"}, future_tolerance_ns=2_000_000_000)
    # Then only the second is rejected as in the future
    assert [(r.index, r.reason) for r in result.rejects] == [(1, RejectReason.FUTURE_TIMESTAMP)]


def test_a_locked_quote_is_not_crossed() -> None:
    # Given a quote whose bid equals its ask
    record = _with(GOOD_XNAS_QUOTE, bid=185.6, ask=185.6)
    # When normalized / Then it is accepted
    assert normalize([record], now_ns=NOW, known_symbols={"AAPL"}).rejects == []


def test_exact_repeats_in_a_batch_are_dropped_as_duplicates_not_rejected() -> None:
    # Given a batch where record 2 repeats record 0 and record 3 differs from record 0 only by its sequence
    records = [json.dumps(GOOD_BATS), json.dumps(GOOD_XNYS), json.dumps(GOOD_BATS), _with(GOOD_BATS, q=10)]
    # When normalized
    result = normalize(records, now_ns=NOW, known_symbols={"AAPL"})
    # Then the later repeat is reported as a duplicate, the first occurrence is kept, nothing is rejected
    assert result.duplicates.tolist() == [2]
    assert result.source_index.tolist() == [0, 1, 3]
    assert result.rejects == []


def test_keys_seen_in_an_earlier_batch_make_duplicates() -> None:
    # Given a first batch already ingested
    first = normalize([json.dumps(GOOD_BATS), json.dumps(GOOD_XNYS)], now_ns=NOW, known_symbols={"AAPL"})
    # When a second batch repeats one of its ticks, passing the first batch's keys as seen
    second = normalize(
        [json.dumps(GOOD_XNYS), _with(GOOD_XNYS, seq=2)],
        now_ns=NOW,
        known_symbols={"AAPL"},
        seen=first.ticks.keys(),
    )
    # Then the repeat is a duplicate and the new tick is kept
    assert second.duplicates.tolist() == [0]
    assert second.ticks.seq.tolist() == [2]


def test_same_symbol_ts_seq_on_another_venue_is_not_a_duplicate() -> None:
    # Given two ticks equal in symbol, ts and seq but from different venues
    xnys = _with(GOOD_XNYS, t="2024-01-02T14:30:00.5Z", seq=9)
    # When normalized
    result = normalize([xnys, json.dumps(GOOD_BATS)], now_ns=NOW, known_symbols={"AAPL"})
    # Then both are kept
    assert len(result.ticks) == 2 and len(result.duplicates) == 0


@pytest.mark.parametrize("seed", range(5))
def test_duplicate_mask_equals_a_plain_set_based_check(seed: int) -> None:
    # Given many ticks drawn from tiny key ranges (so repeats are frequent) and some seen keys
    rng = np.random.default_rng(seed)
    n = 2_000
    ticks = TickBatch.from_columns(
        ("A", "B", "C"),
        ("XNYS", "XNAS"),
        {
            "symbol_code": rng.integers(0, 3, n),
            "venue_code": rng.integers(0, 2, n),
            "ts": rng.integers(0, 20, n) * 1_000,
            "seq": rng.integers(0, 20, n),
        },
    )
    keys = ticks.keys()
    seen = {keys[i] for i in rng.integers(0, n, 50)} | {("Z", "XNYS", 0, 0)}
    # When duplicates are marked
    mask = duplicate_mask(ticks, seen)
    # Then they equal a straightforward Python implementation
    expected, known = [], set(seen)
    for key in keys:
        expected.append(key in known)
        known.add(key)
    assert mask.tolist() == expected
