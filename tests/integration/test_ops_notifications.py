"""Notifications and alarms through the local cloud: domain events reach their owner's loopback webhook (once),
and every alarm of template.yaml is triggered and reaches an admin's webhook through SNS.

What is emulated (infra/localcloud/metrics.py): the AWS metrics are published from what the local cloud
observes (gateway, Kinesis poller, SQS, Step Functions, the functions' EMF logs) and alarms are evaluated over
their period; the rest (SNS topic -> notifications function -> webhook) is the deployed path.
Two alarms have thresholds no test should wait for (iterator age > 60 s, API p99 > 3 s): the test lowers
them with PutMetricAlarm (as an operator would) and then triggers them through the real path. The 5xx alarm is
a rate over 5 minutes: the test makes enough 5xx answers for the traffic earlier modules of the session left
in that window (one is not 1% of hundreds; it went off only once they aged out, up to 5 minutes later).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

ALARMS = [
    "marketdata-dlq-not-empty", "normalizer-iterator-age", "api-5xx-rate", "api-latency-p99",
    "sweep-executions-failed", "train-model-executions-failed", "simulation-executions-failed",
    "kill-switch-engaged", "daily-loss-limit", "daily-loss-limit-near",
]  # fmt: skip


class Webhook:
    """A loopback HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.received]

    def wait_for(self, predicate: Any, timeout_s: float = 45) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self.received):
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out; received {json.dumps(self.received)[:3000]}")


@pytest.fixture
def webhooks() -> Any:
    made: list[Webhook] = []

    def make() -> Webhook:
        made.append(Webhook())
        return made[-1]

    yield make
    for hook in made:
        hook.server.shutdown()


