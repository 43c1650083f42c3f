"""The ML API's side of the pipeline: training runs started, feature vectors, endpoint predictions.

The pipeline is split by concern:
    ml_common     settings, artifact locations, the model code's publication
    ml_dataset    training requests; point-in-time training sets (offline store rows as-of joined to labels);
                  purged splits, k-fold and combinatorial purged CV; .npz channels
    ml_training   the train_model state machine's tasks (SageMaker training jobs, evaluation with CPCV paths,
                  registry, endpoint)
    ml_batch      batch scoring into the lake (SageMaker batch transform) and its state machine's tasks
    ml            (this module) what the API calls: start a run, latest features, predictions

    POST /v1/models/train          validate (400 before anything starts) -> run record -> train_model machine
    GET  /v1/features/{set}/{sym}  the online store's vector, else the last row computed from the lake
    POST /v1/models/{id}/predict   sagemaker-runtime InvokeEndpoint (xgboost is never imported here)
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import feature_store, sagemaker_jobs, workflows
from trade2026.adapters import model_registry as registry
from trade2026.domain.ml import metalabel
from trade2026.domain.ml.features import FEATURE_SETS, get_feature_set
from trade2026.errors import BadRequest, Conflict, NotFound
from trade2026.services.ml_common import MlSettings, iso_day
from trade2026.services.ml_dataset import (
    BarReader,
    TrainRequest,
    build_dataset,
    feature_set_or_400,
    prefetch_bars,
    request_split,
    validate_request,
)

MAX_PREDICT_ROWS = 1_000


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[list[float | None]] | None = Field(None, max_length=MAX_PREDICT_ROWS)
    symbols: list[str] | None = Field(None, max_length=100, description="use the online store's latest row")


def start_run(
    request: TrainRequest, owner: str, settings: MlSettings, read: BarReader
) -> registry.RegistryItem:
    """Validate everything that can be checked before the state machine starts (400 with the reason).

    The data set is built here from features computed in memory (the same rows the offline store holds): the
    run itself reads the store; this only finds unknown symbols, empty windows, too-long horizons, CV splits
    that cannot be made.
    """
    validate_request(request)
    request_split(build_dataset(request, prefetch_bars(read, request.symbols)), request)
    run_id = uuid.uuid4().hex
    run = registry.create_run(run_id, owner, request.model_dump())
    workflows.start(settings.state_machine_arn, run_id, {"run_id": run_id})
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
            "as_of": iso_day(stored.ts),
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
        "as_of": iso_day(ts),
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
    probabilities = sagemaker_jobs.invoke_endpoint(model.endpoint, rows)
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
