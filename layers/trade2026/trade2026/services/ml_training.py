"""The train_model state machine's work: data set -> SageMaker training jobs -> evaluation -> registry -> endpoint.

prepare_run         the point-in-time training set (offline store rows as-of joined to the labels), the
                    purged split and CV splits -> .npz channels in the artifacts bucket; one job per trial
start/check         CreateTrainingJob per hyperparameter trial, DescribeTrainingJob poll loop
evaluate_run        every trial's validation predictions scored here (domain metrics), best by AUC; the
                    combinatorial purged CV paths' AUC (mean/std over paths); meta-labeling precision/F1
                    versus the primary alone; the signals backtested
register_model      version, lineage, metrics; champion if it beats the current one on validation AUC
deploy_model        the champion behind the family's endpoint (created, or updated in place)
finish_run          SUCCEEDED, or FAILED with the cause
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from trade2026.adapters import artifacts, feature_store, sagemaker_jobs
from trade2026.adapters import model_registry as registry
from trade2026.domain import metrics as perf
from trade2026.domain.backtest import BacktestConfig, backtest_weights
from trade2026.domain.ml import metalabel
from trade2026.domain.ml import metrics as ml_metrics
from trade2026.domain.ml.cv import CombinatorialPurgedCV
from trade2026.domain.ml.features import get_feature_set
from trade2026.errors import NotFound
from trade2026.services.ml_common import (
    MODEL_NAME,
    MlSettings,
    iso_day,
    model_code_uri,
    run_prefix,
    sagemaker_model_name,
    to_json,
)
from trade2026.services.ml_dataset import (
    BarReader,
    Dataset,
    OfflineFeatures,
    Split,
    TrainRequest,
    build_dataset,
    channel_npz,
    family_of,
    prefetch_bars,
    request_split,
    splits_npz,
    validate_request,
)

METRIC_DEFINITIONS = [
    {"Name": f"{split}:{name}", "Regex": rf"^{split}:{name}=([0-9.eE+-]+)"}
    for split in ("train", "validation")
    for name in ("auc", "logloss", "f1")
]
CHANNEL_CONTENT_TYPE = "application/x-npz"


class TrainingJobFailedError(Exception):
    """A training job ended Failed or Stopped (ASL: caught, the run is marked FAILED with this message)."""


class EvaluationError(Exception):
    """A training job's output lacks what the evaluation needs (ASL: caught, the run is marked FAILED)."""


def _run_or_fail(run_id: str) -> registry.RegistryItem:
    run = registry.get_run(run_id)
    if run is None:
        raise NotFound(f"No training run {run_id}")
    return run


# ------------------------------------------------------------------------------------- data set
def _write_channels(bucket: str, prefix: str, dataset: Dataset, split: Split) -> None:
    names = json.dumps({"columns": dataset.columns}).encode()
    train, valid = split.train, split.validation
    artifacts.put(bucket, f"{prefix}/train/train.npz", channel_npz(dataset.y[train], dataset.weight[train],
                                                                  dataset.x[train]))  # fmt: skip
    artifacts.put(bucket, f"{prefix}/train/features.json", names)
    if split.folds:
        artifacts.put(bucket, f"{prefix}/train/folds.npz", splits_npz(split.folds))
    if split.cpcv:
        artifacts.put(bucket, f"{prefix}/train/cpcv.npz", splits_npz(split.cpcv))
    artifacts.put(bucket, f"{prefix}/validation/validation.npz", channel_npz(dataset.y[valid],
                                                                             dataset.weight[valid],
                                                                             dataset.x[valid]))  # fmt: skip
    artifacts.put(bucket, f"{prefix}/validation/features.json", names)
    buffer = io.BytesIO()
    np.savez_compressed(  # what the evaluation needs besides the jobs' predictions
        buffer,
        y=dataset.y[valid],
        t0=dataset.t0[valid],
        t1=dataset.t1[valid],
        symbol=dataset.symbol[valid],
        ret=dataset.ret[valid],
        side=dataset.side[valid],
        calendar=dataset.calendar,
        close=dataset.close,
        train_y=dataset.y[train],
        train_t0=dataset.t0[train],
    )
    artifacts.put(bucket, f"{prefix}/evaluation.npz", buffer.getvalue())


