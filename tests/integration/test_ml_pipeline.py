"""The ML pipeline on the local cloud with the real 20-stock data: training set -> SageMaker training jobs
(hyperparameter trials) -> evaluation -> registry -> endpoint -> predictions, through the local Step Functions;
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
    evaluation = progress["evaluation"]
    assert 0.0 < evaluation["validation"]["auc"] < 1.0
    assert evaluation["signal_backtest"]["model"]["sharpe"] is not None

    # Then the model is registered with its lineage, champion of its family, behind an endpoint
    model = cloud.get(f"/v1/models/{trained['model_id']}", trader_token).json()
    assert model["stage"] == "champion" and model["endpoint"]
    lineage = model["lineage"]
    assert lineage["feature_set"] == "alpha_v1:v1" and lineage["symbols"] == STOCKS20
    assert lineage["hyperparameters"]["max_depth"] in (2, 3) and lineage["code_hash"]
    assert model["metrics"]["cv"]["cv_folds"] == 3
    listed = cloud.get("/v1/models", trader_token).json()["models"]
    assert trained["model_id"] in [m["id"] for m in listed]

    # When validation rows are sent to POST /v1/models/{id}/predict (Lambda -> InvokeEndpoint)
    s3 = cloud.client("s3")
    bucket = lineage["code_uri"].removeprefix("s3://").split("/")[0]  # the artifacts bucket
    rows_csv = s3.get_object(Bucket=bucket, Key=f"ml/runs/{trained['id']}/validation/validation.csv")[
        "Body"
    ].read()
    rows = np.loadtxt(io.BytesIO(rows_csv), delimiter=",", ndmin=2)[:25, 2:]
    instances = [[None if np.isnan(v) else float(v) for v in row] for row in rows]
    response = cloud.post(
        f"/v1/models/{trained['model_id']}/predict", trader_token, json={"instances": instances}
    )
    assert response.status_code == 200, response.text

    # Then the endpoint's predictions equal the saved model loaded directly with xgboost
    xgb = pytest.importorskip("xgboost")
    model_data = _model_data(cloud, trained)
    archive = s3.get_object(Bucket=bucket, Key=model_data.removeprefix(f"s3://{bucket}/"))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        saved = tar.extractfile("model.json").read()  # type: ignore[union-attr]
    booster = xgb.Booster()
    booster.load_model(bytearray(saved))
    direct = booster.predict(xgb.DMatrix(rows, feature_names=lineage["columns"], missing=np.nan))
    np.testing.assert_array_equal(np.asarray(response.json()["predictions"]), direct.astype(np.float64))


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
