"""The ML pipeline: point-in-time training sets, SageMaker training jobs, evaluation, registry, endpoints.

    POST /v1/models/train   validate (400 before anything starts) -> run record -> train_model state machine
    build_dataset           lake bars -> feature set (rows at t use data <= t) -> labels (fixed horizon, triple
                            barrier, meta) -> uniqueness weights -> time split with purge + embargo (+ purged
                            k-fold folds) -> CSV channels in the artifacts bucket; features to the offline store
    start/check_training    CreateTrainingJob per hyperparameter trial, DescribeTrainingJob poll loop
    evaluate                every trial's validation predictions scored here (domain metrics), best by AUC;
                            meta-labeling precision/F1 versus the primary alone; the signals backtested
    register                version, lineage, metrics; champion if it beats the current one on validation AUC
    deploy                  the champion behind the family's endpoint (created, or updated in place)
    predict                 sagemaker-runtime InvokeEndpoint (xgboost is never imported here)

Everything AWS goes through adapters (model_registry, feature_store, aws.client); numbers through the domain.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import math
import tarfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import feature_store
from trade2026.adapters import model_registry as registry
from trade2026.adapters.aws import client
from trade2026.domain import metrics as perf
from trade2026.domain.backtest import BacktestConfig, backtest_weights
from trade2026.domain.ml import labels as labeling
from trade2026.domain.ml import metalabel
from trade2026.domain.ml import metrics as ml_metrics
from trade2026.domain.ml.cv import PurgedKFold, purge_mask
from trade2026.domain.ml.features import FEATURE_SETS, FeatureSet, get_feature_set
from trade2026.domain.ml.weights import average_uniqueness
from trade2026.errors import BadRequest, Conflict, NotFound

MODEL_NAME = "xgboost_alpha"
MODEL_FILES = ("train.py", "inference.py", "requirements.txt")
LOCAL_MODEL_DIR = Path(__file__).resolve().parents[4] / "models" / MODEL_NAME  # present in a checkout only
MAX_TRIALS = 16
MAX_PREDICT_ROWS = 1_000
METRIC_DEFINITIONS = [
    {"Name": f"{split}:{name}", "Regex": rf"^{split}:{name}=([0-9.eE+-]+)"}
    for split in ("train", "validation")
    for name in ("auc", "logloss", "f1")
]
HYPERPARAMETERS: dict[str, tuple[type, float, float]] = {
    "max_depth": (int, 1, 12),
    "eta": (float, 1e-4, 1.0),
    "num_round": (int, 1, 5_000),
    "subsample": (float, 0.05, 1.0),
    "colsample_bytree": (float, 0.05, 1.0),
    "min_child_weight": (float, 0.0, 1e4),
    "reg_lambda": (float, 0.0, 1e4),
    "early_stopping_rounds": (int, 0, 1_000),
    "seed": (int, 0, 2**31 - 1),
}
DEFAULT_HYPERPARAMETERS: dict[str, float] = {"max_depth": 3, "eta": 0.05, "num_round": 150, "subsample": 0.8}


# ------------------------------------------------------------------------------------------ settings
class MlSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field("", alias="LAKE_DATABASE")
    artifacts_bucket: str = Field("", alias="ARTIFACTS_BUCKET")
    registry_table: str = Field(alias="MODEL_REGISTRY_TABLE")
    feature_table: str = Field(alias="FEATURE_STORE_TABLE")
    state_machine_arn: str = Field("", alias="TRAIN_STATE_MACHINE_ARN")
    sagemaker_role_arn: str = Field("", alias="SAGEMAKER_ROLE_ARN")
    training_image: str = Field("", alias="TRAINING_IMAGE")
    model_code_uri: str = Field("", alias="MODEL_CODE_URI")
    training_instance_type: str = Field("ml.m5.large", alias="TRAINING_INSTANCE_TYPE")
    endpoint_instance_type: str = Field("ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    poll_seconds: int = Field(5, alias="TRAINING_POLL_SECONDS")
    max_training_seconds: int = Field(3600, alias="MAX_TRAINING_SECONDS")


@cache
def ml_settings() -> MlSettings:
    import os

    return MlSettings.model_validate(dict(os.environ))


# ------------------------------------------------------------------------------------------ requests
class LabelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["triple_barrier", "fixed_horizon", "meta"] = "triple_barrier"
    horizon: int = Field(10, ge=1, le=2_520, description="bars to the vertical barrier / fixed horizon")
    profit_take: float = Field(1.0, ge=0, le=50, description="upper barrier in units of EWMA volatility")
    stop_loss: float = Field(1.0, ge=0, le=50, description="lower barrier in units of EWMA volatility")
    vol_span: int = Field(50, ge=2, le=1_000)
    threshold: float = Field(0.0, ge=0, le=1, description="fixed horizon: dead zone around 0")
    primary_fast: int = Field(20, ge=1, le=500, description="meta: the primary crossover's fast window")
    primary_slow: int = Field(50, ge=2, le=1_000, description="meta: the primary crossover's slow window")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=1, max_length=50)
    start: str | None = Field(None, description="first sample date, YYYY-MM-DD (features use earlier bars)")
    end: str | None = Field(None, description="last bar date, YYYY-MM-DD (labels end by then)")
    interval: str = Field("1d", max_length=8)
    feature_set: str = Field("alpha_v1", max_length=64)
    label: LabelSpec = Field(default_factory=LabelSpec)
    event_step: int = Field(1, ge=1, le=250, description="a sample every n-th bar")
    validation_fraction: float = Field(0.2, ge=0.05, le=0.5)
    embargo_pct: float = Field(0.01, ge=0.0, le=0.2)
    cv_folds: int = Field(0, ge=0, le=10, description="purged k-fold CV inside training (0: none)")
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="name -> number, or a list of numbers to search (a grid)"
    )
    max_trials: int = Field(4, ge=1, le=MAX_TRIALS)
    deploy: bool = True


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[list[float | None]] | None = Field(None, max_length=MAX_PREDICT_ROWS)
    symbols: list[str] | None = Field(None, max_length=100, description="use the online store's latest row")


# ----------------------------------------------------------------------------------- validation
def _number(name: str, value: Any) -> float:
    kind, low, high = HYPERPARAMETERS[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRequest(f"hyperparameter {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"hyperparameter {name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadRequest(f"hyperparameter {name} must be between {low:g} and {high:g}, got {value!r}")
    if kind is int and number != int(number):
        raise BadRequest(f"hyperparameter {name} must be a whole number, got {value!r}")
    return int(number) if kind is int else number


def hyperparameter_trials(
    hyperparameters: Mapping[str, Any], max_trials: int, *, validate: bool = True
) -> list[dict[str, Any]]:
    """The grid of the given values (lists are searched), evenly thinned to max_trials.

    The API validates (400 with the reason); the state machine passes values through as given, so a run started
    by hand with a bad value fails in its training job, the way SageMaker reports it.
    """
    grid: dict[str, list[Any]] = {name: [value] for name, value in DEFAULT_HYPERPARAMETERS.items()}
    for name, value in hyperparameters.items():
        if validate and name not in HYPERPARAMETERS:
            raise BadRequest(f"unknown hyperparameter {name!r}; known: {', '.join(sorted(HYPERPARAMETERS))}")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise BadRequest(f"hyperparameter {name} has an empty list of values")
        grid[name] = (
            sorted({_number(name, item) for item in values}) if validate else list(dict.fromkeys(values))
        )
    names = sorted(grid)
    trials = [
        dict(zip(names, combination, strict=True))
        for combination in itertools.product(*(grid[n] for n in names))
    ]
    if len(trials) > max_trials:
        picks = np.unique(np.round(np.linspace(0, len(trials) - 1, max_trials)).astype(int))
        trials = [trials[i] for i in picks]
    return trials


def feature_set_or_400(name: str) -> FeatureSet:
    try:
        return get_feature_set(name)
    except KeyError as exc:
        raise BadRequest(str(exc.args[0])) from None


def validate_request(request: TrainRequest, *, hyperparameters: bool = True) -> list[dict[str, Any]]:
    feature_set_or_400(request.feature_set)
    if request.label.kind == "meta" and request.label.primary_fast >= request.label.primary_slow:
        raise BadRequest(
            f"label.primary_fast ({request.label.primary_fast}) must be below label.primary_slow "
            f"({request.label.primary_slow})"
        )
    if request.cv_folds == 1:
        raise BadRequest("cv_folds must be 0 (no cross-validation) or at least 2")
    if request.interval != "1d":
        raise BadRequest(f"interval {request.interval!r} is not supported yet: feature sets are daily ('1d')")
    return hyperparameter_trials(request.hyperparameters, request.max_trials, validate=hyperparameters)


def family_of(request: TrainRequest) -> str:
    feature_set = get_feature_set(request.feature_set)
    return f"{MODEL_NAME}.{feature_set.name}-v{feature_set.version}.{request.label.kind}"


# ------------------------------------------------------------------------------------- data sets
SymbolBars = Mapping[str, np.ndarray]  # ts, open, high, low, close, volume
BarReader = Callable[[str], SymbolBars]


def lake_bar_reader(lake: Any, end: str | None, interval: str = "1d") -> BarReader:
    """All bars of a symbol up to `end` (features need the history before `start`), volume included."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    end_ns = mq.parse_time(end, end_of_day=True, default=mq.LATEST_NS)

    def read(symbol: str) -> SymbolBars:
        meta = get_symbol(symbol)
        if meta is None:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        query = mq.BarsQuery(symbol, interval, mq.EARLIEST_NS, end_ns, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        return {
            "ts": bars.start,
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }

    return read


@dataclass
class Dataset:
    columns: list[str]
    x: np.ndarray  # (n, F)
    y: np.ndarray  # 0/1
    weight: np.ndarray  # average uniqueness, mean 1
    t0: np.ndarray  # calendar position of the sample's bar
    t1: np.ndarray  # calendar position where its label is known
    symbol: np.ndarray  # index into symbols
    ret: np.ndarray  # label return (the side's for meta labels)
    side: np.ndarray  # primary side (meta) or 1
    symbols: list[str]
    calendar: np.ndarray  # int64 ns of every bar of any symbol
    close: np.ndarray  # (len(calendar), n_symbols) closes, NaN where a symbol has no bar

    def __len__(self) -> int:
        return len(self.y)


def _symbol_samples(
    request: TrainRequest, feature_set: FeatureSet, bars: SymbolBars, start_ns: int, symbol: str
) -> tuple[np.ndarray, labeling.Labels, np.ndarray]:
    close = np.asarray(bars["close"], dtype=np.float64)
    spec = request.label
    if spec.horizon >= len(close):
        raise BadRequest(
            f"label horizon of {spec.horizon} bars is longer than the data: {symbol} has {len(close)} bars "
            f"up to {request.end or 'the last bar'}"
        )
    if feature_set.needs_volume and not np.any(np.isfinite(np.asarray(bars["volume"], dtype=np.float64))):
        raise BadRequest(
            f"feature set {feature_set.name} needs volume, and {symbol} has none (close-only data)"
        )
    ts = np.asarray(bars["ts"], dtype=np.int64)
    first = max(feature_set.warmup, int(np.searchsorted(ts, start_ns)))
    events = np.arange(first, len(close), request.event_step)
    side = np.ones(len(close))
    vol = labeling.ewma_volatility(close, spec.vol_span)
    if spec.kind == "fixed_horizon":
        labels = labeling.fixed_horizon(close, spec.horizon, spec.threshold)
        keep = np.isin(labels.t0, events)
        labels = labeling.Labels(*(getattr(labels, f)[keep] for f in ("t0", "t1", "ret", "label", "barrier")))
    elif spec.kind == "meta":
        side = metalabel.crossover_side(close, spec.primary_fast, spec.primary_slow)
        labels = labeling.triple_barrier(
            close, vol, spec.horizon, spec.profit_take, spec.stop_loss, events, side
        )
    else:
        labels = labeling.triple_barrier(close, vol, spec.horizon, spec.profit_take, spec.stop_loss, events)
    features = feature_set.compute(bars)
    if spec.kind == "meta":
        features = np.column_stack([features, side])
    return features, labels, side


def _until(bars: SymbolBars, end_ns: int) -> dict[str, np.ndarray]:
    keep = np.asarray(bars["ts"], dtype=np.int64) <= end_ns
    return {name: np.asarray(values)[keep] for name, values in bars.items()}


def build_dataset(request: TrainRequest, read: BarReader) -> Dataset:
    """Point-in-time training samples of every symbol, on one calendar."""
    from trade2026.services import marketdata_query as mq

    feature_set = feature_set_or_400(request.feature_set)
    start_ns = mq.parse_time(request.start, end_of_day=False, default=mq.EARLIEST_NS)
    end_ns = mq.parse_time(request.end, end_of_day=True, default=mq.LATEST_NS)
    if start_ns > end_ns:
        raise BadRequest(f"empty training window: start {request.start} is after end {request.end}")
    per_symbol = {symbol: _until(read(symbol), end_ns) for symbol in dict.fromkeys(request.symbols)}
    calendar = np.unique(np.concatenate([np.asarray(b["ts"], dtype=np.int64) for b in per_symbol.values()]))
    close_panel = np.full((len(calendar), len(per_symbol)), np.nan)
    parts: list[dict[str, np.ndarray]] = []
    for index, (symbol, bars) in enumerate(per_symbol.items()):
        ts = np.asarray(bars["ts"], dtype=np.int64)
        position = np.searchsorted(calendar, ts)
        close_panel[position, index] = bars["close"]
        if len(ts) == 0:
            continue
        features, labels, side = _symbol_samples(request, feature_set, bars, start_ns, symbol)
        if len(labels) == 0:
            continue
        label = labels.label if request.label.kind == "meta" else (labels.label > 0).astype(np.float64)
        parts.append(
            {
                "x": features[labels.t0],
                "y": label,
                "t0": position[labels.t0],
                "t1": position[labels.t1],
                "weight": average_uniqueness(labels.t0, labels.t1, len(ts)),
                "ret": labels.ret,
                "side": side[labels.t0],
                "symbol": np.full(len(labels), index),
            }
        )
    if not parts:
        raise BadRequest(
            f"empty training window: no labelled samples between {request.start or 'the first bar'} and "
            f"{request.end or 'the last bar'} for {', '.join(request.symbols)} (the first "
            f"{feature_set.warmup} bars of a symbol are feature warm-up, the last {request.label.horizon} "
            "have no label yet)"
        )
    data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((data["symbol"], data["t0"]))  # time first: folds and splits are cut in time
    data = {key: values[order] for key, values in data.items()}
    columns = list(feature_set.columns) + (["primary_side"] if request.label.kind == "meta" else [])
    weight = data["weight"] / data["weight"].mean()
    return Dataset(
        columns,
        data["x"],
        data["y"],
        weight,
        data["t0"].astype(np.int64),
        data["t1"].astype(np.int64),
        data["symbol"].astype(np.int64),
        data["ret"],
        data["side"],
        list(per_symbol),
        calendar,
        close_panel,
    )


@dataclass
class Split:
    train: np.ndarray
    validation: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]  # row indices into the training rows
    purged: int  # training candidates dropped by purge + embargo


