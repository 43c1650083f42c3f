"""Lake reads of one symbol-year: trade2026's reader (Lake.read_bars, pyarrow only) vs awswrangler.s3.read_parquet.

The lake lives in the local cloud's S3 (moto on 127.0.0.1, started fresh with `trade2026 up --no-demo-data`):
- daily bars: the real S&P 500 (arch), loaded with the loader (`trade2026 ingest --source sp500`'s function);
  the year 2018 is one partition, one Parquet file (symbol=SP500/year=2018);
- minute bars: one SYNTHETIC year of SYN.AAPL (2024, 390 one-minute bars per weekday, aggregated from seeded
  synthetic trades) written with the lake writer the normalizer uses, one partition and file per day.
Both readers read the same objects and must return the same bars. Each case: one untimed warm-up read per
reader (imports, connections), then the runs alternate between the readers; medians and min-max.

    .venv/bin/python benchmarks/bench_lake_read.py [--runs 5] [--write]
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_ingest_e2e import LocalCloud
from common import bench_arguments, markdown_table, median, millis, provenance, ratio, spread, update_section

MINUTE_SYMBOL = "SYN.AAPL"
MINUTE_YEAR = 2024
DAILY_SYMBOL, DAILY_YEAR = "SP500", 2018
TRADES_PER_DAY = 2_000  # about 5 per minute: practically every minute of the session has a bar
NS_PER_MINUTE = 60_000_000_000


@dataclass
class Case:
    label: str
    dataset: str
    symbol: str
    year: int
    prefix: str  # S3 prefix of the partition(s): what the peer reads

    @property
    def bounds_ns(self) -> tuple[int, int]:
        start = int(np.datetime64(f"{self.year}-01-01", "ns").astype(np.int64))
        end = int(np.datetime64(f"{self.year + 1}-01-01", "ns").astype(np.int64)) - 1
        return start, end


# ---------------------------------------------------------------------------- data
def synthetic_minute_year(symbol: str, year: int) -> dict[str, np.ndarray]:
    """SYNTHETIC minute bars of every weekday of the year (09:30-16:00 New York as 14:30-21:00 UTC)."""
    from trade2026.domain.marketdata import aggregate_trades, concat_bars
    from trade2026.domain.marketdata.synthetic import synthetic_feed

    days = np.arange(f"{year}-01-01", f"{year + 1}-01-01", dtype="datetime64[D]")
    weekdays = days[np.is_busday(days)]
    price, parts = 185.0, []
    for i, day in enumerate(weekdays):
        open_ns = int(day.astype("datetime64[ns]").astype(np.int64)) + (14 * 60 + 30) * NS_PER_MINUTE
        feed = synthetic_feed(
            TRADES_PER_DAY, seed=i, symbols={symbol: price}, start_ns=open_ns,
            duration_ns=390 * NS_PER_MINUTE, quote_share=0.0,
        )  # fmt: skip
        bars = aggregate_trades(feed.truth)
        parts.append(bars)
        price = float(bars.close[-1])  # the next session starts where this one closed
    return concat_bars(parts).to_dict()


def load_lake(state_dir: Path) -> tuple[Any, list[Case], dict[str, float]]:
    """Point this process at the cloud, load both datasets; returns the Lake, the cases and load times."""
    import json

    from rich.console import Console

    from localcloud import loader
    from localcloud.cloud import use_fake_aws

    state = json.loads((state_dir / "state.json").read_text())
    use_fake_aws(state["aws_endpoint"])
    outputs = next(s["outputs"] for name, s in state["stacks"].items() if name.startswith("trade2026-"))
    platform = loader.Platform(outputs)
    started = time.perf_counter()
    loader.load_daily_sources(platform, ["sp500"], Console(file=io.StringIO()))
    daily_s = time.perf_counter() - started
    minute_bars = synthetic_minute_year(MINUTE_SYMBOL, MINUTE_YEAR)
    started = time.perf_counter()
    platform.lake.write_many("bars_1m", {MINUTE_SYMBOL: minute_bars})
    minute_s = time.perf_counter() - started
    base = f"s3://{platform.lake.bucket}/marketdata"
    cases = [
        Case("daily bars, 1 year", "bars_1d", DAILY_SYMBOL, DAILY_YEAR,
             f"{base}/bars_1d/symbol={DAILY_SYMBOL}/year={DAILY_YEAR}/"),
        Case("minute bars, 1 year (SYNTHETIC)", "bars_1m", MINUTE_SYMBOL, MINUTE_YEAR,
             f"{base}/bars_1m/symbol={MINUTE_SYMBOL}/"),
    ]  # fmt: skip
    return platform.lake, cases, {"daily": daily_s, "minute": minute_s}


# ---------------------------------------------------------------------------- the two readers
def ours(lake: Any, case: Case) -> tuple[np.ndarray, np.ndarray]:
    start, end = case.bounds_ns
    columns = lake.read_bars(case.dataset, case.symbol, start, end)
    return np.asarray(columns["ts"], dtype=np.int64), np.asarray(columns["close"], dtype=np.float64)


def peer(session: Any, case: Case) -> tuple[np.ndarray, np.ndarray]:
    import awswrangler as wr

    frame = wr.s3.read_parquet(path=case.prefix, path_suffix=".parquet", boto3_session=session)
    frame = frame.sort_values("ts", kind="stable")
    ts = frame["ts"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    return ts, frame["close"].to_numpy(dtype=np.float64)


def count_files(session: Any, case: Case) -> int:
    bucket, _, prefix = case.prefix.removeprefix("s3://").partition("/")
    pages = session.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(obj["Key"].endswith(".parquet") for page in pages for obj in page.get("Contents", []))


def measure(read: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    started = time.perf_counter()
    value = read()
    return value, time.perf_counter() - started


def run_case(lake: Any, session: Any, case: Case, runs: int) -> dict[str, Any]:
    readers = {"ours": lambda: ours(lake, case), "peer": lambda: peer(session, case)}
    results = {name: read() for name, read in readers.items()}  # warm-up, untimed
    same = np.array_equal(results["ours"][0], results["peer"][0]) and np.array_equal(
        results["ours"][1], results["peer"][1]
    )
    if not same or len(results["ours"][0]) == 0:
        raise AssertionError(f"{case.label}: the readers disagree or read nothing")
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(runs):
        for name, read in readers.items():
            times[name].append(measure(read)[1])
    return {"rows": len(results["ours"][0]), "files": count_files(session, case), "times": times}


# ---------------------------------------------------------------------------- report
def render(cases: list[Case], results: list[dict[str, Any]], load_s: dict[str, float], runs: int) -> str:
    import awswrangler as wr
    import pyarrow as pa

    rows = []
    for case, result in zip(cases, results, strict=True):
        ours_s, peer_s = median(result["times"]["ours"]), median(result["times"]["peer"])
        rows.append(
            [
                case.label, f"{case.symbol} {case.year}", f"{result['files']:,}", f"{result['rows']:,}",
                f"{millis(ours_s)} ms", f"{millis(peer_s)} ms", ratio(peer_s, ours_s),
                f"{spread(result['times']['ours'], 1000, 0)} / {spread(result['times']['peer'], 1000, 0)}",
            ]
        )  # fmt: skip
    headers = [
        "read", "partition", "Parquet files", "bars", "trade2026 Lake.read_bars (median)",
        "awswrangler.s3.read_parquet (median)", "awswrangler/trade2026", "min-max ms (ours / awswrangler)",
    ]  # fmt: skip
    summary = (
        f"Both readers read the same objects from the local cloud's S3 (moto on 127.0.0.1) and return the same "
        f"bars (checked). trade2026: S3 listing + one GET per file + pyarrow, duplicates dropped, sorted; "
        f"awswrangler {wr.__version__}: `wr.s3.read_parquet(path=<partition prefix>)` into pandas, threads on. "
        f"pyarrow {pa.__version__}. Medians of {runs} alternating runs after one warm-up read each. Loading took "
        f"{load_s['daily']:.1f} s (S&P 500 daily 1999-2018 through the loader) and {load_s['minute']:.1f} s "
        f"(the SYNTHETIC minute year through the lake writer)."
    )
    table = markdown_table(headers, rows)
    return f"### Lake reads: one symbol-year\n\n{provenance()}\n\n{summary}\n\n{table}\n"


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        cloud = LocalCloud(Path(tmp))
        try:
            import boto3

            lake, cases, load_s = load_lake(Path(tmp))
            session = boto3.session.Session()
            results = []
            for case in cases:
                results.append(run_case(lake, session, case, args.runs))
                times = results[-1]["times"]
                print(
                    f"{case.label}: trade2026 {median(times['ours']):.3f} s, "
                    f"awswrangler {median(times['peer']):.3f} s",
                    flush=True,
                )
        finally:
            cloud.stop()
    report = render(cases, results, load_s, args.runs)
    print(report)
    if args.write:
        update_section("lake_read", report)


if __name__ == "__main__":
    main()