def _send(cloud: Any, method: str, path: str, token: str, body: Any = None) -> requests.Response:
    headers = {"Authorization": token, "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body)
    return requests.request(method, f"{cloud.api_url}{path}", headers=headers, data=data, timeout=60)


def _subscribe(cloud: Any, token: str, url: str, kinds: list[str]) -> None:
    response = _send(
        cloud, "PUT", "/v1/notifications/preferences", token, {"webhooks": [url], "kinds": kinds}
    )
    assert response.status_code == 200, response.text
    assert response.json()["webhooks"] == [url]


def _put_event(cloud: Any, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    result = cloud.client("events").put_events(Entries=[{
        "EventBusName": "trade2026-dev", "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
    }])  # fmt: skip
    assert not result.get("FailedEntryCount")


def test_preferences_reject_non_loopback_webhooks_and_bad_kinds(cloud: Any, trader_token: str):
    # Given the local cloud (webhooks only to loopback), When a public URL or an unknown kind is set
    public = _send(
        cloud, "PUT", "/v1/notifications/preferences", trader_token, {"webhooks": ["http://example.com/x"]}
    )
    kind = _send(cloud, "PUT", "/v1/notifications/preferences", trader_token, {"kinds": ["everything"]})
    # Then both are 4xx naming the field
    assert public.status_code == 400 and "webhooks[0]" in public.json()["message"]
    assert kind.status_code == 422 and "kinds" in kind.json()["message"]


def test_domain_events_reach_the_account_owner_once_and_nobody_else(
    cloud: Any, trader_token: str, webhooks: Any
):
    # Given the trader subscribed to their trading and research events, and the admin to the same kinds
    trader_hook, admin_hook = webhooks(), webhooks()
    kinds = ["order_filled", "risk_rejection", "kill_switch", "sweep_finished", "strategy_error"]
    _subscribe(cloud, trader_token, trader_hook.url, kinds)
    admin = cloud.id_token("admin")
    _subscribe(cloud, admin, admin_hook.url, [*kinds, "model_promoted"])
    trader = _send(cloud, "GET", "/v1/me", trader_token).json()["user_id"]
    account = _send(cloud, "POST", "/v1/accounts", trader_token, {"name": "notify"}).json()["id"]
    # When the trader engages the kill switch (the orders function publishes KillSwitch)
    engaged = _send(
        cloud,
        "POST",
        f"/v1/accounts/{account}/kill-switch",
        trader_token,
        {"engaged": True, "reason": "notification test"},
    )
    assert engaged.status_code == 200, engaged.text
    # And an order of the account is rejected by risk (the event as the orders function publishes it)
    rejected = {"id": f"{uuid.uuid4().hex}:2", "account_id": account, "order_id": "def", "symbol": "SP500",
                "status": "rejected", "kind": "rejected",
                "data": {"violations": [{"rule": "kill_switch", "limit": "off", "actual": "on"}]}}  # fmt: skip
    _put_event(cloud, "trade2026.orders", "OrderRejected", rejected)
    # And the broker's fill event arrives twice (an EventBridge redelivery)
    fill = {"id": f"{uuid.uuid4().hex}:3", "account_id": account, "order_id": "abc", "symbol": "SP500",
            "status": "filled", "kind": "fill", "data": {"fill": {"quantity": "1", "price": "2500"}}}  # fmt: skip
    _put_event(cloud, "trade2026.broker", "OrderFilled", fill)
    _put_event(cloud, "trade2026.broker", "OrderFilled", fill)
    # And a model is promoted, and the trader's sweep finishes and strategy fails (as their publishers send them)
    _put_event(cloud, "trade2026.ml", "ModelRegistered",
               {"id": uuid.uuid4().hex, "family": "xgb", "version": 3, "stage": "champion"})  # fmt: skip
    _put_event(cloud, "trade2026.research", "SweepFinished",
               {"id": f"sweep:{uuid.uuid4().hex}:SUCCEEDED", "sweep_id": "s1", "owner": trader,
                "status": "SUCCEEDED", "summary": {"pbo": 0.25, "configs": 4}})  # fmt: skip
    _put_event(cloud, "trade2026.strategies", "StrategyError",
               {"id": f"strategy-error:{account}#s:{uuid.uuid4().hex}", "account_id": account, "slot": "s",
                "owner": trader, "strategy_id": "x", "version": 1, "error": "RuntimeError: boom"})  # fmt: skip
    # Then the trader's webhook gets the kill switch, the rejection naming its rule, the fill exactly once,
    # and their sweep's and strategy's notices
    trader_hook.wait_for(lambda r: set(kinds) <= {x["kind"] for x in r})
    time.sleep(2)  # room for a duplicate to show up
    assert trader_hook.kinds().count("order_filled") == 1
    rejection = next(x for x in trader_hook.received if x["kind"] == "risk_rejection")
    assert "kill_switch" in rejection["title"]
    assert "boom" in next(x for x in trader_hook.received if x["kind"] == "strategy_error")["title"]
    # And the admin gets the broadcast kind, never the trader's account, sweep or strategy events
    admin_hook.wait_for(lambda r: "model_promoted" in {x["kind"] for x in r})
    assert not {"order_filled", "sweep_finished", "strategy_error"} & set(admin_hook.kinds())
    # And the delivery log lists them for the trader
    log = _send(cloud, "GET", "/v1/notifications?limit=20", trader_token).json()["deliveries"]
    assert {d["kind"] for d in log} >= {"kill_switch", "order_filled"} and all(
        d["status"] == "delivered" for d in log
    )


def test_a_finished_sweep_notifies_its_owner_through_the_bus(cloud: Any, trader_token: str, webhooks: Any):
    # Given the S&P 500 loaded and the trader subscribed to sweep_finished
    loaded = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    hook = webhooks()
    _subscribe(cloud, trader_token, hook.url, ["sweep_finished"])
    # When the trader runs a small sweep through Step Functions
    sweep = {"strategy": "ma_crossover", "symbols": ["SP500"], "chunk_size": 2,
             "grid": {"fast": [5, 10], "slow": [50, 100]}}  # fmt: skip
    started = _send(cloud, "POST", "/v1/backtests/sweeps", trader_token, sweep)
    assert started.status_code == 202, started.text
    sweep_id = started.json()["id"]
    # Then its last step's SweepFinished reaches the trader's webhook once, with the outcome and the PBO
    hook.wait_for(lambda r: any(x["event"].get("sweep_id") == sweep_id for x in r), timeout_s=240)
    time.sleep(2)  # room for a duplicate to show up
    (notice,) = [x for x in hook.received if x["event"].get("sweep_id") == sweep_id]
    status = _send(cloud, "GET", f"/v1/backtests/sweeps/{sweep_id}", trader_token).json()
    assert notice["kind"] == "sweep_finished" and notice["event"]["status"] == status["status"] == "SUCCEEDED"
    assert notice["event"]["summary"] == {"pbo": status["summary"]["pbo"], "configs": 4}
    assert f"Sweep {sweep_id} finished: SUCCEEDED" in notice["title"]


def _lower_threshold(cloudwatch: Any, name: str, threshold: float) -> None:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    keys = ["Namespace", "MetricName", "Dimensions", "Period", "EvaluationPeriods", "ComparisonOperator",
            "AlarmActions", "OKActions", "TreatMissingData", "AlarmDescription"]  # fmt: skip
    args = {k: alarm[k] for k in keys if alarm.get(k) not in (None, [])}
    stat = (
        {"ExtendedStatistic": alarm["ExtendedStatistic"]}
        if alarm.get("ExtendedStatistic")
        else {"Statistic": alarm["Statistic"]}
    )
    cloudwatch.put_metric_alarm(AlarmName=name, Threshold=threshold, **args, **stat)


def _fail_executions(cloud: Any) -> None:
    sfn = cloud.client("stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    for suffix in ("backtest-sweep", "train-model", "simulation"):
        arn = next(a for n, a in machines.items() if n.endswith(suffix))
        sfn.start_execution(stateMachineArn=arn, name=f"alarm-test-{uuid.uuid4().hex[:8]}", input="{}")


def _crashes_for_5xx_rate(cloudwatch: Any) -> int:
    """How many 5xx answers put the API's 5xx rate over its alarm's threshold, whatever came before.

    The alarm is a rate (Average of 5XXError over its period): one 5xx after the hundreds of requests earlier
    modules of the session made is not above 1%, and the alarm would only go off once those left the 5-minute
    window. The requests of the window are read from CloudWatch, as the alarm reads them; twice the threshold
    over them plus a margin covers the requests published since and the few this test still makes.
    """
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["trade2026-dev-api-5xx-rate"])["MetricAlarms"]
    end = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace=alarm["Namespace"], MetricName="Count", Dimensions=alarm["Dimensions"],
        StartTime=end - timedelta(seconds=alarm["Period"]), EndTime=end, Period=alarm["Period"],
        Statistics=["Sum"],
    )  # fmt: skip
    requests_in_window = sum(point["Sum"] for point in stats["Datapoints"])
    return math.ceil(2 * alarm["Threshold"] * (requests_in_window + 100)) + 1


def test_every_alarm_fires_and_reaches_the_admin_webhook(cloud: Any, trader_token: str, webhooks: Any):
    # Given an admin subscribed to alarms and the slow-to-reach thresholds lowered
    hook = webhooks()
    admin = cloud.id_token("admin")
    _subscribe(cloud, admin, hook.url, ["alarm"])
    cloudwatch = cloud.client("cloudwatch")
    _lower_threshold(cloudwatch, "trade2026-dev-normalizer-iterator-age", 0)
    _lower_threshold(cloudwatch, "trade2026-dev-api-latency-p99", 1)
    names = {f"trade2026-dev-{a}" for a in ALARMS}
    for name in names:  # re-arm: earlier tests of the session may have set some off already
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="re-armed by the test")
    # When each condition happens: a dead-lettered tick, a tick consumed by the normalizer, a 5xx rate above 1%,
    # slow requests, failed executions of each state machine, an engaged kill switch, the daily loss limit
    # tripping it, and an account's loss reaching 85% of its daily limit
    sqs = cloud.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="trade2026-dev-marketdata-dlq")["QueueUrl"],
                     MessageBody='{"reason": "alarm test"}')  # fmt: skip
    cloud.client("kinesis").put_record(StreamName="trade2026-dev-marketdata", Data=b"{}", PartitionKey="TEST")
    for _ in range(_crashes_for_5xx_rate(cloudwatch)):
        crash = _send(
            cloud, "POST", "/v1/selftest/echo", admin, {"symbol": "X", "quantity": 1, "outcome": "crash"}
        )
        assert crash.status_code == 500
    _fail_executions(cloud)
    account = _send(cloud, "POST", "/v1/accounts", trader_token, {"name": "alarms"}).json()["id"]
    engaged = _send(cloud, "POST", f"/v1/accounts/{account}/kill-switch", trader_token,
                    {"engaged": True, "reason": "alarm test"})  # fmt: skip
    assert engaged.status_code == 200
    # (the risk function publishes this event when an account's P&L reaches its daily loss limit)
    _put_event(cloud, "trade2026.risk", "KillSwitch",
               {"id": f"{account}:dl", "account_id": account, "engaged": True, "by": "risk",
                "reason": "daily loss limit: P&L today -50000 <= -50000"})  # fmt: skip
    # (the risk function's DailyLossLimitUsed metric, put through the CloudWatch API as any client can)
    cloudwatch.put_metric_data(Namespace="Trade2026", MetricData=[{
        "MetricName": "DailyLossLimitUsed", "Dimensions": [{"Name": "service", "Value": "risk"}], "Value": 85.0,
        "Unit": "Percent"}])  # fmt: skip
    # Then every alarm goes to ALARM and its notification reaches the admin's webhook through SNS

    def alarms(received: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        fired = [x["event"] for x in received if x["event"].get("NewStateValue") == "ALARM"]
        return {event["AlarmName"]: event for event in fired}

    hook.wait_for(
        lambda r: names <= set(alarms(r)), timeout_s=240
    )  # evaluated every 2 s; CI machines are slow
    # And each notification is its alarm's own evaluation: the metric CloudWatch holds for it
    defined = {
        a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=sorted(names))["MetricAlarms"]
    }
    for name, event in alarms(hook.received).items():
        if name in names:
            trigger, alarm = event["Trigger"], defined[name]
            assert (trigger["Namespace"], trigger["MetricName"]) == (
                alarm["Namespace"],
                alarm["MetricName"],
            ), name
    # And the alarm whose condition still holds (nobody drains the DLQ) is in ALARM in CloudWatch
    assert defined["trade2026-dev-marketdata-dlq-not-empty"]["StateValue"] == "ALARM"
    # And the ops summary shows the same numbers
    summary = _send(cloud, "GET", "/v1/ops/metrics?minutes=10", trader_token).json()
    values = {m["name"]: m["value"] for m in summary["metrics"]}
    assert values["api_5xx"] >= 1 and values["dlq_depth"] >= 1 and values["kill_switch_engaged"] >= 1
    assert {a["name"] for a in summary["alarms"]} >= names
