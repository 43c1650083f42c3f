"""The local CloudWatch emulation: EMF parsing, statistics, and alarm evaluation publishing to SNS."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from localcloud.metrics import MetricsEmulator, Point, parse_emf, statistic


def test_emf_lines_become_metrics_and_other_lines_none():
    # Given a Powertools EMF line (what Metrics writes) and an ordinary log line
    line = json.dumps({"_aws": {"Timestamp": 1_764_000_000_000, "CloudWatchMetrics": [{"Namespace": "Trade2026",
                      "Dimensions": [["service"]], "Metrics": [{"Name": "KillSwitchEngaged", "Unit": "Count"}]}]},
                       "service": "notifications", "KillSwitchEngaged": [1.0, 2.0]})  # fmt: skip
    # When parsed, Then each value is a point with the dimension's value, the unit and the EMF timestamp
    points = parse_emf(line, 0)
    assert [(p.namespace, p.name, p.dimensions, p.value, p.unit, p.at) for p in points] == [
        ("Trade2026", "KillSwitchEngaged", (("service", "notifications"),), v, "Count", 1_764_000_000.0)
        for v in (1.0, 2.0)
    ]
    assert parse_emf('{"level": "INFO", "message": "hi"}', 0) == []
    assert parse_emf('{"_aws": broken', 0) == []


@pytest.mark.parametrize("name", ["Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p99", "p90"])
def test_statistics_match_numpy(name):
    # Given 1,000 latencies, Then each statistic is numpy's (percentiles by nearest rank, as CloudWatch)
    values = list(np.random.default_rng(7).lognormal(3, 1, 1000))
    expected = {
        "Sum": np.sum(values), "Average": np.mean(values), "Minimum": np.min(values), "Maximum": np.max(values),
        "SampleCount": 1000, "p50": np.percentile(values, 50, method="inverted_cdf"),
        "p99": np.percentile(values, 99, method="inverted_cdf"),
        "p90": np.percentile(values, 90, method="inverted_cdf"),
    }[name]  # fmt: skip
    assert statistic(values, name) == pytest.approx(expected)


class FakeAws:
    """The few CloudWatch/SNS/SQS/Step Functions calls the emulator makes, in memory."""

    def __init__(self, alarms: list[dict[str, Any]]) -> None:
        self.alarms = {a["AlarmName"]: a for a in alarms}
        self.published: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []

    def __call__(self, service: str) -> FakeAws:
        return self

    def describe_alarms(self, **_: Any) -> dict[str, Any]:
        return {"MetricAlarms": [dict(a) for a in self.alarms.values()]}

    def set_alarm_state(self, AlarmName: str, StateValue: str, StateReason: str) -> None:  # noqa: N803
        self.alarms[AlarmName]["StateValue"] = StateValue

    def publish(self, **kwargs: Any) -> None:
        self.published.append(kwargs)

    def put_metric_data(self, **kwargs: Any) -> None:
        self.put.append(kwargs)

    def list_queues(self) -> dict[str, Any]:
        return {"QueueUrls": ["http://x/123/trade2026-dev-marketdata-dlq"]}

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": "2"}}

    def list_state_machines(self) -> dict[str, Any]:
        return {"stateMachines": []}


ALARM = {"AlarmName": "dlq", "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:dlq", "Namespace": "AWS/SQS",
         "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName",
         "Value": "trade2026-dev-marketdata-dlq"}], "Statistic": "Maximum", "Period": 60, "Threshold": 0.0,
         "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"],
         "OKActions": [], "StateValue": "OK"}  # fmt: skip


def test_a_breaching_metric_sets_the_alarm_off_once_and_publishes_to_its_topic(tmp_path: Path):
    # Given an alarm on the DLQ depth and a queue holding 2 messages
    aws = FakeAws([ALARM])
    emulator = MetricsEmulator(aws, tmp_path)
    # When the emulator ticks twice
    emulator.tick()
    emulator.tick()
    # Then the depth was published as the AWS/SQS metric, and the alarm's topic got one ALARM notification
    assert aws.put[0]["Namespace"] == "AWS/SQS" and aws.put[0]["MetricData"][0]["Value"] == 2.0
    assert len(aws.published) == 1 and aws.published[0]["TopicArn"] == ALARM["AlarmActions"][0]
    message = json.loads(aws.published[0]["Message"])
    assert message["NewStateValue"] == "ALARM" and message["Trigger"]["Threshold"] == 0.0
    assert aws.alarms["dlq"]["StateValue"] == "ALARM"


def test_old_datapoints_leave_the_window_and_the_alarm_returns_to_ok(tmp_path: Path):
    # Given a latency alarm whose only datapoint is older than its period
    alarm = {**ALARM, "AlarmName": "lat", "Namespace": "AWS/ApiGateway", "MetricName": "Latency",
             "Dimensions": [], "Statistic": None, "ExtendedStatistic": "p99", "Threshold": 100.0,
             "StateValue": "ALARM", "OKActions": ["arn:aws:sns:us-east-1:123456789012:ops"]}  # fmt: skip
    emulator = MetricsEmulator(FakeAws([alarm]), tmp_path)
    emulator._points.append(Point("AWS/ApiGateway", "Latency", (), 500.0, "Milliseconds", time.time() - 120))
    # Then it has no value now, and the alarm goes back to OK with an OK notification
    assert emulator.alarm_value(alarm, time.time()) is None
    emulator._evaluate(time.time())
    aws = emulator._client
    assert aws.alarms["lat"]["StateValue"] == "OK"
    assert json.loads(aws.published[0]["Message"])["NewStateValue"] == "OK"
