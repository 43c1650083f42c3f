"""Batch predictions' service steps against moto in process (S3, DynamoDB, Glue, SageMaker, Step Functions):
validation before anything starts, the transform's input (offline store rows of the window, exact), the output
matched back to its bars as Parquet in the lake, registered in Glue. The transform itself runs in the local
cloud's executor (tests/unit/ml/test_local_batch_transform.py, and end to end in the integration module); here
its output is written by the model's contract: one answer line per input line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from trade2026.adapters import artifacts, feature_store, predictions_store
from trade2026.adapters import model_registry as registry
from trade2026.adapters.aws import client
from trade2026.adapters.marketstate import bind_tables
from trade2026.domain.ml import metalabel
from trade2026.domain.ml.features import get_feature_set
from trade2026.errors import BadRequest, Conflict, NotFound
from trade2026.services import ml_batch
from trade2026.services.ml_common import MlSettings, batch_prefix

FEATURES = get_feature_set("alpha_v1")
SETTINGS = MlSettings.model_validate({
    "SYMBOLS_TABLE": "symbols", "MARKET_STATE_TABLE": "market-state", "LAKE_BUCKET": "lake",
    "LAKE_DATABASE": "lakedb", "ARTIFACTS_BUCKET": "artifacts", "MODEL_REGISTRY_TABLE": "registry",
    "FEATURE_STORE_TABLE": "features", "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sm",
    "TRAINING_IMAGE": "xgboost", "TRAINING_POLL_SECONDS": "1",
})  # fmt: skip


@pytest.fixture
def aws(stocks20: dict[str, dict[str, np.ndarray]]) -> Iterator[dict[str, Any]]:
    client.cache_clear()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="registry", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "kind", "created_at")
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "kind-index", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                              {"AttributeName": "created_at", "KeyType": "RANGE"}]}],
        )  # fmt: skip
        dynamodb.create_table(
            TableName="symbols", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
        )  # fmt: skip
        for symbol in ("AAPL", "XOM"):
            dynamodb.put_item(TableName="symbols", Item={
                "symbol": {"S": symbol}, "name": {"S": symbol}, "asset_class": {"S": "equity"},
                "source": {"S": "skfolio"}, "updated_at": {"N": "0"}})  # fmt: skip
        for bucket in ("lake", "artifacts"):
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        boto3.client("glue", region_name="us-east-1").create_database(DatabaseInput={"Name": "lakedb"})
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="batch",
            roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        registry.bind_table("registry")
        bind_tables("symbols", "market-state")
        yield {"machine": machine, "read": stocks20.__getitem__}
    client.cache_clear()


def _model(kind: str = "triple_barrier", feature_set: str = "alpha_v1:v1") -> str:
    model_id = f"{kind[:4]}{'0' * 28}"
    columns = list(FEATURES.columns) + (["primary_side"] if kind == "meta" else [])
    label = {"kind": kind, "primary_fast": 20, "primary_slow": 50}
    registry.create_model(
        model_id, family="f", version=1, stage="champion", owner="u", run_id="r",
        lineage={"feature_set": feature_set, "columns": columns, "label": label},
        metrics={}, artifacts={"model_data": "s3://artifacts/ml/m/model.tar.gz", "code_uri": "s3://artifacts/c.tgz"},
    )  # fmt: skip
    return model_id


def _settings(aws: dict[str, Any]) -> MlSettings:
    return SETTINGS.model_copy(update={"batch_state_machine_arn": aws["machine"]})


def _fake_transform(batch_id: str, answer: Any) -> None:
    """What the transform job writes: per input object, one answer line per input line."""
    prefix = batch_prefix(batch_id)
    for key in artifacts.list_keys("artifacts", f"{prefix}/input/"):
        rows = np.loadtxt(io.BytesIO(artifacts.get(f"s3://artifacts/{key}")), delimiter=",", ndmin=2)
        out = "\n".join(repr(float(v)) for v in answer(rows)) + "\n"
        artifacts.put("artifacts", key.replace("/input/", "/output/") + ".out", out.encode())


def test_a_batch_job_scores_the_offline_rows_of_the_window_and_writes_them_to_the_lake(
    aws: dict[str, Any], stocks20: dict[str, dict[str, np.ndarray]]
) -> None:
    # Given a registered model and a batch request for two symbols over two years
    model_id = _model()
    request = ml_batch.BatchPredictionRequest(symbols=["AAPL", "XOM"], start="2021-01-01", end="2022-12-28")

    # When it is started (the execution is recorded) and its steps run
    job = ml_batch.start_batch(model_id, request, "u", _settings(aws))
    batch_id = str(job.batch_id)
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=aws["machine"])["executions"]  # fmt: skip
    assert [e["name"] for e in executions] == [batch_id]
    prepared = ml_batch.prepare_batch(batch_id, SETTINGS, aws["read"])
    weights = np.linspace(-1.0, 1.0, len(FEATURES.columns))
    _fake_transform(batch_id, lambda rows: 1.0 / (1.0 + np.exp(-np.nan_to_num(rows) @ weights)))
    ml_batch.collect_batch(batch_id, SETTINGS)

    # Then the input was the offline store's rows of the window (materialized there first), exactly
    assert prepared["job_name"] == ml_batch.transform_job_name(batch_id)
    progress = registry.get_batch(batch_id).progress  # type: ignore[union-attr]
    assert progress["features"]["materialized"] == ["AAPL", "XOM"]
    assert (progress["from"], progress["to"]) == ("2021-01-04", "2022-12-28")
    start, end = (np.datetime64(d, "ns").astype(np.int64) for d in ("2021-01-01", "2022-12-28"))
    for symbol in ("AAPL", "XOM"):
        stored = feature_store.read_offline_rows(
            "lake", FEATURES.name, FEATURES.version, symbol, FEATURES.columns
        )
        assert stored is not None
        window = (stored[0] >= start) & (stored[0] <= end)
        # And the lake holds one prediction per bar of the window: the answer to that bar's row
        written = predictions_store.read_predictions("lake", model_id, symbol)
        np.testing.assert_array_equal(written["ts"], stored[0][window])
        expected = 1.0 / (1.0 + np.exp(-np.nan_to_num(stored[1][window]) @ weights))
        np.testing.assert_allclose(written["probability"], expected, rtol=1e-15)
        assert set(written["batch_id"]) == {batch_id} and np.all(np.isnan(written["bet_size"]))
    # And the table is in Glue with a partition per (model, symbol)
    glue = boto3.client("glue", region_name="us-east-1")
    partitions = glue.get_partitions(DatabaseName="lakedb", TableName="predictions")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in partitions) == [(model_id, "AAPL"), (model_id, "XOM")]
    assert progress["transform_job"] == prepared["job_name"]
    assert registry.get_batch(batch_id).progress["glue_table"] == "lakedb.predictions"  # type: ignore[union-attr]
    # And finishing marks it SUCCEEDED
    ml_batch.finish_batch(batch_id, None)
    assert registry.get_batch(batch_id).status == "SUCCEEDED"  # type: ignore[union-attr]


def test_a_meta_model_gets_the_primary_side_and_a_bet_size(
    aws: dict[str, Any], stocks20: dict[str, dict[str, np.ndarray]]
) -> None:
    # Given a meta model (its last feature is the primary crossover's side)
    model_id = _model("meta")
    request = ml_batch.BatchPredictionRequest(symbols=["AAPL"], start="2022-01-01")
    batch_id = str(ml_batch.start_batch(model_id, request, "u", _settings(aws)).batch_id)

    # When it is scored with a constant probability of 0.7
    ml_batch.prepare_batch(batch_id, SETTINGS, aws["read"])
    side_seen: list[np.ndarray] = []
    _fake_transform(batch_id, lambda rows: side_seen.append(rows[:, -1]) or np.full(len(rows), 0.7))
    ml_batch.collect_batch(batch_id, SETTINGS)

    # Then the rows carried the side from the closes up to each bar, and the lake holds the bet size
    bars = stocks20["AAPL"]
    in_window = bars["ts"] >= np.datetime64("2022-01-01", "ns").astype(np.int64)
    side = metalabel.crossover_side(bars["close"], 20, 50)[in_window]
    np.testing.assert_array_equal(side_seen[0], side)
    written = predictions_store.read_predictions("lake", model_id, "AAPL")
    np.testing.assert_allclose(written["bet_size"], metalabel.bet_size(np.full(len(side), 0.7), side))


@pytest.mark.parametrize(
    ("model", "body", "error", "message"),
    [
        ("missing", {"symbols": ["AAPL"]}, NotFound, "No model"),
        ("ok", {"symbols": ["AAPL", "NOPE"]}, BadRequest, r"Unknown symbol\(s\) NOPE"),
        ("ok", {"symbols": ["AAPL"], "start": "2022-02-01", "end": "2022-01-01"}, BadRequest, "empty window"),
        ("ok", {"symbols": ["AAPL"], "start": "yesterday"}, BadRequest, "yesterday"),
        ("old", {"symbols": ["AAPL"]}, Conflict, "the feature set is now alpha_v1:v1"),
    ],
)
def test_bad_batch_requests_are_refused_before_anything_starts(
    aws: dict[str, Any], model: str, body: dict[str, Any], error: type[Exception], message: str
) -> None:
    model_id = {"missing": "f" * 32, "ok": _model(), "old": _model("fixed_horizon", "alpha_v1:v0")}[model]
    with pytest.raises(error, match=message):
        ml_batch.start_batch(
            model_id, ml_batch.BatchPredictionRequest.model_validate(body), "u", _settings(aws)
        )
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=aws["machine"])["executions"]  # fmt: skip
    assert executions == []


def test_a_window_without_rows_and_a_short_output_fail_with_the_reason(aws: dict[str, Any]) -> None:
    model_id = _model()
    empty = ml_batch.start_batch(model_id, ml_batch.BatchPredictionRequest(symbols=["AAPL"], end="1980-01-01"),
                                 "u", _settings(aws))  # fmt: skip
    with pytest.raises(BadRequest, match="no feature rows to score"):
        ml_batch.prepare_batch(str(empty.batch_id), SETTINGS, aws["read"])

    short = ml_batch.start_batch(model_id, ml_batch.BatchPredictionRequest(symbols=["AAPL"], start="2022-06-01"),
                                 "u", _settings(aws))  # fmt: skip
    ml_batch.prepare_batch(str(short.batch_id), SETTINGS, aws["read"])
    _fake_transform(str(short.batch_id), lambda rows: np.full(len(rows) - 1, 0.5))
    with pytest.raises(ml_batch.BatchOutputError, match=r"rows in, \d+ predictions out"):
        ml_batch.collect_batch(str(short.batch_id), SETTINGS)
    cause = {
        "Error": "BatchOutputError",
        "Cause": json.dumps({"errorType": "BatchOutputError", "errorMessage": "x"}),
    }
    assert ml_batch.finish_batch(str(short.batch_id), cause)["cause"] == "BatchOutputError: x"
    assert registry.get_batch(str(short.batch_id)).status == "FAILED"  # type: ignore[union-attr]
