"""Kinesis event source mappings polled by localcloud.kinesis against an in-process moto server, delivering to
handlers in tests/fixtures/lambdas/stream/app.py run by the local Lambda runtime."""

import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from localcloud.kinesis import KinesisPoller
from localcloud.runtime import LambdaRuntime, local_client
from localcloud.specs import ACCOUNT_ID, REGION, EventSourceMappingSpec, FunctionSpec

STREAM_HANDLERS = Path(__file__).resolve().parents[2] / "fixtures" / "lambdas" / "stream"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    local = LambdaRuntime({"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, tmp_path_factory.mktemp("logs"))
    yield local
    local.close()


class Consumer:
    """A function of the stream handlers plus the files it writes."""

    def __init__(self, runtime: LambdaRuntime, handler: str, workdir: Path) -> None:
        self.name = f"consumer-{uuid.uuid4().hex[:8]}"
        self.records_file = workdir / "records.txt"
        self.invocations_file = workdir / "invocations.jsonl"
        environment = {
            "RECORD_FILE": str(self.records_file),
            "INVOCATIONS_FILE": str(self.invocations_file),
            "SEEN_FILE": str(workdir / "seen.txt"),
        }
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"
        runtime.register(
            FunctionSpec(self.name, self.name, arn, f"app.{handler}", STREAM_HANDLERS, environment)
        )

    def processed(self) -> list[str]:
        return self.records_file.read_text().splitlines() if self.records_file.exists() else []

    def invocations(self) -> list:
        if not self.invocations_file.exists():
            return []
        return [json.loads(line) for line in self.invocations_file.read_text().splitlines()]


class Stream:
    def __init__(self, endpoint: str, shards: int = 1) -> None:
        self.kinesis = local_client("kinesis", endpoint)
        self.name = f"ticks-{uuid.uuid4().hex[:8]}"
        self.kinesis.create_stream(StreamName=self.name, ShardCount=shards)
        self.arn = self.kinesis.describe_stream_summary(StreamName=self.name)["StreamDescriptionSummary"][
            "StreamARN"
        ]

    def put(self, *datas: str, partition_key: str = "SPY") -> list[str]:
        """Put records one by one (PutRecord keeps their order); returns their sequence numbers."""
        return [
            self.kinesis.put_record(StreamName=self.name, Data=data.encode(), PartitionKey=partition_key)[
                "SequenceNumber"
            ]
            for data in datas
        ]


class DeadLetterQueue:
    def __init__(self, endpoint: str) -> None:
        self.sqs = local_client("sqs", endpoint)
        self.url = self.sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def messages(self) -> list[dict]:
        response = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.fixture
def polling(runtime, endpoint) -> Callable:
    """Start a poller for a mapping; it is stopped after the test."""

    @contextmanager
    def start(stream: Stream, consumer: Consumer, **mapping) -> Iterator[KinesisPoller]:
        spec = EventSourceMappingSpec(
            function_name=consumer.name, stream_name=stream.name, stream_arn=stream.arn, **mapping
        )
        poller = KinesisPoller(spec, runtime, endpoint, endpoint, poll_interval_s=0.05)
        poller.start()
        try:
            yield poller
        finally:
            poller.stop()

    return start


def test_poison_record_reported_as_batch_item_failure_goes_to_the_dlq_and_good_records_arrive_once(
    runtime, endpoint, polling, tmp_path
):
    # Given a batch of 5 whose last record is poison, then 5 more good records, a handler that reports the
    # first failed record as a batch item failure, 2 retries and an SQS on-failure destination
    stream, dlq = Stream(endpoint), DeadLetterQueue(endpoint)
    consumer = Consumer(runtime, "report_first_failure", tmp_path)
    sequence_numbers = stream.put("g1", "g2", "g3", "g4", "poison-1", "g5", "g6", "g7", "g8", "g9")
    mapping = {
        "batch_size": 5,
        "starting_position": "TRIM_HORIZON",
        "report_batch_item_failures": True,
        "maximum_retry_attempts": 2,
        "on_failure_destination": dlq.arn,
    }

    # When the mapping polls the stream until it is drained
    with polling(stream, consumer, **mapping) as poller:
        assert poller.wait_idle(15)
        stats = poller.stats

    # Then every good record was processed exactly once, in order
    assert consumer.processed() == ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9"]
    # and the poison record was retried from the checkpoint alone, 1 + 2 times, then skipped
    assert consumer.invocations() == [
        ["g1", "g2", "g3", "g4", "poison-1"],
        ["poison-1"],
        ["poison-1"],
        ["g5", "g6", "g7", "g8", "g9"],
    ]
    # and it is described in the DLQ as AWS does, plus the local-only record data and reason
    [failure] = dlq.messages()
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"].endswith(f":function:{consumer.name}")
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responseContext"]["statusCode"] == 200
    batch = failure["KinesisBatchInfo"]
    assert batch["shardId"] == "shardId-000000000000"
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"] == sequence_numbers[4]
    assert batch["batchSize"] == 1
    assert batch["streamArn"] == stream.arn
    [discarded] = failure["localcloud"]["records"]
    assert base64.b64decode(discarded["data"]) == discarded["text"].encode() == b"poison-1"
    assert failure["localcloud"]["batchItemFailures"] == [{"itemIdentifier": sequence_numbers[4]}]
    assert stats["retries"] == 2
    assert stats["records_sent_to_dlq"] == 1
    assert stats["records_delivered"] == 9


def test_batch_item_failure_retries_from_the_failed_record_not_before_it(
    runtime, endpoint, polling, tmp_path
):
    # Given a record that fails once, between two good ones, in one batch
    stream = Stream(endpoint)
    consumer = Consumer(runtime, "report_first_failure", tmp_path)
    stream.put("a", "once-b", "c")

    # When the mapping delivers them with ReportBatchItemFailures
    with polling(
        stream, consumer, batch_size=10, starting_position="TRIM_HORIZON", report_batch_item_failures=True
    ) as poller:
        assert poller.wait_idle(15)

    # Then the retry starts at the failed record: "a" is not delivered again, "c" is (it came after)
    assert consumer.invocations() == [["a", "once-b", "c"], ["once-b", "c"]]
    assert consumer.processed() == ["a", "once-b", "c"]


def test_bisect_on_function_error_isolates_the_poison_record(runtime, endpoint, polling, tmp_path):
    # Given a handler that fails the whole batch when any record is poison, bisect on, 1 retry, a DLQ
    stream, dlq = Stream(endpoint), DeadLetterQueue(endpoint)
    consumer = Consumer(runtime, "all_or_nothing", tmp_path)
    sequence_numbers = stream.put("g0", "g1", "g2", "poison-3", "g4", "g5")
    mapping = {
        "batch_size": 6,
        "starting_position": "TRIM_HORIZON",
        "bisect_on_error": True,
        "maximum_retry_attempts": 1,
        "on_failure_destination": dlq.arn,
    }

    # When the mapping delivers the batch
    with polling(stream, consumer, **mapping) as poller:
        assert poller.wait_idle(15)
        stats = poller.stats

    # Then halving isolated the poison record (without using retries), and the good ones arrived once
    assert consumer.invocations() == [
        ["g0", "g1", "g2", "poison-3", "g4", "g5"],
        ["g0", "g1", "g2"],
        ["poison-3", "g4", "g5"],
        ["poison-3"],
        ["poison-3"],
        ["g4", "g5"],
    ]
    assert consumer.processed() == ["g0", "g1", "g2", "g4", "g5"]
    [failure] = dlq.messages()
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == sequence_numbers[3]
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["localcloud"]["functionErrorPayload"]["errorType"] == "PoisonRecordError"
    assert stats["bisections"] == 2
    assert stats["retries"] == 1


def test_bisect_with_batch_item_failures_isolates_a_poison_record_in_the_middle(
    runtime, endpoint, polling, tmp_path
):
    # Given a batch of 10 with a poison record in the middle, a handler reporting the first failed record,
    # ReportBatchItemFailures and bisect both on, 1 retry and a DLQ
    stream, dlq = Stream(endpoint), DeadLetterQueue(endpoint)
    consumer = Consumer(runtime, "report_first_failure", tmp_path)
    sequence_numbers = stream.put("g0", "g1", "g2", "g3", "g4", "poison-5", "g6", "g7", "g8", "g9")
    mapping = {
        "batch_size": 10,
        "starting_position": "TRIM_HORIZON",
        "report_batch_item_failures": True,
        "bisect_on_error": True,
        "maximum_retry_attempts": 1,
        "on_failure_destination": dlq.arn,
    }

    # When the mapping delivers the batch
    with polling(stream, consumer, **mapping) as poller:
        assert poller.wait_idle(15)
        stats = poller.stats

    # Then the batch was split at the failed record, then halved until the poison record was alone
    assert consumer.invocations() == [
        ["g0", "g1", "g2", "g3", "g4", "poison-5", "g6", "g7", "g8", "g9"],
        ["poison-5", "g6", "g7", "g8", "g9"],
        ["poison-5", "g6"],
        ["poison-5"],
        ["poison-5"],
        ["g6"],
        ["g7", "g8", "g9"],
    ]
    # and only it was discarded: every good record was processed exactly once, in order
    assert consumer.processed() == ["g0", "g1", "g2", "g3", "g4", "g6", "g7", "g8", "g9"]
    [failure] = dlq.messages()
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == sequence_numbers[5]
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert stats["retries"] == 1


def test_empty_item_identifier_fails_the_whole_batch(runtime, endpoint, polling, tmp_path):
    # Given a handler answering a batchItemFailure without an itemIdentifier, no retries, a DLQ
    stream, dlq = Stream(endpoint), DeadLetterQueue(endpoint)
    consumer = Consumer(runtime, "bad_identifier", tmp_path)
    sequence_numbers = stream.put("x", "y", "z")

    # When the mapping delivers the batch
    with polling(
        stream,
        consumer,
        starting_position="TRIM_HORIZON",
        report_batch_item_failures=True,
        maximum_retry_attempts=0,
        on_failure_destination=dlq.arn,
    ) as poller:
        assert poller.wait_idle(15)

    # Then the whole batch was discarded to the DLQ
    [failure] = dlq.messages()
    batch = failure["KinesisBatchInfo"]
    assert (batch["startSequenceNumber"], batch["endSequenceNumber"]) == (
        sequence_numbers[0],
        sequence_numbers[2],
    )
    assert batch["batchSize"] == 3
    assert "whole batch failed" in failure["localcloud"]["reason"]


def test_event_has_the_shape_lambda_gives_kinesis_records(runtime, endpoint, polling, tmp_path):
    # Given a mapping starting at LATEST, and a record put before it started
    stream = Stream(endpoint)
    consumer = Consumer(runtime, "capture", tmp_path)
    stream.put("before-start")

    with polling(stream, consumer, starting_position="LATEST") as poller:
        # When two records are put after it started
        put_at = time.time()
        [first, second] = stream.put('{"px": 101.5}', '{"px": 101.6}', partition_key="QQQ")
        assert poller.wait_idle(15)

    # Then the event carries exactly those records, as AWS builds them
    records = [record for event in consumer.invocations() for record in event["Records"]]
    assert [record["kinesis"]["sequenceNumber"] for record in records] == [first, second]
    record = records[0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventVersion"] == "1.0"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventID"] == f"shardId-000000000000:{first}"
    assert record["eventSourceARN"] == stream.arn
    assert record["awsRegion"] == REGION
    assert record["invokeIdentityArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/")
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "QQQ"
    assert json.loads(base64.b64decode(record["kinesis"]["data"])) == {"px": 101.5}
    assert abs(record["kinesis"]["approximateArrivalTimestamp"] - put_at) < 5


def test_each_shard_is_delivered_in_order(runtime, endpoint, polling, tmp_path):
    # Given a 2-shard stream with records of several partition keys
    stream = Stream(endpoint, shards=2)
    consumer = Consumer(runtime, "all_or_nothing", tmp_path)
    keys = ["AAPL", "MSFT", "NVDA", "TSLA"]
    for index in range(6):
        for key in keys:
            stream.put(f"{key}:{index}", partition_key=key)

    # When the mapping delivers them in batches of 3
    with polling(stream, consumer, batch_size=3, starting_position="TRIM_HORIZON") as poller:
        assert poller.wait_idle(15)
        stats = poller.stats

    # Then every record arrived once and each key's records kept their order
    processed = consumer.processed()
    assert sorted(processed) == sorted(f"{key}:{index}" for key in keys for index in range(6))
    for key in keys:
        assert [data for data in processed if data.startswith(key)] == [
            f"{key}:{index}" for index in range(6)
        ]
    assert stats["batches"] == len(consumer.invocations()) >= 8