def split_dataset(dataset: Dataset, validation_fraction: float, embargo_pct: float, cv_folds: int) -> Split:
    """The latest `validation_fraction` of sample dates validate; earlier samples train unless their label
    window reaches the validation period (purged) or starts within the embargo after it."""
    times = np.unique(dataset.t0)
    if len(times) < 10:
        raise BadRequest(f"empty training window: only {len(times)} sample dates, at least 10 are needed")
    cut = times[min(len(times) - 1, math.floor((1.0 - validation_fraction) * len(times)))]
    validation = np.flatnonzero(dataset.t0 >= cut)
    embargo = math.ceil(embargo_pct * len(times))
    train = np.flatnonzero(purge_mask(dataset.t0, dataset.t1, validation, embargo))
    if len(train) == 0 or len(np.unique(dataset.y[train])) < 2:
        raise BadRequest(
            "empty training window: after purging, the training set has too few samples or one class"
        )
    folds = []
    if cv_folds >= 2:
        folds = list(PurgedKFold(cv_folds, embargo_pct).split(dataset.t0[train], dataset.t1[train]))
    return Split(train, validation, folds, int(len(dataset) - len(validation) - len(train)))


def _csv(y: np.ndarray, weight: np.ndarray, x: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, weight, x]), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()  # "nan" marks a missing feature (XGBoost's missing value)


