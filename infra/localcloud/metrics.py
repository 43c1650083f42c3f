"""CloudWatch metrics and alarms, emulated (moto stores metrics and alarms but neither produces nor evaluates them).

Every ``interval_s`` (2 s) the emulator:

1. Publishes to moto's CloudWatch the metrics AWS itself would publish, from what the local cloud observes:
   - custom metrics: the Embedded Metric Format lines that Powertools ``Metrics`` writes to each function's
     log (what CloudWatch Logs extracts on AWS), read incrementally from ``<state>/logs/*.log``;
   - ``AWS/ApiGateway`` Count, 4XXError, 5XXError, Latency (ApiName, Stage): observed by the local gateway;
   - ``AWS/Lambda`` IteratorAge (FunctionName): observed by the Kinesis poller at each delivered batch;
   - ``AWS/SQS`` ApproximateNumberOfMessagesVisible (QueueName): sampled with GetQueueAttributes;
   - ``AWS/States`` ExecutionsFailed (StateMachineArn): failed executions seen since the previous tick.
2. Evaluates every alarm in moto over what CloudWatch stored: every PutMetricData call reaches the emulator
   (``install_cloudwatch_capture`` hooks moto's backend), so datapoints put through the API by anyone - a
   function, a script, a test - count exactly like the ones the emulator publishes. The alarm's statistic (or
   percentile) of its metric over the last ``Period`` seconds is compared with its threshold; missing data is
   not breaching. On a change of state it calls SetAlarmState and publishes the CloudWatch alarm notification
   (the JSON AWS sends) to the alarm's AlarmActions (ALARM) or OKActions (OK) SNS topics; moto delivers SNS to
   Lambda subscribers (routed to the local runtime) and to SQS. A publish that fails is retried at the next
   ticks (``_PUBLISH_ATTEMPTS``), so a busy moment never loses a notification whose state change was recorded.

Simplified against AWS: one evaluation window (EvaluationPeriods/DatapointsToAlarm are not counted), alarms
start OK (moto's default) rather than INSUFFICIENT_DATA, metric math alarms are skipped, and PutMetricData
statistic sets (StatisticValues) are not evaluated. Datapoints are kept per metric for the longest alarm period
(at least an hour). ``observe()`` is the in-process hook the gateway and the Kinesis poller call; it and the
PutMetricData capture are no-ops until an emulator is running in this process.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_log = logging.getLogger("localcloud.metrics")
_MAX_POINTS = 200_000  # per metric (a bound on memory under a load run)
_MIN_RETENTION_S = 3600.0
_PUBLISH_ATTEMPTS = 5
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}

Dimensions = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, str, Dimensions]  # (namespace, metric name, sorted dimensions)


@dataclass(frozen=True)
class Point:
    namespace: str
    name: str
    dimensions: Dimensions
    value: float
    unit: str
    at: float


_pending: deque[Point] = deque(maxlen=_MAX_POINTS)  # observed in this process, not yet published
_stored: deque[Point] = deque(maxlen=_MAX_POINTS)  # stored by CloudWatch (PutMetricData), not yet evaluated
_active = threading.Event()


def observe(namespace: str, name: str, dimensions: dict[str, str], value: float, unit: str = "None") -> None:
    """Record one observation (thread-safe, cheap); dropped unless an emulator runs in this process."""
    if _active.is_set():
        _pending.append(Point(namespace, name, tuple(sorted(dimensions.items())), value, unit, time.time()))


def stored(namespace: str, metric_data: Iterable[Mapping[str, Any]], now: float | None = None) -> None:
    """The datapoints of one accepted PutMetricData call, for the next alarm evaluation (thread-safe)."""
    _stored.extend(points_from_put(namespace, metric_data, time.time() if now is None else now))


def _epoch(value: Any, now: float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)  # epoch milliseconds or seconds
    if isinstance(value, str) and value:
        try:
            return _epoch(datetime.fromisoformat(value), now)
        except ValueError:
            return _epoch(float(value), now)
    return now


def points_from_put(namespace: str, metric_data: Iterable[Mapping[str, Any]], now: float) -> list[Point]:
    """PutMetricData's MetricData as points: Value, or Values each repeated Counts times (default 1)."""
    points = []
    for datum in metric_data:
        if datum.get("StatisticValues"):
            continue  # a statistic set has no samples to evaluate (see the module docstring)
        dims = tuple(sorted((str(d["Name"]), str(d["Value"])) for d in datum.get("Dimensions") or []))
        at = _epoch(datum.get("Timestamp"), now)
        unit = str(datum.get("Unit") or "None")
        values = datum.get("Values")
        if values:
            counts = datum.get("Counts") or [1] * len(values)
            samples = [float(v) for v, c in zip(values, counts, strict=False) for _ in range(int(float(c)))]
        else:
            samples = [float(datum.get("Value", 0))]
        points += [Point(namespace, str(datum["MetricName"]), dims, v, unit, at) for v in samples]
    return points


