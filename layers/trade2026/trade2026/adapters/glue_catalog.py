"""Hive-partitioned Parquet tables in the Glue catalog (so Athena can query what the pipeline writes).

awswrangler registers the market data tables as it writes them; the ML tables (offline features, batch
predictions) are written with pyarrow alone, and registered here with the same table shape: EXTERNAL_TABLE,
classification parquet, one S3 prefix per partition (`<location><key>=<value>/...`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trade2026.adapters.aws import client

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
BATCH = 100  # BatchCreatePartition's limit


def register_parquet_table(
    database: str,
    table: str,
    location: str,
    columns: Sequence[tuple[str, str]],
    partition_keys: Sequence[str],
    partitions: Sequence[Sequence[str]],
) -> None:
    """Create (or update) the table and add the partitions; partitions that exist already are left as they are.

    `location` ends with "/"; each partition's values are in `partition_keys` order.
    """
    glue = client("glue")
    storage: dict[str, Any] = {
        "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
        "Location": location,
        "InputFormat": PARQUET_INPUT,
        "OutputFormat": PARQUET_OUTPUT,
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
    }
    table_input = {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in partition_keys],
        "StorageDescriptor": storage,
    }
    try:
        glue.create_table(DatabaseName=database, TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=database, TableInput=table_input)
    inputs = [
        {
            "Values": list(values),
            "StorageDescriptor": {
                **storage,
                "Location": location
                + "".join(f"{key}={value}/" for key, value in zip(partition_keys, values, strict=True)),
            },
        }
        for values in partitions
    ]
    for start in range(0, len(inputs), BATCH):  # existing partitions come back as per-item errors: fine
        glue.batch_create_partition(
            DatabaseName=database, TableName=table, PartitionInputList=inputs[start : start + BATCH]
        )
