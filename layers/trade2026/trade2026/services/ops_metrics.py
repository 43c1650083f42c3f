"""The operations summary: the dashboard's numbers and every alarm's state, read from CloudWatch.

The same source on AWS and on the local cloud (where infra/localcloud/metrics.py publishes the metrics AWS
would and evaluates the alarms), so `GET /v1/ops/metrics` and `trade2026 status` show the same numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel


class MetricSummary(BaseModel):
    name: str
    namespace: str
    statistic: str
    value: float | None  # None: no datapoint in the window


class AlarmState(BaseModel):
    name: str
    state: str
    reason: str
    updated: str | None


class OpsSummary(BaseModel):
    window_minutes: int
    metrics: list[MetricSummary]
    alarms: list[AlarmState]


def metric_queries(
    api_name: str, normalizer: str, dlq: str
) -> list[tuple[str, str, str, dict[str, str], str]]:
    """(label, namespace, metric, dimensions, statistic) of each number the summary shows."""
    api = {"ApiName": api_name, "Stage": "v"}
    return [
        ("api_requests", "AWS/ApiGateway", "Count", api, "Sum"),
        ("api_4xx", "AWS/ApiGateway", "4XXError", api, "Sum"),
        ("api_5xx", "AWS/ApiGateway", "5XXError", api, "Sum"),
        # Average and Maximum, not percentiles: moto does not compute ExtendedStatistics (the dashboard has p99).
        ("api_latency_avg_ms", "AWS/ApiGateway", "Latency", api, "Average"),
        ("api_latency_max_ms", "AWS/ApiGateway", "Latency", api, "Maximum"),
        ("orders_risk_passed", "Trade2026", "RiskPassed", {"service": "risk"}, "Sum"),
        ("orders_risk_rejected", "Trade2026", "RiskRejected", {"service": "risk"}, "Sum"),
        ("fills", "Trade2026", "Fills", {"service": "broker"}, "Sum"),
        ("ticks_ingested", "Trade2026", "IngestTicks", {"service": "marketdata-normalizer"}, "Sum"),
        ("ticks_rejected", "Trade2026", "IngestRejects", {"service": "marketdata-normalizer"}, "Sum"),
        ("normalizer_iterator_age_ms", "AWS/Lambda", "IteratorAge", {"FunctionName": normalizer}, "Maximum"),
        ("dlq_depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dlq}, "Maximum"),
        ("kill_switch_engaged", "Trade2026", "KillSwitchEngaged", {"service": "notifications"}, "Sum"),
    ]


def _value(
    cloudwatch: Any, query: tuple[str, str, str, dict[str, str], str], start: datetime, end: datetime
) -> float | None:
    _label, namespace, metric, dims, stat = query
    args: dict[str, Any] = {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
        "StartTime": start,
        "EndTime": end,
        "Period": max(int((end - start).total_seconds()) // 60 * 60, 60),
    }
    percentile = stat.startswith("p")
    args["ExtendedStatistics" if percentile else "Statistics"] = [stat]
    points = cloudwatch.get_metric_statistics(**args).get("Datapoints", [])
    raw = [p.get("ExtendedStatistics", {}).get(stat) if percentile else p.get(stat) for p in points]
    values = [float(v) for v in raw if v is not None]
    if not values:
        return None
    if stat in ("Sum", "SampleCount"):
        return sum(values)
    if stat == "Average":  # one period spans the window: at most a datapoint or two
        return sum(values) / len(values)
    return max(values)


def summary(
    cloudwatch: Any, api_name: str, normalizer: str, dlq: str, alarm_prefix: str, minutes: int
) -> OpsSummary:
    end = datetime.now(UTC)
    start = end - timedelta(minutes=minutes)
    metrics = []
    for query in metric_queries(api_name, normalizer, dlq):
        metrics.append(MetricSummary(name=query[0], namespace=query[1], statistic=query[4],
                                     value=_value(cloudwatch, query, start, end)))  # fmt: skip
    alarms = [
        AlarmState(
            name=a["AlarmName"],
            state=a["StateValue"],
            reason=a.get("StateReason", ""),
            updated=str(a["StateUpdatedTimestamp"]) if a.get("StateUpdatedTimestamp") else None,
        )
        for a in cloudwatch.describe_alarms(AlarmNamePrefix=alarm_prefix).get("MetricAlarms", [])
    ]
    return OpsSummary(window_minutes=minutes, metrics=metrics, alarms=alarms)
