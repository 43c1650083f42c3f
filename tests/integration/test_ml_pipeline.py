"""The ML pipeline on the local cloud with the real 20-stock data: training set (offline store) -> SageMaker
training jobs (hyperparameter trials, combinatorial purged CV) -> evaluation -> registry -> endpoint ->
predictions, through the local Step Functions; batch predictions into the lake (SageMaker batch transform);
bad requests; a failing training job; the online feature store fed by BarClosed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
import uuid
from typing import Any

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily

pytestmark = pytest.mark.integration
STOCKS20 = sorted({str(s) for s in load_daily("stocks20")["symbol"]})
TRAIN = {
    "symbols": STOCKS20,
    "start": "2000-01-01",
    "end": "2022-12-28",
    "feature_set": "alpha_v1",
    "label": {"kind": "triple_barrier", "horizon": 10, "profit_take": 1.0, "stop_loss": 1.0},
    "event_step": 5,
    "cv_folds": 3,
    "cpcv_groups": 4,
    "cpcv_test_groups": 2,
    "hyperparameters": {"max_depth": [2, 3], "num_round": 80, "eta": 0.1},
    "max_trials": 2,
}


@pytest.fixture(scope="module")
def stocks20(cloud: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "stocks20", "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _resources(cloud: Any) -> dict[str, Any]:
    state = json.loads((cloud.state_dir / "state.json").read_text())
    return {lid: r["ref"] for stack in state["stacks"].values() for lid, r in stack["resources"].items()}


def _wait_for_run(cloud: Any, token: str, run_id: str, timeout_s: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = cloud.get(f"/v1/models/runs/{run_id}", token).json()
        if run["status"] in ("SUCCEEDED", "FAILED"):
            return run
        time.sleep(2)
    raise AssertionError(f"run {run_id} still {run['status']} at step {run['step']} after {timeout_s} s")


@pytest.fixture(scope="module")
def trained(cloud: Any, trader_token: str, stocks20: None) -> dict[str, Any]:
    started = cloud.post("/v1/models/train", trader_token, json=TRAIN)
    assert started.status_code == 202, started.text
    return _wait_for_run(cloud, trader_token, started.json()["id"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"feature_set": "alpha_v9"}, "unknown feature set 'alpha_v9'"),
        ({"start": "2022-12-20"}, "empty training window"),
        (
            {"start": None, "end": "1990-03-01", "label": {"horizon": 100}},
            "label horizon of 100 bars is longer",
        ),
        ({"hyperparameters": {"max_depth": "deep"}}, "hyperparameter max_depth must be a number, got 'deep'"),
        ({"cpcv_groups": 3, "cpcv_test_groups": 3}, "cpcv_test_groups < cpcv_groups"),
    ],
)
def test_bad_training_requests_are_4xx_with_the_reason(
    cloud: Any, trader_token: str, stocks20: None, change: dict[str, Any], reason: str
) -> None:
    # Given a training request with one bad part, When it is posted
    response = cloud.post("/v1/models/train", trader_token, json={**TRAIN, **change})
    # Then it is refused before anything starts, with the reason
    assert response.status_code == 400, response.text
    assert reason in response.text


def test_end_to_end_training_registers_deploys_and_serves_the_saved_model(
    cloud: Any, trader_token: str, trained: dict[str, Any]
) -> None:
    # Given a run over the 20 stocks through the local Step Functions (fixture)
    assert trained["status"] == "SUCCEEDED", trained.get("error")
    progress = trained["progress"]
    assert progress["dataset"]["rows_train"] > 10_000 and progress["dataset"]["purged"] > 0
    assert len(progress["trials"]) == 2
    # And the training set's features came from the offline store (materialized there when it lacked them)
    features = progress["dataset"]["features"]
    assert sorted(features["materialized"] + features["read_from_store"]) == STOCKS20
    assert features["offline_store"].endswith("/features/alpha_v1/v1/")
    evaluation = progress["evaluation"]
    assert 0.0 < evaluation["validation"]["auc"] < 1.0
    assert evaluation["signal_backtest"]["model"]["sharpe"] is not None
    # And the evaluation reports combinatorial purged CV: N=4, k=2 -> 6 splits, 3 paths, AUC per path
    cpcv = evaluation["cpcv"]
    assert (cpcv["n_splits"], cpcv["n_paths"], len(cpcv["path_auc"])) == (6, 3, 3)
    assert 0.0 < cpcv["auc_mean"] < 1.0 and cpcv["auc_std"] >= 0.0
    assert cpcv["auc_mean"] == pytest.approx(float(np.mean(cpcv["path_auc"])))
    assert all(t["cpcv_auc_mean"] is not None for t in evaluation["trials"])

    # Then the model is registered with its lineage, champion of its family, behind an endpoint
    model = cloud.get(f"/v1/models/{trained['model_id']}", trader_token).json()
    assert model["stage"] == "champion" and model["endpoint"]
    lineage = model["lineage"]
    assert lineage["feature_set"] == "alpha_v1:v1" and lineage["symbols"] == STOCKS20
    assert lineage["hyperparameters"]["max_depth"] in (2, 3) and lineage["code_hash"]
    assert model["metrics"]["cv"]["cv_folds"] == 3
    assert model["metrics"]["cpcv"] == cpcv  # the registry stores the CPCV metrics
    listed = cloud.get("/v1/models", trader_token).json()["models"]
    assert trained["model_id"] in [m["id"] for m in listed]

    # When validation rows are sent to POST /v1/models/{id}/predict (Lambda -> InvokeEndpoint)
    s3 = cloud.client("s3")
    bucket = lineage["code_uri"].removeprefix("s3://").split("/")[0]  # the artifacts bucket
    channel = s3.get_object(Bucket=bucket, Key=f"ml/runs/{trained['id']}/validation/validation.npz")["Body"]
    with np.load(io.BytesIO(channel.read())) as validation:
        rows = validation["features"][:25]
    instances = [[None if np.isnan(v) else float(v) for v in row] for row in rows]
    response = cloud.post(
        f"/v1/models/{trained['model_id']}/predict", trader_token, json={"instances": instances}
    )
    assert response.status_code == 200, response.text

    # Then the endpoint's predictions equal the saved model loaded directly with xgboost
    xgb = pytest.importorskip("xgboost")
    booster = _saved_booster(cloud, trained)
    direct = booster.predict(xgb.DMatrix(rows, feature_names=lineage["columns"], missing=np.nan))
    np.testing.assert_array_equal(np.asarray(response.json()["predictions"]), direct.astype(np.float64))


def _saved_booster(cloud: Any, trained: dict[str, Any]) -> Any:
    xgb = pytest.importorskip("xgboost")
    bucket, _, key = _model_data(cloud, trained).removeprefix("s3://").partition("/")
    archive = cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        saved = tar.extractfile("model.json").read()  # type: ignore[union-attr]
    booster = xgb.Booster()
    booster.load_model(bytearray(saved))
    return booster


def _parquet(cloud: Any, bucket: str, prefix: str) -> dict[str, np.ndarray]:
    """Every Parquet object under the prefix, concatenated, sorted by ts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3 = cloud.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    assert keys, f"nothing under s3://{bucket}/{prefix}"
    table = pa.concat_tables(
        [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) for key in keys]
    ).sort_by("ts")
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _wait_for_batch(
    cloud: Any, token: str, model_id: str, batch_id: str, timeout_s: float = 600
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = cloud.get(f"/v1/models/{model_id}/batch-predictions/{batch_id}", token).json()
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return dict(job)
        time.sleep(2)
    raise AssertionError(
        f"batch job {batch_id} still {job['status']} at step {job['step']} after {timeout_s} s"
    )


def test_batch_predictions_in_the_lake_equal_the_saved_models_on_the_same_rows(
    cloud: Any, trader_token: str, trained: dict[str, Any]
) -> None:
    # Given the trained model, When AAPL and XOM from 2021 to the end are scored in batch
    # (POST -> state machine -> offline store rows -> SageMaker batch transform -> Parquet in the lake)
    model_id = trained["model_id"]
    body = {"symbols": ["AAPL", "XOM"], "start": "2021-01-01", "end": "2022-12-28"}
    started = cloud.post(f"/v1/models/{model_id}/batch-predictions", trader_token, json=body)
    assert started.status_code == 202, started.text
    job = _wait_for_batch(cloud, trader_token, model_id, started.json()["id"])

    # Then the job succeeded, one row per bar of each symbol in the window
    assert job["status"] == "SUCCEEDED", job.get("error")
    progress = job["progress"]
    assert [(p["symbol"], p["rows"] > 400) for p in progress["symbols"]] == [("AAPL", True), ("XOM", True)]
    assert (progress["from"], progress["to"]) == ("2021-01-04", "2022-12-28")
    resources = _resources(cloud)
    lake, database = resources["LakeBucket"], resources["LakeDatabase"]
    assert progress["output"] == f"s3://{lake}/predictions/model_id={model_id}/"
    assert progress["glue_table"] == f"{database}.predictions"

    # And the predictions in the lake equal the saved model's on the offline store's rows of those bars
    xgb = pytest.importorskip("xgboost")
    booster = _saved_booster(cloud, trained)
    columns = cloud.get(f"/v1/models/{model_id}", trader_token).json()["lineage"]["columns"]
    for part in progress["symbols"]:
        symbol = part["symbol"]
        predictions = _parquet(cloud, lake, f"predictions/model_id={model_id}/symbol={symbol}/")
        store = _parquet(cloud, lake, f"features/alpha_v1/v1/symbol={symbol}/")
        start, end = (np.datetime64(d, "ns").astype(np.int64) for d in ("2021-01-01", "2022-12-28"))
        rows = (store["ts"] >= start) & (store["ts"] <= end)
        np.testing.assert_array_equal(predictions["ts"], store["ts"][rows])
        matrix = np.column_stack([store[c][rows] for c in columns])
        direct = booster.predict(xgb.DMatrix(matrix, feature_names=columns, missing=np.nan))
        np.testing.assert_array_equal(predictions["probability"], direct.astype(np.float64))
        assert len(predictions["probability"]) == part["rows"]
        assert set(predictions["batch_id"]) == {job["id"]} and np.all(np.isnan(predictions["bet_size"]))

    # And the table is registered in Glue, partitioned by model id and symbol
    glue = cloud.client("glue")
    table = glue.get_table(DatabaseName=database, Name="predictions")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["model_id", "symbol"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [
        "ts",
        "probability",
        "bet_size",
        "batch_id",
    ]
    partitions = {
        tuple(p["Values"])
        for p in glue.get_partitions(DatabaseName=database, TableName="predictions")["Partitions"]
    }
    assert {(model_id, "AAPL"), (model_id, "XOM")} <= partitions

    # And another user cannot see the job
    viewer = cloud.id_token("viewer")
    assert cloud.get(f"/v1/models/{model_id}/batch-predictions/{job['id']}", viewer).status_code == 404


def test_bad_batch_requests_are_4xx_and_a_job_without_rows_fails_with_the_cause(
    cloud: Any, trader_token: str, trained: dict[str, Any]
) -> None:
    model_id = trained["model_id"]
    path = f"/v1/models/{model_id}/batch-predictions"
    # Given bad requests, Then each is refused before anything starts, with the reason
    for body, status, reason in [
        ({"symbols": ["NOPE"]}, 400, "Unknown symbol(s) NOPE"),
        ({"symbols": ["AAPL"], "start": "2022-01-01", "end": "2021-01-01"}, 400, "empty window"),
        ({"symbols": []}, 422, "symbols"),
    ]:
        response = cloud.post(path, trader_token, json=body)
        assert response.status_code == status, response.text
        assert reason in response.text
    unknown = cloud.post(f"/v1/models/{'0' * 32}/batch-predictions", trader_token, json={"symbols": ["AAPL"]})
    assert unknown.status_code == 404
    assert cloud.post(path, cloud.id_token("viewer"), json={"symbols": ["AAPL"]}).status_code == 403

    # When a job asks for dates before any bar, Then it ends FAILED with the cause
    started = cloud.post(
        path, trader_token, json={"symbols": ["AAPL"], "start": "1970-01-01", "end": "1970-12-31"}
    )
    assert started.status_code == 202, started.text
    job = _wait_for_batch(cloud, trader_token, model_id, started.json()["id"])
    assert job["status"] == "FAILED" and "no feature rows to score" in job["error"]


def _model_data(cloud: Any, trained: dict[str, Any]) -> str:
    table = _resources(cloud)["ModelRegistryTable"]
    item = cloud.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"MODEL#{trained['model_id']}"}, "sk": {"S": "META"}}
    )["Item"]
    return str(json.loads(item["artifacts"]["S"])["model_data"])