def _summary(request: TrainRequest, dataset: Dataset, split: Split, store: OfflineFeatures,
             settings: MlSettings, code_uri: str) -> dict[str, Any]:  # fmt: skip
    feature_set = store.feature_set
    train, valid = split.train, split.validation
    offline = feature_store.offline_prefix(feature_set.name, feature_set.version)
    return {
        "feature_set": feature_set.key,
        "columns": dataset.columns,
        "symbols": dataset.symbols,
        "label": request.label.model_dump(),
        "rows": len(dataset),
        "rows_train": len(train),
        "rows_validation": len(valid),
        "purged": split.purged,
        "cv_folds": len(split.folds),
        "cpcv_splits": len(split.cpcv),
        "first_sample": iso_day(dataset.calendar[dataset.t0.min()]),
        "last_label": iso_day(dataset.calendar[dataset.t1.max()]),
        "validation_from": iso_day(dataset.calendar[dataset.t0[valid].min()]),
        "train_until": iso_day(dataset.calendar[dataset.t1[train].max()]),
        "positive_rate": float(dataset.y.mean()),
        "code_uri": code_uri,
        "data_hash": hashlib.sha256(dataset.x.tobytes() + dataset.y.tobytes()).hexdigest()[:16],
        "features": {
            "offline_store": f"s3://{settings.lake_bucket}/{offline}/",
            "read_from_store": store.read_from_store,
            "materialized": store.materialized,
        },
    }


def prepare_run(run_id: str, request: TrainRequest, settings: MlSettings, read: BarReader) -> dict[str, Any]:
    """build_dataset step: features from the offline store, data set to S3, one job per trial."""
    trials = validate_request(request, hyperparameters=False)
    feature_set = get_feature_set(request.feature_set)
    read = prefetch_bars(read, request.symbols)
    store = OfflineFeatures(settings.lake_bucket, feature_set, read)
    dataset = build_dataset(request, read, store)
    split = request_split(dataset, request)
    prefix = run_prefix(run_id)
    _write_channels(settings.artifacts_bucket, prefix, dataset, split)
    if settings.lake_database:
        feature_store.register_offline(settings.lake_database, settings.lake_bucket, feature_set.name,
                                       feature_set.version, list(feature_set.columns), dataset.symbols)  # fmt: skip
    summary = _summary(request, dataset, split, store, settings, model_code_uri(settings))
    artifacts.put(settings.artifacts_bucket, f"{prefix}/dataset.json", json.dumps(summary).encode())
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


# ------------------------------------------------------------------------------------ training
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
        return {
            "ChannelName": name,
            "DataSource": {"S3DataSource": source},
            "ContentType": CHANNEL_CONTENT_TYPE,
        }

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
    sagemaker_jobs.create_training_job(
        training_job_request(job, settings, code_uri or model_code_uri(settings))
    )
    return {**job, "status": "InProgress"}


def check_training(job: dict[str, Any]) -> dict[str, Any]:
    description = sagemaker_jobs.describe_training_job(job["job_name"])
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
    with tarfile.open(fileobj=io.BytesIO(artifacts.get(model_data))) as tar:
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
    return {
        "from": iso_day(calendar[rows[complete][0]]),
        "to": iso_day(calendar[rows[complete][-1]]),
        **summaries,
    }