def install_cloudwatch_capture() -> None:
    """Hand every datapoint moto's CloudWatch accepts to the emulator (moto 5.2.5 internals; idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend, "_localcloud_captured", False):
        return
    original: Callable[..., None] = CloudWatchBackend.put_metric_data

    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        original(self, namespace, metric_data)  # validates first: a refused call stores nothing
        if _active.is_set():
            stored(namespace, metric_data)

    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]
    CloudWatchBackend._localcloud_captured = True  # type: ignore[attr-defined]


def parse_emf(line: str, at: float) -> list[Point]:
    """The metrics of one Embedded Metric Format log line (none for other lines)."""
    if '"_aws"' not in line:
        return []
    try:
        document = json.loads(line)
        directives = document["_aws"]["CloudWatchMetrics"]
        at = float(document["_aws"].get("Timestamp", at * 1000)) / 1000
    except (ValueError, KeyError, TypeError):
        return []
    points = []
    for directive in directives:
        namespace = directive.get("Namespace", "")
        for dimension_set in directive.get("Dimensions", [[]]):
            dims = tuple(sorted((d, str(document.get(d, ""))) for d in dimension_set))
            for metric in directive.get("Metrics", []):
                values = document.get(metric["Name"])
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, int | float) and math.isfinite(value):
                        points.append(
                            Point(
                                namespace, metric["Name"], dims, float(value), metric.get("Unit", "None"), at
                            )
                        )
    return points


def statistic(values: list[float], name: str) -> float:
    """CloudWatch's statistic of the datapoints: Sum, Average, Minimum, Maximum, SampleCount or pNN."""
    if name == "Sum":
        return sum(values)
    if name == "Average":
        return sum(values) / len(values)
    if name == "Minimum":
        return min(values)
    if name == "Maximum":
        return max(values)
    if name == "SampleCount":
        return float(len(values))
    if name.startswith("p"):
        ordered = sorted(values)
        rank = max(math.ceil(float(name[1:]) / 100 * len(ordered)) - 1, 0)  # nearest rank
        return ordered[min(rank, len(ordered) - 1)]
    raise ValueError(f"unknown statistic {name}")


@dataclass
class _Unsent:
    """An alarm notification whose SNS publish failed: retried at the next ticks."""

    topic: str
    subject: str
    message: str
    attempts: int = 0