def test_a_failed_training_job_ends_the_execution_failed_with_the_cause(cloud: Any, stocks20: None) -> None:
    # Given a run started by hand (not through the API's validation) with a hyperparameter train.py rejects
    resources = _resources(cloud)
    run_id = uuid.uuid4().hex
    request = {**TRAIN, "symbols": ["AAPL", "MSFT"], "start": "2015-01-01", "cv_folds": 0,
               "hyperparameters": {"max_depth": "abc"}, "max_trials": 1}  # fmt: skip
    cloud.client("dynamodb").put_item(
        TableName=resources["ModelRegistryTable"],
        Item={"pk": {"S": f"RUN#{run_id}"}, "sk": {"S": "META"}, "kind": {"S": "run"},
              "created_at": {"S": "2026-11-25T00:00:00Z"}, "owner": {"S": "someone"}, "run_id": {"S": run_id},
              "status": {"S": "PENDING"}, "request": {"S": json.dumps(request)}, "progress": {"S": "{}"}},
    )  # fmt: skip
    sfn = cloud.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=resources["TrainModelStateMachine"], name=run_id, input=json.dumps({"run_id": run_id})
    )["executionArn"]

    # When the execution ends
    deadline = time.monotonic() + 300
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(2)

    # Then it is FAILED with the training job's own error as the cause, and the run record says so
    assert described["status"] == "FAILED"
    failed = [
        e
        for e in sfn.get_execution_history(executionArn=execution)["events"]
        if e["type"] == "ExecutionFailed"
    ]
    details = failed[-1]["executionFailedEventDetails"]
    assert details["error"] == "TrainingFailed"
    assert "TrainingJobFailedError" in details["cause"] and "invalid int value: 'abc'" in details["cause"]
    admin = cloud.id_token("admin")
    run = cloud.get(f"/v1/models/runs/{run_id}", admin).json()
    assert run["status"] == "FAILED" and "invalid int value: 'abc'" in run["error"]


