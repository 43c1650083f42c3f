"""Batch scoring into the lake: a registered model over symbols x dates, through a SageMaker batch transform.

POST /v1/models/{id}/batch-predictions   validate (400/404/409 before anything starts) -> job record ->
                                         ml_batch_predict state machine; GET .../{batch_id} follows it
prepare    each symbol's rows of the model's feature set from the offline store (materialized from the
           lake first where the store lacks bars), the dates asked for -> CSV input files (and the rows'
           bar times beside them); the registered version as a SageMaker Model
transform  CreateTransformJob (the model's own inference handlers score every line; xgboost runs in the
           SageMaker container, or the local cloud's executor, never in Lambda), DescribeTransformJob poll
collect    each output line is the probability of its input line -> Parquet in the lake,
           s3://<lake>/predictions/model_id=<id>/symbol=<S>/<batch id>.parquet, Glue table `predictions`
finish     SUCCEEDED, or FAILED with the cause
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import artifacts, predictions_store, sagemaker_jobs, workflows
from trade2026.adapters import model_registry as registry
from trade2026.domain.ml import metalabel
from trade2026.domain.ml.features import FeatureSet, as_of_join, get_feature_set
from trade2026.errors import BadRequest, Conflict, NotFound
from trade2026.services.ml_common import MlSettings, batch_prefix, iso_day, sagemaker_model_name
from trade2026.services.ml_dataset import BarReader, OfflineFeatures
from trade2026.services.ml_training import ensure_sagemaker_model, error_cause

MAX_PAYLOAD_MB = 6


class BatchPredictionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=1, max_length=100)
    start: str | None = Field(None, description="first bar to score, YYYY-MM-DD (default: the first one)")
    end: str | None = Field(None, description="last bar to score, YYYY-MM-DD (default: the latest one)")


class TransformJobFailedError(Exception):
    """The batch transform job ended Failed or Stopped (ASL: caught, the job is marked FAILED with this)."""


class BatchOutputError(Exception):
    """The transform's output does not match its input (ASL: caught, the job is marked FAILED with this)."""


def _window(request: BatchPredictionRequest) -> tuple[int, int]:
    from trade2026.services import marketdata_query as mq

    try:
        start_ns = mq.parse_time(request.start, end_of_day=False, default=mq.EARLIEST_NS)
        end_ns = mq.parse_time(request.end, end_of_day=True, default=mq.LATEST_NS)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if start_ns > end_ns:
        raise BadRequest(f"empty window: start {request.start} is after end {request.end}")
    return start_ns, end_ns


def model_feature_set(model: registry.RegistryItem) -> FeatureSet:
    """The model's feature set, at the version it was trained on (409 when that version is gone)."""
    lineage = model.lineage or {}
    name, _, version = str(lineage.get("feature_set", "")).partition(":v")
    try:
        feature_set = get_feature_set(name)
    except KeyError:
        raise Conflict(f"model {model.model_id} was trained on feature set {name!r}, which is gone") from None
    columns = list(lineage.get("columns") or [])
    if str(feature_set.version) != version or columns[: len(feature_set.columns)] != list(
        feature_set.columns
    ):
        raise Conflict(
            f"model {model.model_id} was trained on {lineage.get('feature_set')}; the feature set is now "
            f"{feature_set.key} with other columns"
        )
    return feature_set


def _model_or_404(model_id: str) -> registry.RegistryItem:
    model = registry.get_model(model_id)
    if model is None:
        raise NotFound(f"No model {model_id}")
    return model


def start_batch(
    model_id: str, request: BatchPredictionRequest, owner: str, settings: MlSettings
) -> registry.RegistryItem:
    """Validate what can be checked now (400/404/409 with the reason), record the job, start its execution."""
    from trade2026.adapters.marketstate import get_symbol

    model = _model_or_404(model_id)
    model_feature_set(model)
    if not (model.artifacts or {}).get("model_data") or not (model.artifacts or {}).get("code_uri"):
        raise Conflict(f"model {model_id} has no artifacts to score with")
    _window(request)
    unknown = [symbol for symbol in dict.fromkeys(request.symbols) if get_symbol(symbol) is None]
    if unknown:
        raise BadRequest(
            f"Unknown symbol(s) {', '.join(unknown)}: GET /v1/marketdata/symbols lists the known ones"
        )
    batch_id = uuid.uuid4().hex
    job = registry.create_batch(batch_id, owner, model_id, request.model_dump())
    workflows.start(settings.batch_state_machine_arn, batch_id, {"batch_id": batch_id})
    return job