# ----------------------------------------------------------------------------------- artifacts
def run_prefix(run_id: str) -> str:
    return f"ml/runs/{run_id}"


def _put(bucket: str, key: str, body: bytes) -> str:
    client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def _get(uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def sourcedir_archive(directory: Path) -> tuple[bytes, str]:
    """Deterministic sourcedir.tar.gz of the model code and its content hash."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in MODEL_FILES:
            content = (directory / name).read_bytes()
            digest.update(name.encode() + b"\0" + content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue(), digest.hexdigest()[:16]


def publish_model_code(bucket: str, directory: Path = LOCAL_MODEL_DIR) -> str:
    """Upload models/xgboost_alpha/ as sourcedir.tar.gz (content-addressed) and return its S3 URI."""
    archive, digest = sourcedir_archive(directory)
    key = f"ml/code/{MODEL_NAME}/{digest}/sourcedir.tar.gz"
    s3 = client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=archive)
    return f"s3://{bucket}/{key}"


def model_code_uri(settings: MlSettings) -> str:
    if settings.model_code_uri:
        return settings.model_code_uri
    if all((LOCAL_MODEL_DIR / name).is_file() for name in MODEL_FILES):
        return publish_model_code(settings.artifacts_bucket)
    raise RuntimeError(
        f"the {MODEL_NAME} training code is not published: upload models/{MODEL_NAME} as sourcedir.tar.gz "
        "(trade2026.services.ml.publish_model_code) and set MODEL_CODE_URI"
    )


def prepare_run(run_id: str, request: TrainRequest, settings: MlSettings, read: BarReader) -> dict[str, Any]:
    """build_dataset step: data set to S3, features to the offline store, one job per trial."""
    trials = validate_request(request, hyperparameters=False)
    feature_set = get_feature_set(request.feature_set)
    dataset = build_dataset(request, read)
    split = split_dataset(dataset, request.validation_fraction, request.embargo_pct, request.cv_folds)
    bucket, prefix = settings.artifacts_bucket, run_prefix(run_id)
    names = json.dumps({"columns": dataset.columns}).encode()
    train, valid = split.train, split.validation
    _put(bucket, f"{prefix}/train/train.csv", _csv(dataset.y[train], dataset.weight[train], dataset.x[train]))
    _put(bucket, f"{prefix}/train/features.json", names)
    if split.folds:
        folds = [{"train": a.tolist(), "test": b.tolist()} for a, b in split.folds]
        _put(bucket, f"{prefix}/train/folds.json", json.dumps({"folds": folds}).encode())
    _put(
        bucket,
        f"{prefix}/validation/validation.csv",
        _csv(dataset.y[valid], dataset.weight[valid], dataset.x[valid]),
    )
    _put(bucket, f"{prefix}/validation/features.json", names)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        y=dataset.y[valid],
        t0=dataset.t0[valid],
        t1=dataset.t1[valid],
        symbol=dataset.symbol[valid],
        ret=dataset.ret[valid],
        side=dataset.side[valid],
        calendar=dataset.calendar,
        close=dataset.close,
    )
    _put(bucket, f"{prefix}/validation.npz", buffer.getvalue())
    code_uri = model_code_uri(settings)
    summary = {
        "feature_set": feature_set.key,
        "columns": dataset.columns,
        "symbols": dataset.symbols,
        "label": request.label.model_dump(),
        "rows": len(dataset),
        "rows_train": len(train),
        "rows_validation": len(valid),
        "purged": split.purged,
        "cv_folds": len(split.folds),
        "first_sample": _iso(dataset.calendar[dataset.t0.min()]),
        "last_label": _iso(dataset.calendar[dataset.t1.max()]),
        "validation_from": _iso(dataset.calendar[dataset.t0[valid].min()]),
        "train_until": _iso(dataset.calendar[dataset.t1[train].max()]),
        "positive_rate": float(dataset.y.mean()),
        "code_uri": code_uri,
        "data_hash": hashlib.sha256(dataset.x.tobytes() + dataset.y.tobytes()).hexdigest()[:16],
    }
    _put(bucket, f"{prefix}/dataset.json", json.dumps(summary).encode())
    _write_offline_features(settings, feature_set, dataset, read)
    jobs = [
        {
            "run_id": run_id,
            "trial": i,
            "job_name": f"ml-{run_id[:24]}-{i}",
            "hyperparameters": hps,
            "poll_seconds": settings.poll_seconds,
        }
        for i, hps in enumerate(trials)
    ]
    registry.update_run(
        run_id, status="RUNNING", step="training", progress={"dataset": summary, "trials": jobs}
    )
    return {"run_id": run_id, "trials": jobs}


def _write_offline_features(
    settings: MlSettings, feature_set: FeatureSet, dataset: Dataset, read: BarReader
) -> None:
    for symbol in dataset.symbols:
        bars = read(symbol)  # cached by the caller's reader in a warm Lambda; cheap for daily bars
        matrix = feature_set.compute(bars)
        feature_store.write_offline(
            settings.lake_bucket,
            feature_set.name,
            feature_set.version,
            symbol,
            np.asarray(bars["ts"], dtype=np.int64),
            list(feature_set.columns),
            matrix,
        )
    if settings.lake_database:
        feature_store.register_offline(
            settings.lake_database,
            settings.lake_bucket,
            feature_set.name,
            feature_set.version,
            list(feature_set.columns),
            dataset.symbols,
        )


def _iso(ns: Any) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[D]"))


# ------------------------------------------------------------------------------------ training
class TrainingJobFailedError(Exception):
    """A training job ended Failed or Stopped (ASL: caught, the run is marked FAILED with this message)."""


def training_job_request(job: Mapping[str, Any], settings: MlSettings, code_uri: str) -> dict[str, Any]:
    prefix = f"s3://{settings.artifacts_bucket}/{run_prefix(job['run_id'])}"
    hyperparameters = {name: str(value) for name, value in job["hyperparameters"].items()}
    hyperparameters |= {
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps(code_uri),
    }

    def channel(name: str) -> dict[str, Any]:
        source = {
            "S3DataType": "S3Prefix",
            "S3Uri": f"{prefix}/{name}/",
            "S3DataDistributionType": "FullyReplicated",
        }
        return {"ChannelName": name, "DataSource": {"S3DataSource": source}, "ContentType": "text/csv"}

    return {
        "TrainingJobName": job["job_name"],
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {
            "TrainingImage": settings.training_image,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRIC_DEFINITIONS,
        },
        "RoleArn": settings.sagemaker_role_arn,
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"{prefix}/jobs/"},
        "ResourceConfig": {
            "InstanceType": settings.training_instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_training_seconds},
        "Tags": [{"Key": "trade2026:run", "Value": job["run_id"]}],
    }


def start_training(job: dict[str, Any], settings: MlSettings) -> dict[str, Any]:
    run = registry.get_run(job["run_id"])
    code_uri = (run.progress or {}).get("dataset", {}).get("code_uri") if run else None
    sagemaker = client("sagemaker")
    request = training_job_request(job, settings, code_uri or model_code_uri(settings))
    with contextlib.suppress(sagemaker.exceptions.ResourceInUse):  # a retried task: the job exists already
        sagemaker.create_training_job(**request)
    return {**job, "status": "InProgress"}


def check_training(job: dict[str, Any]) -> dict[str, Any]:
    description = client("sagemaker").describe_training_job(TrainingJobName=job["job_name"])
    status = description["TrainingJobStatus"]
    if status in ("Failed", "Stopped"):
        reason = description.get("FailureReason") or description.get("SecondaryStatus") or status
        raise TrainingJobFailedError(f"training job {job['job_name']} {status.lower()}: {reason}")
    result = {**job, "status": status, "secondary_status": description.get("SecondaryStatus")}
    if status == "Completed":
        result["model_data"] = description["ModelArtifacts"]["S3ModelArtifacts"]
    return result


# ------------------------------------------------------------------------------------ evaluation
def _model_files(model_data: str) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(_get(model_data))) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def signal_backtest(
    validation: Mapping[str, np.ndarray], probability: np.ndarray, meta: bool
) -> dict[str, Any]:
    """Equal weight across symbols, long when the model says so (meta: the primary's side, sized by the
    bet size), through the research engine; compared with holding every symbol."""
    calendar, close = validation["calendar"], validation["close"]
    first, last = int(validation["t0"].min()), int(validation["t1"].max())
    rows = np.arange(first, last + 1)
    panel = close[rows]
    complete = np.all(np.isfinite(panel), axis=1)
    if complete.sum() < 2:
        return {}
    n = panel.shape[1]
    weights = np.full(panel.shape, np.nan)
    target = (
        metalabel.bet_size(probability, validation["side"])
        if meta
        else (probability > 0.5).astype(np.float64)
    ) / n
    position = np.searchsorted(rows, validation["t0"])
    weights[position, validation["symbol"]] = target
    weights, panel = weights[complete], panel[complete]
    model = backtest_weights(
        panel,
        weights,
        BacktestConfig(periods_per_year=252.0, direction="long_short" if meta else "long_only"),
    )
    hold = backtest_weights(panel, np.full(panel.shape, 1.0 / n), BacktestConfig(periods_per_year=252.0))
    summaries = {}
    for name, result in (("model", model), ("equal_weight_hold", hold)):
        returns = np.nan_to_num(np.asarray(result.returns, dtype=np.float64))
        summaries[name] = perf.performance_summary(returns, 252.0).records()[0]
    return {"from": _iso(calendar[rows[complete][0]]), "to": _iso(calendar[rows[complete][-1]]), **summaries}


def evaluate_run(run_id: str, jobs: list[dict[str, Any]], settings: MlSettings) -> dict[str, Any]:
    """Score every trial on the validation set with the domain's metrics; the best by AUC (then log-loss)."""
    run = _run_or_fail(run_id)
    request = TrainRequest.model_validate(run.request)
    with np.load(
        io.BytesIO(_get(f"s3://{settings.artifacts_bucket}/{run_prefix(run_id)}/validation.npz"))
    ) as data:
        validation = {name: data[name] for name in data.files}
    y = validation["y"]
    trials = []
    for job in jobs:
        files = _model_files(job["model_data"])
        probability = np.loadtxt(io.BytesIO(files["validation_predictions.csv"]), ndmin=1)
        summary = ml_metrics.classification_summary(y, probability)
        trials.append(
            {
                "trial": job["trial"],
                "job_name": job["job_name"],
                "model_data": job["model_data"],
                "hyperparameters": job["hyperparameters"],
                "validation": summary,
                "training_metrics": json.loads(files["metrics.json"]),
                "feature_importance": json.loads(files["feature_importance.json"]),
                "probability": probability,
            }
        )
    best = max(trials, key=lambda t: (t["validation"]["auc"] or 0.0, -(t["validation"]["log_loss"] or 0.0)))
    meta = request.label.kind == "meta"
    result = {key: value for key, value in best.items() if key != "probability"}
    result["trials"] = [
        {
            "trial": t["trial"],
            "hyperparameters": t["hyperparameters"],
            "validation_auc": t["validation"]["auc"],
            "validation_log_loss": t["validation"]["log_loss"],
        }
        for t in trials
    ]
    if meta:
        result["meta_labeling"] = metalabel.compare(y, best["probability"])
    result["signal_backtest"] = signal_backtest(validation, best["probability"], meta)
    _put(
        settings.artifacts_bucket,
        f"{run_prefix(run_id)}/evaluation.json",
        json.dumps(result, default=_json).encode(),
    )
    registry.update_run(
        run_id, step="evaluated", progress={**(run.progress or {}), "evaluation": _brief(result)}
    )
    return {"run_id": run_id, "best_trial": best["trial"], "validation_auc": best["validation"]["auc"]}


def _brief(evaluation: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: evaluation.get(key)
        for key in ("trial", "job_name", "validation", "trials", "meta_labeling", "signal_backtest")
    }


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _run_or_fail(run_id: str) -> registry.RegistryItem:
    run = registry.get_run(run_id)
    if run is None:
        raise NotFound(f"No training run {run_id}")
    return run


# ------------------------------------------------------------------------------- register, deploy
def register_model(
    run_id: str, settings: MlSettings, publish: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    run = _run_or_fail(run_id)
    request = TrainRequest.model_validate(run.request)
    evaluation = json.loads(_get(f"s3://{settings.artifacts_bucket}/{run_prefix(run_id)}/evaluation.json"))
    dataset = (run.progress or {}).get("dataset", {})
    family = family_of(request)
    metric = float(evaluation["validation"]["auc"] or 0.0)
    previous, previous_metric = registry.champion(family)
    version = registry.next_version(family)
    model_id = uuid.uuid4().hex
    lineage = {
        "run_id": run_id,
        "family": family,
        "feature_set": dataset.get("feature_set"),
        "columns": dataset.get("columns"),
        "symbols": dataset.get("symbols"),
        "label": dataset.get("label"),
        "data_range": {
            "first_sample": dataset.get("first_sample"),
            "last_label": dataset.get("last_label"),
            "validation_from": dataset.get("validation_from"),
        },
        "data_hash": dataset.get("data_hash"),
        "code_uri": dataset.get("code_uri"),
        "code_hash": str(dataset.get("code_uri", "")).rsplit("/", 2)[-2] if dataset.get("code_uri") else None,
        "hyperparameters": evaluation["hyperparameters"],
        "training_job": evaluation["job_name"],
    }
    model_metrics = {
        "validation": evaluation["validation"],
        "train": evaluation["training_metrics"].get("train"),
        "cv": evaluation["training_metrics"].get("cv"),
        "trials": evaluation["trials"],
        "meta_labeling": evaluation.get("meta_labeling"),
        "signal_backtest": evaluation.get("signal_backtest"),
        "feature_importance": evaluation["feature_importance"],
        "champion_metric_before": previous_metric,
    }
    registry.create_model(
        model_id,
        family=family,
        version=version,
        stage="candidate",
        owner=run.owner,
        run_id=run_id,
        lineage=lineage,
        metrics=model_metrics,
        artifacts={"model_data": evaluation["model_data"], "code_uri": dataset.get("code_uri")},
    )
    beats = previous is None or metric > float(previous_metric or 0.0)
    stage = "champion" if beats and registry.promote(family, model_id, metric, previous) else "candidate"
    registry.update_run(run_id, step="registered", model_id=model_id)
    publish(
        {
            "id": model_id,
            "model_id": model_id,
            "family": family,
            "version": version,
            "stage": stage,
            "validation_auc": metric,
            "run_id": run_id,
        }
    )
    return {
        "run_id": run_id,
        "model_id": model_id,
        "stage": stage,
        "deploy": request.deploy and stage == "champion",
    }


def endpoint_name(settings: MlSettings, family: str) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in family.replace(MODEL_NAME, "xgb"))
    return f"trade2026-{settings.stage}-{slug}"[:63].rstrip("-")


def deploy_model(run_id: str, model_id: str, settings: MlSettings) -> dict[str, Any]:
    """Create (or update in place) the family's endpoint to serve this model."""
    model = registry.get_model(model_id)
    if model is None:
        raise NotFound(f"No model {model_id}")
    sagemaker = client("sagemaker")
    name = endpoint_name(settings, str(model.family))
    sagemaker_model = f"trade2026-{settings.stage}-{model_id}"[:63]
    sagemaker.create_model(
        ModelName=sagemaker_model,
        ExecutionRoleArn=settings.sagemaker_role_arn,
        PrimaryContainer={
            "Image": settings.training_image,
            "ModelDataUrl": model.artifacts["model_data"],
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": model.artifacts["code_uri"],
            },
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=sagemaker_model,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": sagemaker_model,
                "InitialInstanceCount": 1,
                "InstanceType": settings.endpoint_instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    try:
        sagemaker.describe_endpoint(EndpointName=name)
    except sagemaker.exceptions.ClientError:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=sagemaker_model)
    else:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=sagemaker_model)
    registry.set_model(model_id, endpoint=name)
    registry.update_run(run_id, step="deployed")
    return {"run_id": run_id, "model_id": model_id, "endpoint": name}


