"""ML API: feature sets and vectors, training runs (Step Functions + SageMaker), the model registry, predictions,
batch predictions into the lake."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters import feature_store
from trade2026.adapters import model_registry as registry
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.errors import NotFound
from trade2026.observability import logger, metrics, tracer
from trade2026.services import ml, ml_batch, ml_dataset
from trade2026.services.ml_common import ml_settings

settings = ml_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
registry.bind_table(settings.registry_table)
feature_store.bind_table(settings.feature_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()
ID = Annotated[str, Path(pattern="^[0-9a-f]{32}$")]


class TrainingRunInfo(BaseModel):
    id: str
    status: str
    step: str | None = None
    created_at: str
    model_id: str | None = None
    error: str | None = None
    request: dict[str, Any] = {}
    progress: dict[str, Any] = {}


class ModelInfo(BaseModel):
    id: str
    family: str
    version: int
    stage: str
    created_at: str
    endpoint: str | None = None
    run_id: str | None = None
    lineage: dict[str, Any] = {}
    metrics: dict[str, Any] = {}


class BatchPredictionInfo(BaseModel):
    id: str
    model_id: str
    status: str
    step: str | None = None
    created_at: str
    error: str | None = None
    request: dict[str, Any] = {}
    progress: dict[str, Any] = {}


def _run(item: registry.RegistryItem) -> TrainingRunInfo:
    return TrainingRunInfo(id=str(item.run_id), status=str(item.status), step=item.step, created_at=item.created_at,
                   model_id=item.model_id, error=item.error, request=item.request or {},
                   progress=item.progress or {})  # fmt: skip


def _batch(item: registry.RegistryItem) -> BatchPredictionInfo:
    return BatchPredictionInfo(id=str(item.batch_id), model_id=str(item.model_id), status=str(item.status),
                               step=item.step, created_at=item.created_at, error=item.error,
                               request=item.request or {}, progress=item.progress or {})  # fmt: skip


def _model(item: registry.RegistryItem, full: bool = True) -> ModelInfo:
    return ModelInfo(
        id=str(item.model_id),
        family=str(item.family),
        version=int(item.version or 0),
        stage=str(item.stage),
        created_at=item.created_at,
        endpoint=item.endpoint,
        run_id=item.run_id,
        lineage=item.lineage or {},
        metrics=(item.metrics or {}) if full else {"validation": (item.metrics or {}).get("validation")},
    )


@app.get("/v1/features", summary="The feature sets (name, version, columns, warm-up)")
def list_feature_sets() -> dict[str, Any]:
    current_caller(app)
    return {"feature_sets": ml.describe_feature_sets()}


@app.get("/v1/features/<feature_set>/<symbol>", summary="A symbol's latest feature vector (online store)")
def get_features(feature_set: str, symbol: str) -> dict[str, Any]:
    current_caller(app)
    return ml.latest_features(feature_set, symbol, ml_dataset.lake_bar_reader(lake, None))


@app.post("/v1/models/train", summary="Start a training run (asynchronous): returns its id")
def train(body: ml_dataset.TrainRequest) -> Response[TrainingRunInfo]:
    caller = current_caller(app)
    caller.require_any("trader")
    run = ml.start_run(body, caller.user_id, settings, ml_dataset.lake_bar_reader(lake, body.end))
    return Response(202, content_types.APPLICATION_JSON, _run(run))


@app.get("/v1/models/runs/<run_id>", summary="A training run's progress, evaluation and outcome")
def get_run(run_id: ID) -> TrainingRunInfo:
    caller = current_caller(app)
    run = registry.get_run(run_id)
    if run is None or (run.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No training run {run_id}")
    return _run(run)


@app.get("/v1/models", summary="Registered models, newest first")
def list_models() -> dict[str, list[ModelInfo]]:
    current_caller(app)
    return {"models": [_model(item, full=False) for item in registry.list_models()]}


@app.get("/v1/models/<model_id>", summary="A model version: stage, lineage, metrics, endpoint")
def get_model(model_id: ID) -> ModelInfo:
    current_caller(app)
    item = registry.get_model(model_id)
    if item is None:
        raise NotFound(f"No model {model_id}")
    return _model(item)


@app.post("/v1/models/<model_id>/predict", summary="Probabilities from the model's SageMaker endpoint")
def predict(model_id: ID, body: ml.PredictRequest) -> dict[str, Any]:
    current_caller(app)
    return ml.predict(model_id, body)


@app.post(
    "/v1/models/<model_id>/batch-predictions",
    summary="Score the model over symbols x dates into the lake (asynchronous): returns the job",
)
def start_batch_predictions(
    model_id: ID, body: ml_batch.BatchPredictionRequest
) -> Response[BatchPredictionInfo]:
    caller = current_caller(app)
    caller.require_any("trader")
    job = ml_batch.start_batch(model_id, body, caller.user_id, settings)
    return Response(202, content_types.APPLICATION_JSON, _batch(job))


@app.get(
    "/v1/models/<model_id>/batch-predictions/<batch_id>",
    summary="A batch prediction job: status, rows per symbol, where the predictions are in the lake",
)
def get_batch_predictions(model_id: ID, batch_id: ID) -> BatchPredictionInfo:
    caller = current_caller(app)
    job = registry.get_batch(batch_id)
    if job is None or job.model_id != model_id or (job.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No batch prediction job {batch_id} of model {model_id}")
    return _batch(job)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