def _job_or_fail(batch_id: str) -> registry.RegistryItem:
    job = registry.get_batch(batch_id)
    if job is None:
        raise NotFound(f"No batch prediction job {batch_id}")
    return job


def transform_job_name(batch_id: str) -> str:
    return f"ml-batch-{batch_id[:24]}"


def _csv(x: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, x, delimiter=",", fmt="%.17g")  # exact float64; "nan" is a missing feature
    return buffer.getvalue().encode()


def _symbol_rows(
    symbol: str, store: OfflineFeatures, read: BarReader, window: tuple[int, int], meta: dict[str, Any] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ts, features, primary side) of the symbol's rows in the window; meta models get the side column."""
    feature_ts, rows = store(symbol)
    keep = (feature_ts >= window[0]) & (feature_ts <= window[1])
    ts, x = feature_ts[keep], rows[keep]
    side = np.full(len(ts), np.nan)
    if meta is not None:  # the primary model's side, from the closes up to each bar (point in time)
        bars = read(symbol)
        close_side = metalabel.crossover_side(
            bars["close"], int(meta["primary_fast"]), int(meta["primary_slow"])
        )
        side = as_of_join(np.asarray(bars["ts"], dtype=np.int64), close_side[:, None], ts)[:, 0]
        x = np.column_stack([x, side])
    return ts, x, side


def prepare_batch(batch_id: str, settings: MlSettings, read: BarReader) -> dict[str, Any]:
    """Input files for the transform job, one per symbol, and the SageMaker Model to run."""
    job = _job_or_fail(batch_id)
    request = BatchPredictionRequest.model_validate(job.request)
    registry.update_batch(batch_id, status="RUNNING", step="preparing input")
    model = _model_or_404(str(job.model_id))
    feature_set = model_feature_set(model)
    label = (model.lineage or {}).get("label") or {}
    meta = label if label.get("kind") == "meta" else None
    store = OfflineFeatures(settings.lake_bucket, feature_set, read)
    window = _window(request)
    bucket, prefix = settings.artifacts_bucket, batch_prefix(batch_id)
    parts: list[dict[str, Any]] = []
    keys: dict[str, Any] = {}  # ts_<i>, side_<i> arrays (Any: numpy's stubs type savez's **kwds oddly)
    first, last = None, None
    for symbol in dict.fromkeys(request.symbols):
        ts, x, side = _symbol_rows(symbol, store, read, window, meta)
        parts.append({"symbol": symbol, "rows": len(ts)})
        if len(ts) == 0:
            continue
        index = sum("part" in part for part in parts)
        artifacts.put(bucket, f"{prefix}/input/part-{index:04d}.csv", _csv(x))
        keys |= {f"ts_{index}": ts, f"side_{index}": side}
        parts[-1]["part"] = index
        first = ts[0] if first is None else min(first, ts[0])
        last = ts[-1] if last is None else max(last, ts[-1])
    if not keys:
        raise BadRequest(
            f"no feature rows to score between {request.start or 'the first bar'} and "
            f"{request.end or 'the last bar'} for {', '.join(request.symbols)}"
        )
    buffer = io.BytesIO()
    np.savez(buffer, **keys)
    artifacts.put(bucket, f"{prefix}/keys.npz", buffer.getvalue())
    ensure_sagemaker_model(model, settings)
    progress = {
        "symbols": parts,
        "rows": sum(part["rows"] for part in parts),
        "from": iso_day(first),
        "to": iso_day(last),
        "feature_set": feature_set.key,
        "features": {"read_from_store": store.read_from_store, "materialized": store.materialized},
        "transform_job": transform_job_name(batch_id),
    }
    registry.update_batch(batch_id, step="scoring", progress=progress)
    return {
        "batch_id": batch_id,
        "job_name": transform_job_name(batch_id),
        "poll_seconds": settings.poll_seconds,
    }