def finish_run(run_id: str, error: Mapping[str, Any] | None) -> dict[str, Any]:
    if error is None:
        registry.update_run(run_id, status="SUCCEEDED", step="done")
        return {"run_id": run_id, "status": "SUCCEEDED"}
    cause = str(error.get("Cause") or error.get("Error") or "unknown error")
    try:  # Lambda errors arrive as JSON {"errorMessage": ..., "errorType": ...}
        parsed = json.loads(cause)
        cause = f"{parsed.get('errorType', 'Error')}: {parsed.get('errorMessage', cause)}"
    except (ValueError, AttributeError):
        pass
    registry.update_run(run_id, status="FAILED", error=cause[:2000])
    return {"run_id": run_id, "status": "FAILED", "cause": cause[:2000]}


# ------------------------------------------------------------------------------------- API side
def start_run(
    request: TrainRequest, owner: str, settings: MlSettings, read: BarReader
) -> registry.RegistryItem:
    """Validate everything that can be checked before the state machine starts (400 with the reason)."""
    validate_request(request)
    dataset = build_dataset(request, read)  # unknown symbols, empty windows, too-long horizons: 400 now
    split_dataset(dataset, request.validation_fraction, request.embargo_pct, 0)
    run_id = uuid.uuid4().hex
    run = registry.create_run(run_id, owner, request.model_dump())
    client("stepfunctions").start_execution(
        stateMachineArn=settings.state_machine_arn, name=run_id, input=json.dumps({"run_id": run_id})
    )
    return run


