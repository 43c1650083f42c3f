"""The local CloudWatch emulation: EMF parsing, statistics, and alarm evaluation publishing to SNS."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from localcloud import metrics
from localcloud.metrics import MetricsEmulator, Point, parse_emf, points_from_put, statistic


@pytest.fixture(autouse=True)
def _empty_buffers():
    # The observation and PutMetricData buffers are per process: each test starts with them empty
    metrics._pending.clear()
    metrics._stored.clear()
    yield
    metrics._pending.clear()
    metrics._stored.clear()


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

    def __init__(self, alarms: list[dict[str, Any]], publish_failures: int = 0) -> None:
        self.alarms = {a["AlarmName"]: dict(a) for a in alarms}  # a copy: the module constants stay OK
        self.published: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []
        self.publish_failures = publish_failures

    def __call__(self, service: str) -> FakeAws:
        return self

    def describe_alarms(self, **_: Any) -> dict[str, Any]:
        return {"MetricAlarms": [dict(a) for a in self.alarms.values()]}

    def set_alarm_state(self, AlarmName: str, StateValue: str, StateReason: str) -> None:  # noqa: N803
        self.alarms[AlarmName]["StateValue"] = StateValue

    def publish(self, **kwargs: Any) -> None:
        if self.publish_failures:
            self.publish_failures -= 1
            raise TimeoutError("SNS did not answer")
        self.published.append(kwargs)

    def put_metric_data(self, **kwargs: Any) -> None:
        # As moto with the local cloud's capture: what CloudWatch stores reaches the alarm evaluation
        self.put.append(kwargs)
        metrics.stored(kwargs["Namespace"], kwargs["MetricData"])

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
    emulator.ingest([Point("AWS/ApiGateway", "Latency", (), 500.0, "Milliseconds", time.time() - 120)])
    # Then it has no value now, and the alarm goes back to OK with an OK notification
    assert emulator.alarm_value(alarm, time.time()) is None
    emulator._evaluate(time.time())
    aws = emulator._client
    assert aws.alarms["lat"]["StateValue"] == "OK"
    assert json.loads(aws.published[0]["Message"])["NewStateValue"] == "OK"


NEAR_LOSS = {**ALARM, "AlarmName": "near", "Namespace": "Trade2026", "MetricName": "DailyLossLimitUsed",
             "Dimensions": [], "Statistic": "Maximum", "Threshold": 80.0,
             "ComparisonOperator": "GreaterThanOrEqualToThreshold"}  # fmt: skip


def test_datapoints_put_through_the_api_by_anyone_are_evaluated(tmp_path: Path):
    # Given an alarm on a metric no local source observes (only PutMetricData puts it)
    aws = FakeAws([NEAR_LOSS])
    emulator = MetricsEmulator(aws, tmp_path)
    # When a client puts 79 (below), the emulator ticks, then a client puts 85 (at or above 80) and it ticks again
    aws.put_metric_data(
        Namespace="Trade2026", MetricData=[{"MetricName": "DailyLossLimitUsed", "Value": 79.0}]
    )
    emulator.tick()
    assert aws.published == []
    aws.put_metric_data(
        Namespace="Trade2026", MetricData=[{"MetricName": "DailyLossLimitUsed", "Value": 85.0}]
    )
    emulator.tick()
    # Then the alarm went off once, with the maximum it saw
    assert len(aws.published) == 1 and aws.alarms["near"]["StateValue"] == "ALARM"
    assert "85.0" in json.loads(aws.published[0]["Message"])["NewStateReason"]


def test_put_metric_data_values_counts_and_timestamps_become_points():
    # Given one datum with Values/Counts and a naive UTC timestamp (as moto parses it), one with a single Value
    data = [
        {"MetricName": "Latency", "Values": [1.0, 2.0], "Counts": [1.0, 3.0], "Unit": "Milliseconds",
         "Dimensions": [{"Name": "b", "Value": "2"}, {"Name": "a", "Value": "1"}],
         "Timestamp": datetime(2026, 1, 1, 0, 0, 0)},
        {"MetricName": "Used", "Value": 85.0},
        {"MetricName": "Set", "StatisticValues": {"Sum": 1, "Minimum": 1, "Maximum": 1, "SampleCount": 1}},
    ]  # fmt: skip
    # When converted, Then each sample is repeated Counts times with sorted dimensions; no timestamp means now
    points = points_from_put("Ns", data, now=42.0)
    assert [p.value for p in points] == [1.0, 2.0, 2.0, 2.0, 85.0]
    assert points[0].dimensions == (("a", "1"), ("b", "2")) and points[0].unit == "Milliseconds"
    assert points[0].at == datetime(2026, 1, 1, tzinfo=UTC).timestamp() and points[-1].at == 42.0


def test_a_failed_publish_is_retried_at_the_next_tick_and_not_lost(tmp_path: Path):
    # Given the DLQ alarm and SNS failing the first publish
    aws = FakeAws([ALARM], publish_failures=1)
    emulator = MetricsEmulator(aws, tmp_path)
    # When the alarm goes off (state recorded, publish fails) and the emulator ticks once more
    emulator.tick()
    assert aws.alarms["dlq"]["StateValue"] == "ALARM" and aws.published == []
    emulator.tick()
    # Then the notification was sent once, on the retry
    assert len(aws.published) == 1 and json.loads(aws.published[0]["Message"])["NewStateValue"] == "ALARM"


def test_a_rate_alarm_counts_every_request_in_its_window(tmp_path: Path):
    # Given the API 5xx-rate alarm (Average of 5XXError over 300 s > 1%) and 200 good requests a minute ago
    rate = {**ALARM, "AlarmName": "5xx", "Namespace": "AWS/ApiGateway", "MetricName": "5XXError",
            "Dimensions": [], "Statistic": "Average", "Period": 300, "Threshold": 0.01}  # fmt: skip
    aws = FakeAws([rate])
    emulator = MetricsEmulator(aws, tmp_path)
    now = time.time()
    emulator.ingest([Point("AWS/ApiGateway", "5XXError", (), 0.0, "Count", now - 60) for _ in range(200)])
    # When one request fails, Then the rate (1/201) is not above 1%: no alarm
    emulator.ingest([Point("AWS/ApiGateway", "5XXError", (), 1.0, "Count", now)])
    emulator._evaluate(now)
    assert aws.published == []
    # And When two more fail (3/203 > 1%), Then it goes off
    emulator.ingest([Point("AWS/ApiGateway", "5XXError", (), 1.0, "Count", now) for _ in range(2)])
    emulator._evaluate(now)
    assert len(aws.published) == 1


def test_moto_cloudwatch_puts_reach_the_emulator_once_installed():
    # Given moto's CloudWatch (in process) with the local cloud's capture installed and an emulator running
    import boto3
    from moto import mock_aws

    metrics.install_cloudwatch_capture()
    metrics.install_cloudwatch_capture()  # idempotent
    metrics._active.set()
    try:
        with mock_aws():
            cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
            # When a client puts a datapoint, and a call CloudWatch refuses (Values and Counts of different sizes)
            cloudwatch.put_metric_data(
                Namespace="Trade2026", MetricData=[{"MetricName": "DailyLossLimitUsed", "Value": 85.0}]
            )
            with pytest.raises(cloudwatch.exceptions.ClientError):
                cloudwatch.put_metric_data(
                    Namespace="Trade2026",
                    MetricData=[{"MetricName": "X", "Values": [1.0], "Counts": [1.0, 2.0]}],
                )
    finally:
        metrics._active.clear()
    # Then exactly the stored datapoint waits for the next evaluation
    assert [(p.namespace, p.name, p.value, p.dimensions) for p in metrics._stored] == [
        ("Trade2026", "DailyLossLimitUsed", 85.0, ())
    ]
