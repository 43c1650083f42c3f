"""The exactly-once bar of the normalizer, end to end: a 100,000-record SYNTHETIC replay through the local cloud.

`trade2026 ingest --source synthetic` publishes a seeded session (1% malformed records over every reject
reason) to Kinesis; the local event source mapping feeds the normalizer Lambda; bars are read back over HTTP.
The reference is independent of the platform: the generator's ground truth (regenerated here with the
loader's arguments) resampled with pandas. Every valid trade must be in exactly one bar, every malformed
record in the dead-letter queue with its reason, and a second delivery of records must change nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trade2026.domain.marketdata.synthetic import (
    DEFAULT_SYMBOLS,
    DUPLICATE,
    VALID,
    SyntheticFeed,
    synthetic_feed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]  # the replay runs in the first test

ROOT = Path(__file__).resolve().parents[2]
TICKS, MALFORMED, SEED, MINUTES = 100_000, 0.01, 2026, 60
SYMBOLS = {f"SYN.{name}": price for name, price in DEFAULT_SYMBOLS.items()}  # loader.replay_synthetic's names
NS_PER_MINUTE = 60_000_000_000
REDELIVERED = slice(40_000, 42_000)  # the 2,000 records published a second time
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass
class Replay:
    feed: SyntheticFeed
    seconds: float  # the CLI's wall time: first PutRecords to every bar closed
    bars: dict[str, pd.DataFrame]  # symbol -> its 1m bars read over HTTP
    quotes: dict[str, dict[str, Any]]  # symbol -> GET /v1/marketdata/quotes/<symbol>
    dead_letters: list[dict[str, Any]]
    stream: str
    dlq_url: str


# ---------------------------------------------------------------------------- helpers
def platform_outputs(cloud: Any) -> dict[str, str]:
    state = json.loads((cloud.state_dir / "state.json").read_text())
    return next(s["outputs"] for name, s in state["stacks"].items() if name.startswith("trade2026-"))


def session_start_ns() -> int:
    """A session that ended a minute ago: the normalizer judges "in the future" by the wall clock, so the
    generator's future-timestamp records (an hour past the session) are in the future only for a recent one."""
    return (time.time_ns() // NS_PER_MINUTE - MINUTES - 1) * NS_PER_MINUTE


def iso(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def run_replay(cloud: Any, start_ns: int) -> float:
    """`trade2026 ingest --source synthetic ...` as a user types it; returns its wall time."""
    command = [
        sys.executable, "-m", "localcloud", "ingest", "--source", "synthetic", "--ticks", str(TICKS),
        "--malformed", str(MALFORMED), "--seed", str(SEED), "--minutes", str(MINUTES), "--start", iso(start_ns),
        "--state-dir", str(cloud.state_dir),
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=900, cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command[2:])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def regenerate_feed(start_ns: int) -> SyntheticFeed:
    """The session the CLI published: loader.replay_synthetic's synthetic_feed arguments."""
    return synthetic_feed(
        TICKS, seed=SEED, symbols=SYMBOLS, malformed_share=MALFORMED, duplicate_share=0.0,
        start_ns=start_ns, duration_ns=MINUTES * NS_PER_MINUTE,
    )  # fmt: skip


def api_bars(cloud: Any, token: str, symbol: str) -> pd.DataFrame:
    """Every 1m bar of the symbol over HTTP, following next_token."""
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"symbol": symbol, "interval": "1m", "limit": 10_000}
    while True:
        response = cloud.get("/v1/marketdata/bars", token=token, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["synthetic"] is True
        rows += page["bars"]
        if not page["next_token"]:
            break
        params["next_token"] = page["next_token"]
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def api_quote(cloud: Any, token: str, symbol: str) -> dict[str, Any]:
    response = cloud.get(f"/v1/marketdata/quotes/{symbol}", token=token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def reference_bars(feed: SyntheticFeed) -> pd.DataFrame:
    """pandas' groupby(symbol).resample(1min) of the valid trades (OHLC by (ts, seq) order)."""
    trades = feed.truth.trades()
    frame = pd.DataFrame(
        {"symbol": trades.symbol, "ts": pd.to_datetime(trades.ts, unit="ns", utc=True), "seq": trades.seq,
         "price": trades.price, "size": trades.size}
    ).sort_values(["symbol", "ts", "seq"], kind="stable").reset_index(drop=True)  # fmt: skip
    frame["notional"] = frame["price"] * frame["size"]
    grouped = frame.groupby("symbol").resample("1min", on="ts")
    bars = grouped.agg({"price": ["first", "max", "min", "last", "count"], "size": "sum", "notional": "sum"})
    bars.columns = ["open", "high", "low", "close", "trades", "volume", "notional"]
    bars = bars[bars["trades"] > 0].reset_index()
    bars["vwap"] = bars["notional"] / bars["volume"]
    return bars


def partition_key(record: str) -> str:
    """The key the loader publishes a record under (its symbol), so a repeat lands on the same shard."""
    try:
        obj = json.loads(record)
        return str(next(obj[k] for k in ("sym", "symbol", "S") if k in obj)) or "malformed"
    except (ValueError, StopIteration, TypeError, AttributeError):
        return "malformed"


def drain(
    sqs: Any, url: str, until: set[str] | None = None, timeout_s: float = 180.0
) -> list[dict[str, Any]]:
    """Receive and delete every message; with ``until``, keep going until those record data were seen."""
    messages: list[dict[str, Any]] = []
    empty_polls, deadline = 0, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
            "Messages", []
        )
        if batch:
            empty_polls = 0
            messages += [json.loads(m["Body"]) for m in batch]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            continue
        waiting = until is not None and not until <= {m.get("data") for m in messages}
        empty_polls += 1
        if not waiting and empty_polls >= 3:
            return messages
        time.sleep(0.5)
    raise AssertionError(f"the dead-letter queue did not get what was expected within {timeout_s:.0f} s")


def reasons_by_record(messages: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for message in messages:
        found.setdefault(message["data"], set()).add(message["reason"])
    return found


def malformed_expected(feed: SyntheticFeed, positions: range | None = None) -> dict[str, set[str]]:
    chosen = range(len(feed.records)) if positions is None else positions
    return {
        feed.records[i]: {str(feed.expected[i])} for i in chosen if feed.expected[i] not in (VALID, DUPLICATE)
    }


# ---------------------------------------------------------------------------- the replay, once per module
@pytest.fixture(scope="module")
def replay(cloud: Any, trader_token: str) -> Replay:
    outputs = platform_outputs(cloud)
    sqs = cloud.client("sqs")
    drain(sqs, outputs["MarketDataDLQUrl"])  # what other tests left there is not ours to judge
    start_ns = session_start_ns()
    seconds = run_replay(cloud, start_ns)
    print(f"\n100,000-record synthetic replay through the local cloud: {seconds:.1f} s")
    return Replay(
        feed=regenerate_feed(start_ns),
        seconds=seconds,
        bars={symbol: api_bars(cloud, trader_token, symbol) for symbol in SYMBOLS},
        quotes={symbol: api_quote(cloud, trader_token, symbol) for symbol in SYMBOLS},
        dead_letters=drain(sqs, outputs["MarketDataDLQUrl"]),
        stream=outputs["MarketDataStreamName"],
        dlq_url=outputs["MarketDataDLQUrl"],
    )


def test_every_valid_trade_is_counted_in_exactly_one_bar(replay: Replay) -> None:
    # Given the replayed session / When the bars' trade counts and volumes are summed over every SYN.* symbol
    trades = replay.feed.truth.trades()
    bars = pd.concat(replay.bars.values())
    # Then they equal the valid trades of the ground truth: nothing lost, nothing counted twice
    assert int(bars["trades"].sum()) == len(trades) > 45_000
    assert float(bars["volume"].sum()) == float(trades.size.sum())


def test_the_bars_equal_an_independent_pandas_resample_of_the_valid_ticks(replay: Replay) -> None:
    # Given pandas' resample of the ground truth's valid trades
    reference = reference_bars(replay.feed)
    for symbol, ours in replay.bars.items():
        expected = reference[reference["symbol"] == symbol].reset_index(drop=True)
        # When compared with the symbol's bars read over HTTP
        # Then the same minutes, identical OHLC, volume and trade counts, VWAP to the last bits
        assert ours["ts"].tolist() == expected["ts"].tolist(), symbol
        for column in (*PRICE_COLUMNS, "trades"):
            assert np.array_equal(ours[column].to_numpy(), expected[column].to_numpy()), (symbol, column)
        assert np.allclose(ours["vwap"], expected["vwap"], rtol=1e-12, atol=0), symbol
    assert sum(len(b) for b in replay.bars.values()) == len(reference) >= len(SYMBOLS) * (MINUTES - 1)


def test_every_malformed_record_is_in_the_dead_letter_queue_with_its_reason(replay: Replay) -> None:
    # Given the generator's intended reject reason of each malformed record (1% over every reason)
    expected = malformed_expected(replay.feed)
    assert len(expected) == round(TICKS * MALFORMED)
    assert len(set().union(*expected.values())) == 10
    # When the dead-letter queue is read back / Then each one is there (at least once) with exactly that reason,
    # and nothing else is: no valid tick rejected (as late or otherwise), no batch discarded after retries
    assert not [m for m in replay.dead_letters if "requestContext" in m], (
        "a batch was discarded after retries"
    )
    assert reasons_by_record(replay.dead_letters) == expected
    assert all(m["sequence_number"] and m["shard"] for m in replay.dead_letters)


@pytest.fixture(scope="module")
def redelivered(cloud: Any, replay: Replay) -> list[dict[str, Any]]:
    """2,000 records of the session published a second time; the dead-letter messages that followed."""
    kinesis, sqs = cloud.client("kinesis"), cloud.client("sqs")
    again = replay.feed.records[REDELIVERED]
    # then one sentinel per partition key (rejected as "unknown venue/format"): once each shard's sentinel is in
    # the dead-letter queue, the normalizer has processed every record before it on that shard
    sentinels = {
        json.dumps({"sentinel": uuid.uuid4().hex, "key": key}): key for key in partition_keys(replay)
    }
    entries = [{"Data": r.encode(), "PartitionKey": partition_key(r)} for r in again]
    entries += [{"Data": s.encode(), "PartitionKey": key} for s, key in sentinels.items()]
    for start in range(0, len(entries), 500):
        result = kinesis.put_records(StreamName=replay.stream, Records=entries[start : start + 500])
        assert result["FailedRecordCount"] == 0
    messages = drain(sqs, replay.dlq_url, until=set(sentinels))
    assert Counter(m["reason"] for m in messages if m.get("data") in sentinels) == {
        "unknown venue/format": len(sentinels)
    }
    return [m for m in messages if m.get("data") not in sentinels]


def partition_keys(replay: Replay) -> list[str]:
    return sorted({partition_key(r) for r in replay.feed.records})


def test_records_delivered_again_change_no_bar(cloud: Any, trader_token: str, replay: Replay,
                                               redelivered: list[dict[str, Any]]) -> None:  # fmt: skip
    # Given 2,000 records of the session delivered a second time (their bars are final)
    # When the dead-letter queue and the bars are read again
    # Then only their malformed records are rejected again (same reasons): no valid trade rejected as late
    assert reasons_by_record(redelivered) == malformed_expected(
        replay.feed, range(REDELIVERED.start, REDELIVERED.stop)
    )
    # and every bar over HTTP is exactly as before (the repeats were recognised as already counted)
    for symbol, before in replay.bars.items():
        pd.testing.assert_frame_equal(api_bars(cloud, trader_token, symbol), before, check_exact=True)


def test_records_delivered_again_leave_the_latest_quote_and_bar_as_they_were(
    cloud: Any, trader_token: str, replay: Replay, redelivered: list[dict[str, Any]]
) -> None:
    # Given old records (quotes among them) delivered a second time after the session ended
    # When each symbol's latest quote and last bar are read / Then they are still the session's last ones
    for symbol, before in replay.quotes.items():
        assert api_quote(cloud, trader_token, symbol) == before, symbol