def describe_feature_sets() -> list[dict[str, Any]]:
    return [fs.describe() for fs in FEATURE_SETS.values()]


def latest_features(name: str, symbol: str, read: BarReader) -> dict[str, Any]:
    """The online vector, or (when the online store has none yet) the last row computed from the lake."""
    feature_set = feature_set_or_400(name)
    stored = feature_store.get_online(feature_set.key, symbol)
    if stored is not None:
        return {
            "feature_set": feature_set.key,
            "symbol": symbol,
            "ts": int(stored.ts),
            "as_of": _iso(stored.ts),
            "values": stored.values,
            "source": "online",
        }
    bars = read(symbol)
    if len(bars["ts"]) == 0:
        raise NotFound(f"No bars for {symbol}")
    row = feature_set.compute(bars)[-1]
    ts = int(bars["ts"][-1])
    values = {
        c: (float(v) if math.isfinite(v) else None) for c, v in zip(feature_set.columns, row, strict=True)
    }
    return {
        "feature_set": feature_set.key,
        "symbol": symbol,
        "ts": ts,
        "as_of": _iso(ts),
        "values": values,
        "source": "computed",
    }


def refresh_online(name: str, symbol: str, read: BarReader, event_id: str | None) -> bool:
    feature_set = get_feature_set(name)
    bars = read(symbol)
    if len(bars["ts"]) == 0:
        return False
    row = feature_set.compute(bars)[-1]
    return feature_store.put_online(
        feature_set.key, symbol, int(bars["ts"][-1]), list(feature_set.columns), row, event_id
    )


