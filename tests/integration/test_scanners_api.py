"""Scanners, screener, saved screens (with the scheduled run and its event) and the time machine on the local
cloud, over HTTP, on the real daily data loaded through the CLI."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import requests

from trade2026.adapters.demo_data import load_daily

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(cloud):
    for source in ("stocks20", "sp500"):
        result = subprocess.run(
            [sys.executable, "-m", "localcloud", "ingest", "--source", source, "--state-dir", str(cloud.state_dir)],
            check=False, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    return load_daily("stocks20")


def test_the_catalogue_lists_twelve_scanners_with_their_parameters(cloud, trader_token):
    response = cloud.get("/v1/scanners", trader_token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["scanners"]) == 12
    rsi = next(s for s in body["scanners"] if s["name"] == "rsi_extremes")
    assert {p["name"] for p in rsi["params"]} == {"period", "lower", "upper"}
    assert "return_Nd" in body["screener_fields"]


def test_a_scan_returns_ranked_hits_with_numbers_and_its_study(cloud, trader_token, data):
    # Given the 20 stocks and the S&P 500 in the lake, When 12-1 momentum runs on 2016-06-30
    body = {"as_of": "2016-06-30", "horizons": [1, 5, 20]}
    response = cloud.post("/v1/scanners/momentum_12_1/run", trader_token, json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    # Then the top hit's score is its 12-1 return computed from the package data by hand
    top = result["hits"][0]
    closes = data["close"][data["symbol"] == top["symbol"]]
    dates = data["date"][data["symbol"] == top["symbol"]]
    t = int(np.searchsorted(dates, np.datetime64("2016-06-30"), side="right")) - 1
    assert top["score"] == pytest.approx(closes[t - 21] / closes[t - 252] - 1, rel=1e-9)
    assert top["side"] == "bullish" and top["rank"] == 1
    # And the study counts hits and compares them with the universe for each horizon
    assert result["study"]["horizons"]["20"]["hits"] > 1000
    assert result["study"]["horizons"]["20"]["universe_mean"] is not None


def test_scanners_needing_ranges_skip_the_close_only_stocks(cloud, trader_token, data):
    response = cloud.post(
        "/v1/scanners/adx_trend/run", trader_token, json={"as_of": "2016-06-30", "study": False}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    reasons = {s["symbol"]: s["reason"] for s in result["skipped"]}
    stocks = {str(s) for s in np.unique(data["symbol"])}  # other tests may have loaded more symbols
    assert len(stocks) == 20 and stocks <= set(reasons) and all("close-only" in reasons[s] for s in stocks)
    assert result["scored"] >= 1  # the S&P 500 (OHLCV)


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/v1/scanners/astrology/run", {}, 404, "known: momentum_12_1"),
        ("/v1/scanners/rsi_extremes/run", {"params": {"period": 1}}, 422, "period must be in [2, 200]"),
        ("/v1/scanners/rsi_extremes/run", {"symbols": ["NOPE"]}, 400, "Unknown symbol 'NOPE'"),
        ("/v1/scanners/momentum_12_1/run", {"as_of": "1990-06-29"}, 400, "the window is longer than the history"),
        ("/v1/screener/run", {"filter": {"field": "pe", "op": ">", "value": 1}}, 422, "unknown field 'pe'; allowed"),
        ("/v1/screener/run", {"filter": {"field": "price", "op": "=~", "value": 1}}, 422, "unknown operator"),
        ("/v1/alpha/time-machine/find-matches", {"symbol": "SP500", "window": 900, "end": "1999-06-30"}, 400,
         "longer than the history of SP500"),
        ("/v1/alpha/time-machine/find-matches", {"symbol": "NOPE"}, 400, "Unknown symbol 'NOPE'"),
        ("/v1/alpha/time-machine/find-matches", {"symbol": "SP500", "window": 2}, 422, "window"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_the_reason(cloud, trader_token, data, path, body, status, words):
    response = cloud.post(path, trader_token, json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


def test_the_screener_filters_and_sorts(cloud, trader_token, data):
    screen = {
        "as_of": "2016-06-30",
        "filter": {"all": [
            {"field": "return_20d", "op": ">", "value": 0},
            {"field": "volatility_20d", "op": "<", "value": 1},
        ]},
        "sort": [{"field": "return_20d", "order": "desc"}],
        "limit": 5,
    }  # fmt: skip
    response = cloud.post("/v1/screener/run", trader_token, json=screen)
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    returns = [row["values"]["return_20d"] for row in rows]
    assert 0 < len(rows) <= 5 and returns == sorted(returns, reverse=True) and min(returns) > 0


def test_saved_screens_are_private_and_scheduled_runs_publish_screen_completed(cloud, trader_token, data):
    # Given a rule that copies ScreenCompleted events from the platform bus to a queue
    sqs, events = cloud.client("sqs"), cloud.client("events")
    queue = sqs.create_queue(QueueName="scanners-test-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="scanners-test", EventBusName="trade2026-dev",
                    EventPattern=json.dumps({"detail-type": ["ScreenCompleted"]}))  # fmt: skip
    events.put_targets(Rule="scanners-test", EventBusName="trade2026-dev", Targets=[{"Id": "q", "Arn": arn}])
    # When the trader saves a scheduled screen
    screen = {"name": "positive month", "schedule": "daily",
              "filter": {"field": "return_20d", "op": ">", "value": 0}, "sort": [{"field": "return_20d"}]}  # fmt: skip
    created = cloud.post("/v1/screens", trader_token, json=screen)
    assert created.status_code == 201, created.text
    screen_id = created.json()["id"]
    # Then the trader reads it back and lists it; the viewer gets 404 and an empty list
    viewer = cloud.id_token("viewer")
    assert cloud.get(f"/v1/screens/{screen_id}", trader_token).json()["name"] == "positive month"
    assert screen_id in [s["id"] for s in cloud.get("/v1/screens", trader_token).json()["screens"]]
    assert cloud.get(f"/v1/screens/{screen_id}", viewer).status_code == 404
    assert cloud.get("/v1/screens", viewer).json()["screens"] == []
    bad = cloud.post(
        "/v1/screens", trader_token, json=screen | {"filter": {"field": "pe", "op": ">", "value": 1}}
    )
    assert bad.status_code == 422
    # When the schedule fires (the scheduled function is invoked as EventBridge would)
    invoked = cloud.client("lambda").invoke(FunctionName="trade2026-dev-screens-schedule", Payload=b"{}")
    assert json.loads(invoked["Payload"].read())["completed"] >= 1
    # Then a ScreenCompleted event for the screen is on the bus and the screen records its last run
    details = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(d.get("screen_id") == screen_id for d in details):
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            details.append(json.loads(message["Body"])["detail"])
    detail = next(d for d in details if d["screen_id"] == screen_id)
    assert detail["as_of"] == "2022-12-28" and detail["matched"] == len(detail["symbols"]) > 0
    assert cloud.get(f"/v1/screens/{screen_id}", trader_token).json()["last_run"]["as_of"] == "2022-12-28"
    # And the viewer cannot delete it; the owner can, after which it is gone
    headers = {"Authorization": viewer}
    assert (
        requests.delete(f"{cloud.api_url}/v1/screens/{screen_id}", headers=headers, timeout=30).status_code
        == 404
    )
    headers = {"Authorization": trader_token}
    assert (
        requests.delete(f"{cloud.api_url}/v1/screens/{screen_id}", headers=headers, timeout=30).status_code
        == 204
    )
    assert cloud.get(f"/v1/screens/{screen_id}", trader_token).status_code == 404


def test_the_time_machine_finds_matches_across_all_symbols(cloud, trader_token, data):
    body = {"symbol": "SP500", "end": "2018-06-29", "window": 60, "k": 10, "all_symbols": True}
    response = cloud.post("/v1/alpha/time-machine/find-matches", trader_token, json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["matches"]) == 10 and len(result["query"]["path"]) == 60
    assert result["forward"]["20"]["count"] == 10
    searched = set(result["searched_symbols"])  # other tests may have loaded more symbols
    assert {str(s) for s in np.unique(data["symbol"])} | {"SP500"} <= searched
    assert result["elapsed_ms"] < 1000