class MetricsEmulator:
    """The background publisher and alarm evaluator of one local cloud."""

    def __init__(self, client: Callable[[str], Any], log_dir: Path, interval_s: float = 2.0) -> None:
        self._client = client
        self._log_dir = log_dir
        self._interval_s = interval_s
        self._offsets: dict[Path, int] = {}
        self._series: dict[SeriesKey, deque[tuple[float, float]]] = {}  # (at, value) in arrival order
        self._retention_s = _MIN_RETENTION_S
        self._seen_failed: set[str] = set()
        self._unsent: list[_Unsent] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.notifications = 0

    def start(self) -> None:
        install_cloudwatch_capture()
        _active.set()
        self._thread = threading.Thread(target=self._loop, name="localcloud-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _active.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.tick()
            except Exception:  # the emulator must never take the local cloud down
                _log.exception("metrics tick failed")

    # ------------------------------------------------------------------------------------------ one tick
    def tick(self) -> None:
        now = time.time()
        points = [
            *self._drain(_pending),
            *self._read_logs(now),
            *self._sample_queues(now),
            *self._failed_executions(now),
        ]
        self._put(points)  # CloudWatch stores them: the capture hands them back with every other put
        self.ingest(self._drain(_stored))
        self._retry_unsent()
        self._evaluate(now)

    def ingest(self, points: Iterable[Point]) -> None:
        """Add datapoints CloudWatch stored to the windows the alarms are evaluated over."""
        for p in points:
            key = (p.namespace, p.name, p.dimensions)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = deque(maxlen=_MAX_POINTS)
            series.append((p.at, p.value))

    def _prune(self, now: float) -> None:
        oldest = now - self._retention_s
        for series in self._series.values():
            while series and series[0][0] < oldest:
                series.popleft()

    @staticmethod
    def _drain(source: deque[Point]) -> list[Point]:
        points = []
        while source:
            points.append(source.popleft())
        return points

    def _read_logs(self, now: float) -> list[Point]:
        points: list[Point] = []
        for path in sorted(self._log_dir.glob("*.log")):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as log:
                log.seek(offset)
                data = log.read()
            complete = data.rfind(b"\n") + 1  # a partly written line waits for the next tick
            self._offsets[path] = offset + complete
            for line in data[:complete].decode("utf-8", "replace").splitlines():
                points += parse_emf(line, now)
        return points

    def _sample_queues(self, now: float) -> list[Point]:
        sqs = self._client("sqs")
        points = []
        for url in sqs.list_queues().get("QueueUrls", []):
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            visible = float(attributes["Attributes"].get("ApproximateNumberOfMessages", 0))
            name = url.rsplit("/", 1)[-1]
            points.append(
                Point(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", name),),
                    visible,
                    "Count",
                    now,
                )
            )
        return points

    def _failed_executions(self, now: float) -> list[Point]:
        sfn = self._client("stepfunctions")
        points = []
        for machine in sfn.list_state_machines().get("stateMachines", []):
            arn = machine["stateMachineArn"]
            failed = sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED").get("executions", [])
            new = [e["executionArn"] for e in failed if e["executionArn"] not in self._seen_failed]
            self._seen_failed.update(new)
            points.append(
                Point(
                    "AWS/States",
                    "ExecutionsFailed",
                    (("StateMachineArn", arn),),
                    float(len(new)),
                    "Count",
                    now,
                )
            )
        return points

    def _put(self, points: list[Point]) -> None:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for p in points:
            by_namespace.setdefault(p.namespace, []).append(
                {
                    "MetricName": p.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in p.dimensions],
                    "Value": p.value,
                    "Unit": p.unit if p.unit else "None",
                    "Timestamp": datetime.fromtimestamp(p.at, UTC),
                }
            )
        cloudwatch = self._client("cloudwatch")
        for namespace, data in by_namespace.items():
            for start in range(0, len(data), 500):
                try:
                    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])
                except Exception:  # one refused batch must not keep the others (or the alarms) waiting
                    _log.exception("PutMetricData of %d %s datapoints failed", len(data[start:]), namespace)

    # -------------------------------------------------------------------------------------------- alarms
    def _evaluate(self, now: float) -> None:
        cloudwatch = self._client("cloudwatch")
        alarms = cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
        self._retention_s = max([_MIN_RETENTION_S, *(float(a.get("Period") or 0) for a in alarms)])
        self._prune(now)
        for alarm in alarms:
            if not alarm.get("MetricName"):
                continue  # metric math: not emulated
            try:
                self._evaluate_one(cloudwatch, alarm, now)
            except Exception:  # the other alarms are still evaluated
                _log.exception("evaluating alarm %s failed", alarm.get("AlarmName"))

    def _evaluate_one(self, cloudwatch: Any, alarm: dict[str, Any], now: float) -> None:
        value = self.alarm_value(alarm, now)
        operator = _OPERATORS.get(alarm["ComparisonOperator"])
        breaching = value is not None and operator is not None and operator(value, alarm["Threshold"])
        state = "ALARM" if breaching else "OK"
        # The state kept by moto (new alarms start OK there): SetAlarmState re-arms an alarm, as on AWS.
        previous = alarm.get("StateValue", "OK")
        if previous == state:
            return
        reason = (
            f"Threshold Crossed: {alarm.get('ExtendedStatistic') or alarm.get('Statistic')} "
            f"{value} over the last {alarm['Period']} s "
            f"({alarm['ComparisonOperator']} {alarm['Threshold']}) [local cloud emulation]"
        )
        cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)
        self._notify(alarm, state, reason, now, previous)

    def alarm_value(self, alarm: dict[str, Any], now: float) -> float | None:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])))
        since = now - float(alarm["Period"])
        series = self._series.get((alarm["Namespace"], alarm["MetricName"], dims), ())
        values = [value for at, value in series if at >= since]
        if not values:
            return None
        return statistic(values, alarm.get("ExtendedStatistic") or alarm.get("Statistic") or "Average")

    def _notify(self, alarm: dict[str, Any], state: str, reason: str, now: float, previous: str) -> None:
        actions = alarm.get("AlarmActions", []) if state == "ALARM" else alarm.get("OKActions", [])
        message = {
            "AlarmName": alarm["AlarmName"],
            "AlarmDescription": alarm.get("AlarmDescription"),
            "AWSAccountId": alarm["AlarmArn"].split(":")[4],
            "NewStateValue": state,
            "NewStateReason": reason,
            "StateChangeTime": datetime.fromtimestamp(now, UTC).isoformat(),
            "Region": alarm["AlarmArn"].split(":")[3],
            "AlarmArn": alarm["AlarmArn"],
            "OldStateValue": previous,
            "Trigger": {
                "MetricName": alarm["MetricName"],
                "Namespace": alarm["Namespace"],
                "Statistic": alarm.get("Statistic"),
                "ExtendedStatistic": alarm.get("ExtendedStatistic"),
                "Dimensions": [{"name": d["Name"], "value": d["Value"]} for d in alarm.get("Dimensions", [])],
                "Period": alarm["Period"],
                "EvaluationPeriods": alarm.get("EvaluationPeriods"),
                "ComparisonOperator": alarm["ComparisonOperator"],
                "Threshold": alarm["Threshold"],
            },
        }
        subject = f'{state}: "{alarm["AlarmName"]}" in {message["Region"]}'[:100]
        for topic in actions:
            if ":sns:" in topic:
                self._publish(_Unsent(topic, subject, json.dumps(message)))

    def _publish(self, unsent: _Unsent) -> None:
        unsent.attempts += 1
        try:
            self._client("sns").publish(TopicArn=unsent.topic, Subject=unsent.subject, Message=unsent.message)
        except Exception:
            if unsent.attempts >= _PUBLISH_ATTEMPTS:
                _log.exception(
                    "alarm notification to %s dropped after %d attempts", unsent.topic, unsent.attempts
                )
            else:
                _log.warning(
                    "alarm notification to %s failed; retried next tick", unsent.topic, exc_info=True
                )
                self._unsent.append(unsent)
            return
        self.notifications += 1

    def _retry_unsent(self) -> None:
        retry, self._unsent = self._unsent, []
        for unsent in retry:
            self._publish(unsent)
