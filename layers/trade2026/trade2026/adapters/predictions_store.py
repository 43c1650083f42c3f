"""Batch predictions in the lake: Parquet, partitioned by model id and symbol, registered in Glue.

    s3://<lake>/predictions/model_id=<model id>/symbol=<S>/<batch id>.parquet
        ts (bar start, int64 ns), probability (class 1), bet_size (meta models; NaN otherwise), batch_id

Glue table `predictions` (partition keys model_id, symbol). One file per batch job: two jobs never write the
same object, and rows of one model, symbol and bar are the same in every job that scored them (a registered
model and the point-in-time feature rows do not change), so readers may keep any one of them.
pyarrow is imported on first use.
"""

from __future__ import annotations

import io

import numpy as np

from trade2026.adapters import artifacts
from trade2026.adapters.glue_catalog import register_parquet_table

PREFIX = "predictions"
TABLE = "predictions"
COLUMNS = (("ts", "bigint"), ("probability", "double"), ("bet_size", "double"), ("batch_id", "string"))


def partition_prefix(model_id: str, symbol: str) -> str:
    return f"{PREFIX}/model_id={model_id}/symbol={symbol}/"


def write_predictions(
    bucket: str,
    model_id: str,
    symbol: str,
    batch_id: str,
    ts: np.ndarray,
    probability: np.ndarray,
    bet_size: np.ndarray,
) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "ts": pa.array(np.asarray(ts, dtype=np.int64), pa.int64()),
            "probability": pa.array(np.asarray(probability, dtype=np.float64), pa.float64()),
            "bet_size": pa.array(np.asarray(bet_size, dtype=np.float64), pa.float64()),
            "batch_id": pa.array([batch_id] * len(ts), pa.string()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return artifacts.put(bucket, f"{partition_prefix(model_id, symbol)}{batch_id}.parquet", buffer.getvalue())


def read_predictions(bucket: str, model_id: str, symbol: str) -> dict[str, np.ndarray]:
    """Every stored prediction of the model for the symbol, by ts (one row per bar)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = sorted(artifacts.list_keys(bucket, partition_prefix(model_id, symbol)))
    tables = [pq.read_table(io.BytesIO(artifacts.get(f"s3://{bucket}/{key}"))) for key in keys]
    if not tables:
        return {name: np.array([]) for name, _ in COLUMNS}
    table = pa.concat_tables(tables)
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name, _ in COLUMNS}
    _, first = np.unique(columns["ts"], return_index=True)
    return {name: values[first] for name, values in columns.items()}


def register(database: str, bucket: str, partitions: list[tuple[str, str]]) -> str:
    """The `predictions` table and its (model_id, symbol) partitions; returns "<database>.<table>"."""
    register_parquet_table(
        database,
        TABLE,
        f"s3://{bucket}/{PREFIX}/",
        COLUMNS,
        ["model_id", "symbol"],
        [list(p) for p in partitions],
    )
    return f"{database}.{TABLE}"