def cpcv_evaluation(request: TrainRequest, data: Mapping[str, np.ndarray], files: Mapping[str, bytes],
                    job_name: str) -> dict[str, Any] | None:  # fmt: skip
    """AUC of every combinatorial purged CV backtest path of one trial (the job's out-of-sample predictions
    per split, assembled into paths by the domain), with their mean and standard deviation."""
    if request.cpcv_groups == 0:
        return None
    if "cpcv_predictions.npz" not in files:
        raise EvaluationError(f"training job {job_name} wrote no cpcv_predictions.npz")
    cv = CombinatorialPurgedCV(request.cpcv_groups, request.cpcv_test_groups, request.embargo_pct)
    with np.load(io.BytesIO(files["cpcv_predictions.npz"])) as saved:
        missing = [f"split_{i}" for i in range(cv.n_splits) if f"split_{i}" not in saved.files]
        if missing:
            raise EvaluationError(f"training job {job_name}: cpcv_predictions.npz lacks {', '.join(missing)}")
        predictions = [saved[f"split_{i}"] for i in range(cv.n_splits)]
    try:
        paths = cv.path_predictions(data["train_t0"], predictions)
    except ValueError as exc:
        raise EvaluationError(f"training job {job_name}: {exc}") from None
    return {
        "n_groups": cv.n_groups,
        "n_test_groups": cv.n_test_groups,
        "n_splits": cv.n_splits,
        "embargo_pct": cv.embargo_pct,
        "rows": len(data["train_y"]),
        **ml_metrics.path_auc_summary(data["train_y"], paths),
    }


def _score_trial(
    request: TrainRequest, data: Mapping[str, np.ndarray], job: Mapping[str, Any]
) -> dict[str, Any]:
    files = _model_files(job["model_data"])
    probability = np.loadtxt(io.BytesIO(files["validation_predictions.csv"]), ndmin=1)
    return {
        "trial": job["trial"],
        "job_name": job["job_name"],
        "model_data": job["model_data"],
        "hyperparameters": job["hyperparameters"],
        "validation": ml_metrics.classification_summary(data["y"], probability),
        "cpcv": cpcv_evaluation(request, data, files, job["job_name"]),
        "training_metrics": json.loads(files["metrics.json"]),
        "feature_importance": json.loads(files["feature_importance.json"]),
        "probability": probability,
    }


def evaluate_run(run_id: str, jobs: list[dict[str, Any]], settings: MlSettings) -> dict[str, Any]:
    """Score every trial on the validation set with the domain's metrics; the best by AUC (then log-loss)."""
    run = _run_or_fail(run_id)
    request = TrainRequest.model_validate(run.request)
    uri = f"s3://{settings.artifacts_bucket}/{run_prefix(run_id)}/evaluation.npz"
    with np.load(io.BytesIO(artifacts.get(uri))) as saved:
        data = {name: saved[name] for name in saved.files}
    trials = [_score_trial(request, data, job) for job in jobs]
    best = max(trials, key=lambda t: (t["validation"]["auc"] or 0.0, -(t["validation"]["log_loss"] or 0.0)))
    meta = request.label.kind == "meta"
    result = {key: value for key, value in best.items() if key != "probability"}
    result["trials"] = [
        {
            "trial": t["trial"],
            "hyperparameters": t["hyperparameters"],
            "validation_auc": t["validation"]["auc"],
            "validation_log_loss": t["validation"]["log_loss"],
            "cpcv_auc_mean": (t["cpcv"] or {}).get("auc_mean"),
            "cpcv_auc_std": (t["cpcv"] or {}).get("auc_std"),
        }
        for t in trials
    ]
    if meta:
        result["meta_labeling"] = metalabel.compare(data["y"], best["probability"])
    result["signal_backtest"] = signal_backtest(data, best["probability"], meta)
    artifacts.put(settings.artifacts_bucket, f"{run_prefix(run_id)}/evaluation.json",
                  json.dumps(result, default=to_json).encode())  # fmt: skip
    registry.update_run(
        run_id, step="evaluated", progress={**(run.progress or {}), "evaluation": _brief(result)}
    )
    return {"run_id": run_id, "best_trial": best["trial"], "validation_auc": best["validation"]["auc"]}


