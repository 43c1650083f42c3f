"""Readiness of the platform's resources: one cheap describe call per resource, run concurrently."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from trade2026.adapters.aws import client


@dataclass(frozen=True)
class ResourceHealth:
    kind: str
    name: str
    healthy: bool
    detail: str


def _dynamodb(name: str) -> str:
    return str(client("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"])


def _s3(name: str) -> str:
    client("s3").head_bucket(Bucket=name)
    return "ACTIVE"


def _kinesis(name: str) -> str:
    return str(
        client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
    )


def _sqs(name: str) -> str:
    url = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    depth = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return f"ACTIVE ({depth['Attributes']['ApproximateNumberOfMessages']} messages)"


def _events(name: str) -> str:
    client("events").describe_event_bus(Name=name)
    return "ACTIVE"


def _states(arn: str) -> str:
    return str(client("stepfunctions").describe_state_machine(stateMachineArn=arn).get("status", "ACTIVE"))


def _cognito(pool_id: str) -> str:
    return str(
        client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Status", "Enabled")
    )


def _sns(arn: str) -> str:
    client("sns").get_topic_attributes(TopicArn=arn)
    return "ACTIVE"


CHECKS: dict[str, Callable[[str], str]] = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "kinesis": _kinesis,
    "sqs": _sqs,
    "events": _events,
    "states": _states,
    "cognito": _cognito,
    "sns": _sns,
}
_HEALTHY_PREFIXES = ("ACTIVE", "Enabled")


def parse_resources(spec: str) -> list[tuple[str, str]]:
    """``"dynamodb=orders,s3=lake"`` -> ``[("dynamodb", "orders"), ("s3", "lake")]``."""
    pairs = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, name = item.partition("=")
        if kind not in CHECKS or not name:
            raise ValueError(
                f"Bad health resource {item!r}: expected kind=name with kind in {sorted(CHECKS)}"
            )
        pairs.append((kind, name))
    return pairs


def _check_one(kind: str, name: str) -> ResourceHealth:
    try:
        detail = CHECKS[kind](name)
    except (ClientError, BotoCoreError) as exc:
        return ResourceHealth(kind, name, False, str(exc))
    return ResourceHealth(kind, name, detail.startswith(_HEALTHY_PREFIXES), detail)


def check_all(resources: Iterable[tuple[str, str]]) -> list[ResourceHealth]:
    items = list(resources)
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(items)))) as pool:
        return list(pool.map(lambda item: _check_one(*item), items))