def test_feature_sets_and_the_online_store_fed_by_bar_closed(
    cloud: Any, trader_token: str, stocks20: None
) -> None:
    # Given the feature sets and AAPL's latest vector computed from the lake
    sets = cloud.get("/v1/features", trader_token).json()["feature_sets"]
    assert {s["key"] for s in sets} == {"alpha_v1:v1", "alpha_ohlcv_v1:v1"}
    computed = cloud.get("/v1/features/alpha_v1/AAPL", trader_token).json()
    assert computed["as_of"] == "2022-12-28" and computed["values"]["rsi_14"] is not None
    assert cloud.get("/v1/features/nope/AAPL", trader_token).status_code == 400

    # When a BarClosed event for AAPL's last bar goes over the bus
    resources = _resources(cloud)
    last_bar = int(np.datetime64("2022-12-28", "ns").astype(np.int64))
    detail = {"symbol": "AAPL", "start": last_bar, "close": 1.0, "id": f"AAPL:1d:{last_bar}"}
    cloud.client("events").put_events(Entries=[{
        "EventBusName": resources["EventBus"], "Source": "trade2026.marketdata", "DetailType": "BarClosed",
        "Detail": json.dumps(detail)}])  # fmt: skip

    # Then the online store holds the same vector, served from there
    deadline = time.monotonic() + 60
    while (online := cloud.get("/v1/features/alpha_v1/AAPL", trader_token).json())["source"] != "online":
        assert time.monotonic() < deadline, "the online store was not updated"
        time.sleep(1)
    assert online["ts"] == computed["ts"]
    assert online["values"] == pytest.approx(computed["values"], rel=1e-12, nan_ok=True)
