"""Feature store: online (DynamoDB, the latest vector per feature set and symbol) and offline (Parquet in
the lake, registered in Glue).

FeatureStore table items: pk = "<set>:v<version>#<symbol>"; ts (bar start, ns), values (column -> number or
null), event_id. A write only replaces an older bar (conditional), so redelivered or out-of-order BarClosed
events never move the store backwards.

Offline: s3://<lake>/features/<set>/v<version>/symbol=<S>/features.parquet (ts + one column per feature),
Glue table `features_<set>_v<version>` partitioned by symbol. pyarrow is imported on first use.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence

import numpy as np
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from trade2026.adapters.aws import client
from trade2026.adapters.glue_catalog import register_parquet_table


class OnlineFeatures(Model):
    class Meta:
        table_name = "feature-store"  # bound at start-up by bind_table()

    pk = UnicodeAttribute(hash_key=True)
    feature_set = UnicodeAttribute()
    symbol = UnicodeAttribute()
    ts = NumberAttribute()
    values = JSONAttribute()
    event_id = UnicodeAttribute(null=True)
    updated_at = NumberAttribute()


def bind_table(name: str) -> None:
    OnlineFeatures.Meta.table_name = name


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def put_online(
    set_key: str, symbol: str, ts: int, columns: list[str], row: np.ndarray, event_id: str | None
) -> bool:
    """Store the vector unless a newer bar is already stored; False when skipped as stale."""
    item = OnlineFeatures(
        f"{set_key}#{symbol}", feature_set=set_key, symbol=symbol, ts=int(ts),
        values={name: _number(float(v)) for name, v in zip(columns, row, strict=True)},
        event_id=event_id, updated_at=int(time.time()),
    )  # fmt: skip
    try:
        item.save(condition=OnlineFeatures.pk.does_not_exist() | (OnlineFeatures.ts <= int(ts)))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_online(set_key: str, symbol: str) -> OnlineFeatures | None:
    try:
        return OnlineFeatures.get(f"{set_key}#{symbol}")
    except OnlineFeatures.DoesNotExist:
        return None


def offline_prefix(name: str, version: int) -> str:
    return f"features/{name}/v{version}"


def write_offline(bucket: str, name: str, version: int, symbol: str, ts: np.ndarray, columns: list[str],
                  matrix: np.ndarray) -> str:  # fmt: skip
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"ts": pa.array(ts, pa.int64()), **{c: matrix[:, i] for i, c in enumerate(columns)}})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    key = f"{offline_prefix(name, version)}/symbol={symbol}/features.parquet"
    client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return f"s3://{bucket}/{key}"


def read_offline(bucket: str, name: str, version: int, symbol: str) -> dict[str, np.ndarray] | None:
    import pyarrow.parquet as pq

    key = f"{offline_prefix(name, version)}/symbol={symbol}/features.parquet"
    s3 = client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    table = pq.read_table(io.BytesIO(body))
    return {column: table.column(column).to_numpy() for column in table.column_names}


def read_offline_rows(
    bucket: str, name: str, version: int, symbol: str, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(ts, (T, F) matrix in `columns` order) of a symbol's stored rows; None when there are none, or when the
    stored file lacks one of the columns (written by other code: to be materialized again)."""
    stored = read_offline(bucket, name, version, symbol)
    if stored is None or "ts" not in stored or any(column not in stored for column in columns):
        return None
    ts = np.asarray(stored["ts"], dtype=np.int64)
    matrix = np.empty((len(ts), len(columns)), dtype=np.float64)
    for index, column in enumerate(columns):
        matrix[:, index] = np.asarray(stored[column], dtype=np.float64)
    return ts, matrix


def register_offline(database: str, bucket: str, name: str, version: int, columns: list[str],
                     symbols: list[str]) -> None:  # fmt: skip
    """Glue table `features_<set>_v<version>` (and its symbol partitions) over the offline store."""
    register_parquet_table(
        database,
        f"features_{name}_v{version}",
        f"s3://{bucket}/{offline_prefix(name, version)}/",
        [("ts", "bigint"), *((column, "double") for column in columns)],
        ["symbol"],
        [[symbol] for symbol in symbols],
    )
