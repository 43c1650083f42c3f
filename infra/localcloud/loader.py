"""`trade2026 ingest` and the demo data of `make up`: daily sources, user files, a synthetic tick replay."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trade2026.adapters import marketstate
from trade2026.adapters.lake import Lake

DAILY_SOURCES = ("sp500", "nasdaq", "stocks20")
SYNTHETIC_PREFIX = "SYN."  # synthetic symbols are named so, everywhere they are shown
PUT_RECORDS_MAX = 500


@dataclass
class Platform:
    """The names a loader needs, from the platform stack's outputs."""

    outputs: Mapping[str, str]
    lake: Lake = field(init=False)

    def __post_init__(self) -> None:
        marketstate.bind_tables(self.outputs["SymbolsTableName"], self.outputs["MarketStateTableName"])
        self.lake = Lake(self.outputs["LakeBucketName"], self.outputs["LakeDatabaseName"])


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip


def load_daily_sources(platform: Platform, sources: list[str], console: Console) -> dict[str, Any]:
    from trade2026.services.loading import load_demo_source

    totals: dict[str, Any] = {"symbols": 0, "bars": 0, "rejects": 0}
    with _progress(console) as progress:
        for source in sources:
            task = progress.add_task(f"{source}: daily bars", total=None)

            def report(symbol: str, done: int, total: int, task: Any = task, source: str = source) -> None:
                progress.update(
                    task, total=total, completed=done, description=f"{source}: {symbol or 'done'}"
                )

            summary = load_demo_source(platform.lake, source, report)
            totals["symbols"] += len(summary.symbols)
            totals["bars"] += summary.bars
    return totals


def load_file(platform: Platform, path: Path, symbol: str) -> dict[str, Any]:
    from trade2026.services.loading import load_user_file

    summary = load_user_file(platform.lake, path, symbol)
    return {"symbols": 1, "bars": summary.bars, "rejects": 0}


def replay_synthetic(
    platform: Platform,
    kinesis: Any,
    sqs: Any,
    console: Console,
    *,
    ticks: int,
    seed: int,
    malformed: float,
    duplicates: float,
    minutes: int = 60,
    lateness_s: int = 120,
    timeout_s: float = 600.0,
    start_ns: int | None = None,
) -> dict[str, Any]:
    """Publish a seeded SYNTHETIC tick session to the stream and wait until the normalizer closed every bar."""
    from trade2026.domain.marketdata.synthetic import DEFAULT_SYMBOLS, synthetic_feed

    symbols = {f"{SYNTHETIC_PREFIX}{s}": price for s, price in DEFAULT_SYMBOLS.items()}
    for symbol in symbols:
        existing = marketstate.get_symbol(symbol)
        marketstate.upsert_symbol(
            symbol, name=f"SYNTHETIC {symbol.removeprefix(SYNTHETIC_PREFIX)} (seeded random walk, not market data)",
            asset_class="equity", source="synthetic", synthetic=True,
            datasets=dict(existing.datasets or {}) if existing else {}, has_ohlc=True, has_volume=True,
        )  # fmt: skip
    if start_ns is None:  # the session ends a minute ago: the normalizer judges "future" by the wall clock
        start_ns = (time.time_ns() // 60_000_000_000 - minutes - 1) * 60_000_000_000
    feed = synthetic_feed(
        ticks, seed=seed, symbols=symbols, malformed_share=malformed, duplicate_share=duplicates,
        start_ns=start_ns, duration_ns=minutes * 60 * 1_000_000_000,
    )  # fmt: skip
    stream = platform.outputs["MarketDataStreamName"]
    dlq = platform.outputs["MarketDataDLQUrl"]
    dlq_before = _queue_depth(sqs, dlq)
    partition_keys = [_partition_key(record) for record in feed.records]
    with _progress(console) as progress:
        task = progress.add_task("synthetic ticks -> Kinesis", total=len(feed.records))
        for start in range(0, len(feed.records), PUT_RECORDS_MAX):
            chunk = [
                {"Data": feed.records[i].encode(), "PartitionKey": partition_keys[i]}
                for i in range(start, min(start + PUT_RECORDS_MAX, len(feed.records)))
            ]
            _put_all(kinesis, stream, chunk)
            progress.update(task, advance=len(chunk))
        # End of session: every bar may close (the watermark passes the last bar's end + lateness).
        close_ns = int(feed.truth.ts.max()) + (lateness_s + 60) * 1_000_000_000
        controls = [
            {"Data": json.dumps({"control": "session_close", "symbol": s, "ts_ns": close_ns}).encode(),
             "PartitionKey": s}
            for s in symbols
        ]  # fmt: skip
        _put_all(kinesis, stream, controls)
        wait = progress.add_task("normalizer closing bars", total=len(symbols))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = sum(marketstate.get_latest(s).watermark_ns >= close_ns for s in symbols)
            progress.update(wait, completed=done)
            if done == len(symbols) and not any(
                next(iter(marketstate.open_bars_of(s)), None) for s in symbols
            ):
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"The normalizer did not finish within {timeout_s:.0f} s")
    expected_rejects = int(np.sum((feed.expected != "") & (feed.expected != "duplicate")))
    return {
        "records": len(feed.records),
        "valid_ticks": len(feed.truth),
        "expected_rejects": expected_rejects,
        "rejects": _queue_depth(sqs, dlq) - dlq_before,
        "symbols": len(symbols),
        "synthetic": True,
    }


def _partition_key(record: str) -> str:
    try:
        obj = json.loads(record)
        return str(next(obj[k] for k in ("symbol", "sym", "S") if k in obj))[:256] or "unknown"
    except (ValueError, StopIteration, TypeError, AttributeError):
        return "malformed"  # still delivered: the normalizer rejects it with its reason


def _put_all(kinesis: Any, stream: str, records: list[dict[str, Any]]) -> None:
    pending = records
    for attempt in range(8):
        result = kinesis.put_records(StreamName=stream, Records=pending)
        if not result.get("FailedRecordCount"):
            return
        pending = [r for r, res in zip(pending, result["Records"], strict=True) if res.get("ErrorCode")]
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError(f"{len(pending)} records could not be put on {stream}")


def _queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def load_demo_data(cloud: Any, console: Console) -> None:
    """What `make up` loads: the real daily data sets (SP500, NASDAQ, 20 stocks)."""
    outputs = next(s.outputs for name, s in cloud.stacks.items() if name.startswith("trade2026-"))
    started = time.monotonic()
    totals = load_daily_sources(Platform(outputs), list(DAILY_SOURCES), console)
    console.print(
        f"Loaded {totals['bars']:,} real daily bars of {totals['symbols']} symbols "
        f"in {time.monotonic() - started:.1f} s (arch: S&P 500, NASDAQ; skfolio: 20 stocks)."
    )