def _brief(evaluation: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: evaluation.get(key)
        for key in ("trial", "job_name", "validation", "cpcv", "trials", "meta_labeling", "signal_backtest")
    }


# ------------------------------------------------------------------------------- register, deploy
def _lineage(
    run_id: str, family: str, dataset: Mapping[str, Any], evaluation: Mapping[str, Any]
) -> dict[str, Any]:
    code_uri = dataset.get("code_uri")
    return {
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
        "offline_store": (dataset.get("features") or {}).get("offline_store"),
        "code_uri": code_uri,
        "code_hash": str(code_uri).rsplit("/", 2)[-2] if code_uri else None,
        "hyperparameters": evaluation["hyperparameters"],
        "training_job": evaluation["job_name"],
    }


def register_model(
    run_id: str, settings: MlSettings, publish: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    run = _run_or_fail(run_id)
    request = TrainRequest.model_validate(run.request)
    uri = f"s3://{settings.artifacts_bucket}/{run_prefix(run_id)}/evaluation.json"
    evaluation = json.loads(artifacts.get(uri))
    dataset = (run.progress or {}).get("dataset", {})
    family = family_of(request)
    metric = float(evaluation["validation"]["auc"] or 0.0)
    previous, previous_metric = registry.champion(family)
    version = registry.next_version(family)
    model_id = uuid.uuid4().hex
    model_metrics = {
        "validation": evaluation["validation"],
        "train": evaluation["training_metrics"].get("train"),
        "cv": evaluation["training_metrics"].get("cv"),
        "cpcv": evaluation.get("cpcv"),
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
        lineage=_lineage(run_id, family, dataset, evaluation),
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


def ensure_sagemaker_model(model: registry.RegistryItem, settings: MlSettings) -> str:
    """The registered version as a SageMaker Model (its artifacts + the inference handlers), created once."""
    name = sagemaker_model_name(settings, str(model.model_id))
    artifacts_ = model.artifacts or {}
    sagemaker_jobs.ensure_model(name, settings.sagemaker_role_arn, settings.training_image,
                                artifacts_["model_data"], artifacts_["code_uri"])  # fmt: skip
    return name


def deploy_model(run_id: str, model_id: str, settings: MlSettings) -> dict[str, Any]:
    """Create (or update in place) the family's endpoint to serve this model."""
    model = registry.get_model(model_id)
    if model is None:
        raise NotFound(f"No model {model_id}")
    name = endpoint_name(settings, str(model.family))
    sagemaker_model = ensure_sagemaker_model(model, settings)
    sagemaker_jobs.deploy_endpoint(name, sagemaker_model, sagemaker_model, settings.endpoint_instance_type)
    registry.set_model(model_id, endpoint=name)
    registry.update_run(run_id, step="deployed")
    return {"run_id": run_id, "model_id": model_id, "endpoint": name}


def error_cause(error: Mapping[str, Any]) -> str:
    """The cause of a Catch'ed error; Lambda errors arrive as JSON {"errorMessage": ..., "errorType": ...}."""
    cause = str(error.get("Cause") or error.get("Error") or "unknown error")
    try:
        parsed = json.loads(cause)
        cause = f"{parsed.get('errorType', 'Error')}: {parsed.get('errorMessage', cause)}"
    except (ValueError, AttributeError):
        pass
    return cause[:2000]


def finish_run(run_id: str, error: Mapping[str, Any] | None) -> dict[str, Any]:
    if error is None:
        registry.update_run(run_id, status="SUCCEEDED", step="done")
        return {"run_id": run_id, "status": "SUCCEEDED"}
    cause = error_cause(error)
    registry.update_run(run_id, status="FAILED", error=cause)
    return {"run_id": run_id, "status": "FAILED", "cause": cause}
