"""Backtests and sweeps: records in DynamoDB (PynamoDB), results in the lake (S3).

Backtests table items:
    pk = "BT#<id>",    sk = "META"        a single backtest: owner, request, summary metrics, result key
    pk = "SWEEP#<id>", sk = "META"        a sweep: owner, request, status, chunk counts, summary, PBO
    pk = "SWEEP#<id>", sk = "CHUNK#<n>"   written once per finished chunk (conditional): progress never double counts
The `owner-index` GSI (owner, created_at) lists a user's runs.
Lake: s3://<lake>/research/backtests/<id>.json, .../sweeps/<id>/chunk-<n>.npz (returns) and chunk-<n>.json (metrics).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from trade2026.adapters.aws import client

PREFIX = "research"


class OwnerIndex(GlobalSecondaryIndex["RunModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RunModel(Model):
    class Meta:
        table_name = "backtests"  # bound at start-up by bind_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    kind = UnicodeAttribute()  # backtest | sweep
    owner = UnicodeAttribute()
    created_at = UnicodeAttribute()
    status = UnicodeAttribute(default="SUCCEEDED")  # sweeps: PENDING | RUNNING | SUCCEEDED | FAILED
    request = JSONAttribute()
    summary = JSONAttribute(null=True)
    chunks_total = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    owner_index = OwnerIndex()


class ChunkModel(Model):
    class Meta:
        table_name = "backtests"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    runs = NumberAttribute()


def bind_table(name: str) -> None:
    RunModel.Meta.table_name = name
    ChunkModel.Meta.table_name = name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def create_run(kind: str, run_id: str, owner: str, request: dict[str, Any], **fields: Any) -> RunModel:
    prefix = "BT" if kind == "backtest" else "SWEEP"
    run = RunModel(
        f"{prefix}#{run_id}", "META", kind=kind, owner=owner, created_at=_now(), request=request, **fields
    )
    run.save(
        condition=RunModel.pk.does_not_exist()
    )  # ids are fresh uuids: a clash is a bug, not an overwrite
    return run


def get_run(kind: str, run_id: str) -> RunModel | None:
    prefix = "BT" if kind == "backtest" else "SWEEP"
    try:
        return RunModel.get(f"{prefix}#{run_id}", "META")
    except RunModel.DoesNotExist:
        return None


def list_runs(owner: str, limit: int = 50) -> Iterator[RunModel]:
    return RunModel.owner_index.query(owner, scan_index_forward=False, limit=limit)


def set_status(run: RunModel, status: str, **fields: Any) -> None:
    actions: list[Any] = [RunModel.status.set(status)]
    actions += [getattr(RunModel, name).set(value) for name, value in fields.items()]
    run.update(actions=actions)


def record_chunk_done(sweep_id: str, chunk: int, runs: int) -> bool:
    """Count a finished chunk once, however often its task is retried (the chunk's marker and the count are one
    transaction, so a worker killed in between leaves neither); False when it was already counted."""
    marker = ChunkModel(f"SWEEP#{sweep_id}", f"CHUNK#{chunk:06d}", runs=runs)
    try:
        with TransactWrite(connection=Connection()) as transaction:
            transaction.save(marker, condition=ChunkModel.pk.does_not_exist())
            transaction.update(RunModel(f"SWEEP#{sweep_id}", "META"), [RunModel.chunks_done.add(1)])
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            return False
        raise
    return True


# ---------------------------------------------------------------------- lake objects
def put_json(bucket: str, key: str, data: Any) -> None:
    body = json.dumps(data, separators=(",", ":"), default=_json_default).encode()
    client("s3").put_object(Bucket=bucket, Key=f"{PREFIX}/{key}", Body=body, ContentType="application/json")


def get_json(bucket: str, key: str) -> Any:
    return json.loads(client("s3").get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")["Body"].read())


def put_arrays(bucket: str, key: str, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    client("s3").put_object(Bucket=bucket, Key=f"{PREFIX}/{key}", Body=buffer.getvalue())


def get_arrays(bucket: str, key: str) -> dict[str, np.ndarray]:
    body = client("s3").get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")["Body"].read()
    with np.load(io.BytesIO(body), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
