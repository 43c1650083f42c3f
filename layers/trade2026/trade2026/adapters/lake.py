"""The Parquet lake on S3, registered in the Glue catalog.

Layout (Hive partitions, one Glue table per dataset):
    s3://<lake>/marketdata/bars_1d/symbol=SP500/year=2018/<file>.parquet
    s3://<lake>/marketdata/bars_1m/symbol=AAPL/date=2026-11-25/<file>.parquet

Writes go through awswrangler (pandas) and happen in the loader and the normalizer. Reads for the API use
pyarrow alone (no pandas), imported on first use so that the market data function starts fast.
Readers drop duplicate bars (same symbol and ts, last written wins): a retried write can never double a bar.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np

from trade2026.adapters.aws import client

PREFIX = "marketdata"
BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "vwap", "notional", "trades", "adj_close")
_FROM_BARS = {"start": "ts", "count": "trades"}  # Bars.to_dict() name -> lake column
DATASETS = {"bars_1d": "year", "bars_1m": "date"}  # dataset -> its time partition column
NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def _session() -> Any:
    # One session for every awswrangler call: a new one per call re-reads botocore's service models.
    import boto3

    return boto3.session.Session()


@dataclass(frozen=True)
class Lake:
    bucket: str
    database: str

    # ------------------------------------------------------------------ writes (awswrangler)
    def write_bars(self, dataset: str, symbol: str, bars: Mapping[str, np.ndarray], *, replace: bool) -> int:
        """Write one symbol's bars (``Bars.to_dict()``); ``replace`` overwrites the partitions written."""
        return self.write_many(dataset, {symbol: bars}, replace=replace)

    def write_many(self, dataset: str, bars_by_symbol: Mapping[str, Mapping[str, np.ndarray]], *,
                   replace: bool = False) -> int:  # fmt: skip
        """Write several symbols' bars in one call (one Parquet file per partition)."""
        import awswrangler as wr
        import pandas as pd

        if dataset not in DATASETS:
            raise ValueError(f"Unknown dataset {dataset!r}; known: {sorted(DATASETS)}")
        frames = []
        for symbol, bars in bars_by_symbol.items():
            renamed = {_FROM_BARS.get(name, name): values for name, values in bars.items()}
            frame = pd.DataFrame({name: renamed[name] for name in BAR_COLUMNS if name in renamed})
            frame["symbol"] = symbol
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if frame.empty:
            return 0
        frame["ts"] = pd.to_datetime(frame["ts"], unit="ns", utc=True)
        ts = frame["ts"].dt
        frame[DATASETS[dataset]] = ts.year.astype(str) if dataset == "bars_1d" else ts.strftime("%Y-%m-%d")
        wr.s3.to_parquet(
            df=frame,
            path=f"s3://{self.bucket}/{PREFIX}/{dataset}/",
            dataset=True,
            partition_cols=["symbol", DATASETS[dataset]],
            mode="overwrite_partitions" if replace else "append",
            database=self.database,
            table=dataset,
            compression="snappy",
            boto3_session=_session(),
        )
        return len(frame)

    def replace_symbol(self, dataset: str, symbol: str, bars: Mapping[str, np.ndarray]) -> int:
        """Make ``bars`` the symbol's whole dataset. The new files are written first, then every older file
        still there (partitions the new data does not cover) is deleted: readers never see the symbol empty."""
        before = set(self._symbol_keys(dataset, symbol))
        written = self.write_bars(dataset, symbol, bars, replace=True)
        for key in sorted(before & set(self._symbol_keys(dataset, symbol))):
            client("s3").delete_object(Bucket=self.bucket, Key=key)
        return written

    def _symbol_keys(self, dataset: str, symbol: str) -> list[str]:
        prefix = f"{PREFIX}/{dataset}/symbol={symbol}/"
        pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    # ------------------------------------------------------------------ reads (pyarrow only)
    def read_bars(self, dataset: str, symbol: str, start_ns: int, end_ns: int) -> dict[str, np.ndarray]:
        """Bars of ``symbol`` with start_ns <= ts <= end_ns, sorted by ts, duplicates dropped."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [
            pq.read_table(io.BytesIO(self._get(key)))
            for key in self._partition_keys(dataset, symbol, start_ns, end_ns)
        ]
        tables = [t.select([c for c in BAR_COLUMNS if c in t.column_names]) for t in tables if t.num_rows]
        if not tables:
            return {name: np.empty(0) for name in BAR_COLUMNS}
        table = pa.concat_tables(tables, promote_options="default")
        columns = {name: table.column(name).to_numpy() for name in table.column_names}
        ts = columns["ts"].astype("datetime64[ns]").astype(np.int64)
        columns["ts"] = ts
        # Last written wins for a repeated ts: files are read in write order, so keep the last occurrence.
        order = np.lexsort((np.arange(len(ts)), ts))
        ts_sorted = ts[order]
        keep = np.append(ts_sorted[1:] != ts_sorted[:-1], True)
        in_range = (ts_sorted >= start_ns) & (ts_sorted <= end_ns)
        chosen = order[keep & in_range]
        return {name: np.asarray(values)[chosen] for name, values in columns.items()}

    def _partition_keys(self, dataset: str, symbol: str, start_ns: int, end_ns: int) -> list[str]:
        part = DATASETS[dataset]
        first, last = (_EPOCH + timedelta(microseconds=ns // 1000) for ns in (start_ns, end_ns))
        low, high = (
            (str(first.year), str(last.year))
            if part == "year"
            else (first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d"))
        )
        prefix = f"{PREFIX}/{dataset}/symbol={symbol}/"
        found: list[tuple[Any, str]] = []
        for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                value = obj["Key"][len(prefix) :].split("/", 1)[0].partition("=")[2]
                if obj["Key"].endswith(".parquet") and low <= value <= high:
                    found.append((obj["LastModified"], obj["Key"]))
        return [key for _modified, key in sorted(found)]

    def _get(self, key: str) -> bytes:
        return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())
