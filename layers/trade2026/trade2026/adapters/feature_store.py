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
from typing import Any

import numpy as np
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from trade2026.adapters.aws import client


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
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except client("s3").exceptions.NoSuchKey:
        return None
    table = pq.read_table(io.BytesIO(body))
    return {column: table.column(column).to_numpy() for column in table.column_names}


def register_offline(database: str, bucket: str, name: str, version: int, columns: list[str],
                     symbols: list[str]) -> None:  # fmt: skip
    """Glue table (and its symbol partitions) over the offline store, so Athena can query it."""
    glue = client("glue")
    table = f"features_{name}_v{version}"
    location = f"s3://{bucket}/{offline_prefix(name, version)}/"
    serde = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}
    storage: dict[str, Any] = {
        "Columns": [{"Name": "ts", "Type": "bigint"}] + [{"Name": c, "Type": "double"} for c in columns],
        "Location": location,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": serde,
    }
    table_input = {
        "Name": table, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "symbol", "Type": "string"}], "StorageDescriptor": storage,
    }  # fmt: skip
    try:
        glue.create_table(DatabaseName=database, TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=database, TableInput=table_input)
    partitions = [
        {"Values": [symbol], "StorageDescriptor": {**storage, "Location": f"{location}symbol={symbol}/"}}
        for symbol in symbols
    ]
    for start in range(0, len(partitions), 100):
        glue.batch_create_partition(
            DatabaseName=database, TableName=table, PartitionInputList=partitions[start : start + 100]
        )