def transform_job_request(batch_id: str, model_id: str, settings: MlSettings) -> dict[str, Any]:
    location = f"s3://{settings.artifacts_bucket}/{batch_prefix(batch_id)}"
    source = {"S3DataType": "S3Prefix", "S3Uri": f"{location}/input/"}
    return {
        "TransformJobName": transform_job_name(batch_id),
        "ModelName": sagemaker_model_name(settings, model_id),
        "MaxConcurrentTransforms": 1,
        "MaxPayloadInMB": MAX_PAYLOAD_MB,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": source},
            "ContentType": "text/csv",
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath": f"{location}/output/",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": settings.transform_instance_type, "InstanceCount": 1},
        "Tags": [{"Key": "trade2026:batch", "Value": batch_id}],
    }


def start_transform(job: dict[str, Any], settings: MlSettings) -> dict[str, Any]:
    batch = _job_or_fail(job["batch_id"])
    sagemaker_jobs.create_transform_job(transform_job_request(job["batch_id"], str(batch.model_id), settings))
    return {**job, "status": "InProgress"}


def check_transform(job: dict[str, Any]) -> dict[str, Any]:
    description = sagemaker_jobs.describe_transform_job(job["job_name"])
    status = description["TransformJobStatus"]
    if status in ("Failed", "Stopped"):
        reason = description.get("FailureReason") or status
        raise TransformJobFailedError(f"transform job {job['job_name']} {status.lower()}: {reason}")
    return {**job, "status": status}


def _output(bucket: str, prefix: str, index: int, expected: int) -> np.ndarray:
    text = artifacts.get(f"s3://{bucket}/{prefix}/output/part-{index:04d}.csv.out").decode()
    values = np.array([float(line) for line in text.splitlines() if line.strip()], dtype=np.float64)
    if len(values) != expected:
        raise BatchOutputError(f"part-{index:04d}: {expected} rows in, {len(values)} predictions out")
    return values


def collect_batch(batch_id: str, settings: MlSettings) -> dict[str, Any]:
    """The transform's output lines, matched to their rows' bar times, as Parquet in the lake (+ Glue)."""
    job = _job_or_fail(batch_id)
    model_id = str(job.model_id)
    progress = dict(job.progress or {})
    meta = ((_model_or_404(model_id).lineage or {}).get("label") or {}).get("kind") == "meta"
    bucket, prefix = settings.artifacts_bucket, batch_prefix(batch_id)
    with np.load(io.BytesIO(artifacts.get(f"s3://{bucket}/{prefix}/keys.npz"))) as saved:
        keys = {name: saved[name] for name in saved.files}
    partitions = []
    for part in progress.get("symbols", []):
        if "part" not in part:
            continue
        index, symbol = int(part["part"]), str(part["symbol"])
        ts, side = keys[f"ts_{index}"], keys[f"side_{index}"]
        probability = _output(bucket, prefix, index, len(ts))
        bet = metalabel.bet_size(probability, side) if meta else np.full(len(ts), np.nan)
        predictions_store.write_predictions(
            settings.lake_bucket, model_id, symbol, batch_id, ts, probability, bet
        )
        partitions.append((model_id, symbol))
    table = (
        predictions_store.register(settings.lake_database, settings.lake_bucket, partitions)
        if settings.lake_database
        else None
    )
    progress |= {
        "output": f"s3://{settings.lake_bucket}/{predictions_store.PREFIX}/model_id={model_id}/",
        "glue_table": table,
    }
    registry.update_batch(batch_id, step="written", progress=progress)
    return {"batch_id": batch_id, "partitions": len(partitions)}


def finish_batch(batch_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    if error is None:
        registry.update_batch(batch_id, status="SUCCEEDED", step="done")
        return {"batch_id": batch_id, "status": "SUCCEEDED"}
    cause = error_cause(error)
    registry.update_batch(batch_id, status="FAILED", error=cause)
    return {"batch_id": batch_id, "status": "FAILED", "cause": cause}
