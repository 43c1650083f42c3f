"""The operations summary reads CloudWatch: statistics per number, alarm states, no data is None."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trade2026.services.ops_metrics import metric_queries, summary


class FakeCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        stat = kwargs["Statistics"][0]
        if kwargs["MetricName"] == "5XXError":
            return {"Datapoints": [{stat: 2.0}, {stat: 1.0}]}
        if kwargs["MetricName"] == "Latency":
            return {"Datapoints": [{stat: 100.0}, {stat: 300.0}]}
        return {"Datapoints": []}

    def describe_alarms(self, AlarmNamePrefix: str) -> dict[str, Any]:  # noqa: N803
        return {"MetricAlarms": [{"AlarmName": f"{AlarmNamePrefix}dlq", "StateValue": "ALARM", "StateReason": "r",
                                  "StateUpdatedTimestamp": datetime(2026, 1, 1, tzinfo=UTC)}]}  # fmt: skip


def test_summary_sums_counts_averages_latency_and_lists_alarms():
    # Given CloudWatch with two 5xx datapoints and two latency averages, When summarised over 10 minutes
    cloudwatch = FakeCloudWatch()
    ops = summary(cloudwatch, "trade2026-dev-api", "norm", "dlq", "trade2026-dev-", minutes=10)
    values = {m.name: m.value for m in ops.metrics}
    # Then counts are summed, averages averaged, maxima taken, missing data is None, alarms listed
    assert values["api_5xx"] == 3.0
    assert values["api_latency_avg_ms"] == 200.0 and values["api_latency_max_ms"] == 300.0
    assert values["fills"] is None
    assert [(a.name, a.state) for a in ops.alarms] == [("trade2026-dev-dlq", "ALARM")]
    # And one period spans the whole window, with the API's dimensions
    call = cloudwatch.calls[0]
    assert call["Period"] == 600 and {"Name": "ApiName", "Value": "trade2026-dev-api"} in call["Dimensions"]
    assert len(cloudwatch.calls) == len(metric_queries("a", "n", "d"))