def predict(model_id: str, body: PredictRequest) -> dict[str, Any]:
    model = registry.get_model(model_id)
    if model is None:
        raise NotFound(f"No model {model_id}")
    if not model.endpoint:
        raise Conflict(
            f"model {model_id} is {model.stage} and has no endpoint: only a family's champion is deployed"
        )
    columns = list(model.lineage["columns"])
    rows = _predict_rows(model, body, columns)
    sagemaker_runtime = client("sagemaker-runtime")
    try:
        response = sagemaker_runtime.invoke_endpoint(
            EndpointName=model.endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"instances": rows}),
        )
    except sagemaker_runtime.exceptions.ValidationError as exc:
        raise Conflict(f"endpoint {model.endpoint} is not serving: {exc}") from None
    probabilities = json.loads(response["Body"].read())["predictions"]
    result: dict[str, Any] = {
        "model_id": model_id,
        "endpoint": model.endpoint,
        "columns": columns,
        "predictions": probabilities,
    }
    if model.lineage.get("label", {}).get("kind") == "meta":
        sides = [float("nan") if row[-1] is None else float(row[-1]) for row in rows]
        result["bet_size"] = metalabel.bet_size(probabilities, sides).tolist()
    return result


def _predict_rows(
    model: registry.RegistryItem, body: PredictRequest, columns: list[str]
) -> list[list[float | None]]:
    if (body.instances is None) == (body.symbols is None):
        raise BadRequest("give either instances (rows of features) or symbols (latest online features)")
    if body.instances is not None:
        if not body.instances:
            raise BadRequest("instances is empty")
        for index, row in enumerate(body.instances):
            if len(row) != len(columns):
                raise BadRequest(
                    f"instances[{index}] has {len(row)} values; the model expects {len(columns)}: "
                    + ", ".join(columns)
                )
        return body.instances
    if "primary_side" in columns:
        raise BadRequest("a meta model needs the primary side as its last feature: send instances")
    set_key = str(model.lineage["feature_set"])
    rows = []
    for symbol in body.symbols or []:
        stored = feature_store.get_online(set_key, symbol)
        if stored is None:
            raise NotFound(f"no online features of {set_key} for {symbol} yet")
        rows.append([stored.values.get(c) for c in columns])
    return rows
