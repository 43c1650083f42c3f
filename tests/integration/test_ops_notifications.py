"""Notifications and alarms through the local cloud: domain events reach their owner's loopback webhook (once),
and every alarm of template.yaml is triggered and reaches an admin's webhook through SNS.

What is emulated (infra/localcloud/metrics.py): the AWS metrics are published from what the local cloud
observes (gateway, Kinesis poller, SQS, Step Functions, the functions' EMF logs) and alarms are evaluated over
their period; the rest (SNS topic -> notifications function -> webhook) is the deployed path.
Two alarms have thresholds no test should wait for (iterator age > 60 s, API p99 > 3 s): the test lowers
them with PutMetricAlarm (as an operator would) and then triggers them through the real path.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

ALARMS = [
    "marketdata-dlq-not-empty", "normalizer-iterator-age", "api-5xx-rate", "api-latency-p99",
    "sweep-executions-failed", "train-model-executions-failed", "simulation-executions-failed",
    "kill-switch-engaged", "daily-loss-limit",
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
    # Given the trader subscribed to their trading events, and the admin to everything but other people's orders
    trader_hook, admin_hook = webhooks(), webhooks()
    _subscribe(cloud, trader_token, trader_hook.url, ["order_filled", "risk_rejection", "kill_switch"])
    admin = cloud.id_token("admin")
    _subscribe(
        cloud, admin, admin_hook.url, ["order_filled", "model_promoted", "sweep_finished", "strategy_error"]
    )
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
    # And a model is promoted, a sweep finishes and a strategy fails
    _put_event(cloud, "trade2026.ml", "ModelRegistered",
               {"id": uuid.uuid4().hex, "family": "xgb", "version": 3, "stage": "champion"})  # fmt: skip
    _put_event(
        cloud,
        "trade2026.research",
        "SweepFinished",
        {"id": uuid.uuid4().hex, "sweep_id": "s1", "status": "done"},
    )
    _put_event(
        cloud,
        "trade2026.strategies",
        "StrategyError",
        {"id": uuid.uuid4().hex, "strategy_id": "x", "error": "boom"},
    )
    # Then the trader's webhook gets the kill switch, the rejection naming its rule, and the fill exactly once
    trader_hook.wait_for(
        lambda r: {"kill_switch", "risk_rejection", "order_filled"} <= {x["kind"] for x in r}
    )
    time.sleep(2)  # room for a duplicate to show up
    assert trader_hook.kinds().count("order_filled") == 1
    rejection = next(x for x in trader_hook.received if x["kind"] == "risk_rejection")
    assert "kill_switch" in rejection["title"]
    # And the admin gets the broadcast kinds, never the trader's account events
    admin_hook.wait_for(
        lambda r: {"model_promoted", "sweep_finished", "strategy_error"} <= {x["kind"] for x in r}
    )
    assert "order_filled" not in admin_hook.kinds()
    # And the delivery log lists them for the trader
    log = _send(cloud, "GET", "/v1/notifications?limit=20", trader_token).json()["deliveries"]
    assert {d["kind"] for d in log} >= {"kill_switch", "order_filled"} and all(
        d["status"] == "delivered" for d in log
    )


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


@pytest.mark.xfail(
    strict=False,
    reason="passes alone; after the other integration modules in one session one alarm does not reach the webhook "
    "within 240 s (under investigation, issue 11)",
)
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
    # When each condition happens: a dead-lettered tick, a tick consumed by the normalizer, a 5xx, slow requests,
    # failed executions of each state machine, an engaged kill switch, the daily loss limit tripping it
    sqs = cloud.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="trade2026-dev-marketdata-dlq")["QueueUrl"],
                     MessageBody='{"reason": "alarm test"}')  # fmt: skip
    cloud.client("kinesis").put_record(StreamName="trade2026-dev-marketdata", Data=b"{}", PartitionKey="TEST")
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
    # Then every alarm goes to ALARM and its notification reaches the admin's webhook through SNS

    def alarmed(received: list[dict[str, Any]]) -> bool:
        return names <= {
            x["event"].get("AlarmName") for x in received if x["event"].get("NewStateValue") == "ALARM"
        }

    hook.wait_for(alarmed, timeout_s=240)  # alarms are evaluated periodically; CI machines are slow
    states = {a["AlarmName"]: a["StateValue"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert all(states[name] == "ALARM" or name.endswith(("engaged", "limit", "failed")) for name in names)
    # And the ops summary shows the same numbers
    summary = _send(cloud, "GET", "/v1/ops/metrics?minutes=10", trader_token).json()
    values = {m["name"]: m["value"] for m in summary["metrics"]}
    assert values["api_5xx"] >= 1 and values["dlq_depth"] >= 1 and values["kill_switch_engaged"] >= 1
    assert {a["name"] for a in summary["alarms"]} >= names
