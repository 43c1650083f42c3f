"""The local cloud's EventBridge scheduler: rate(...) rules fire their targets every period; cron rules do not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud import eventbridge
from localcloud.eventbridge import target_input
from localcloud.scheduler import RateScheduler, rate_seconds

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:broker"


class RecordingDelivery:
    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict[str, Any]]] = []

    def deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any], transform: bool) -> None:
        self.payloads.append((rule.name, json.loads(target_input(target, event, transform))))


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, RecordingDelivery]]:
    with mock_aws():
        client = boto3.client("events", region_name="us-east-1")
        client.put_rule(Name="sweep", ScheduleExpression="rate(1 minute)")
        client.put_targets(Rule="sweep", Targets=[{"Id": "1", "Arn": FUNCTION, "Input": '{"task": "sweep"}'}])
        client.put_rule(Name="hourly", ScheduleExpression="rate(2 hours)")
        client.put_targets(Rule="hourly", Targets=[{"Id": "1", "Arn": FUNCTION}])
        client.put_rule(Name="close", ScheduleExpression="cron(5 21 ? * MON-FRI *)")
        client.put_targets(Rule="close", Targets=[{"Id": "1", "Arn": FUNCTION}])
        delivery = RecordingDelivery()
        monkeypatch.setitem(eventbridge._installed, "delivery", delivery)
        yield client, delivery


def test_rate_expressions_are_read_in_seconds_and_cron_is_not_a_rate():
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(2 hours)") == 7200
    assert rate_seconds("rate(1 day)") == 86_400
    assert rate_seconds("cron(5 21 ? * MON-FRI *)") is None


def test_a_rate_rule_fires_one_period_after_it_is_seen_then_every_period(events: Any):
    # Given a 1-minute rule with an Input, a 2-hour rule and a cron rule, first seen at t0
    client, delivery = events
    scheduler = RateScheduler(client)
    t0 = 1_800_000_000.0
    # When the scheduler ticks over the next two and a half minutes
    fired = [scheduler.tick(t0 + s) for s in (0, 59, 60, 90, 125)]
    # Then the 1-minute rule fired at 60 s and at 125 s (due at 120 s), with its Input; the others never
    assert fired == [[], [], ["sweep"], [], ["sweep"]]
    assert delivery.payloads == [("sweep", {"task": "sweep"}), ("sweep", {"task": "sweep"})]


def test_a_target_without_input_gets_the_scheduled_event_envelope(events: Any):
    # Given the 2-hour rule, When two hours pass
    client, delivery = events
    scheduler = RateScheduler(client)
    scheduler.tick(0.0)
    scheduler.tick(7200.0)
    # Then its target receives EventBridge's "Scheduled Event" with the rule as the resource
    [event] = [payload for name, payload in delivery.payloads if name == "hourly"]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [client.describe_rule(Name="hourly")["Arn"]] and event["detail"] == {}


def test_a_disabled_rule_does_not_fire(events: Any):
    client, delivery = events
    client.disable_rule(Name="sweep")
    scheduler = RateScheduler(client)
    scheduler.tick(0.0)
    assert scheduler.tick(60.0) == []
    assert delivery.payloads == []
