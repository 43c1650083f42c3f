"""Kinesis event source mappings, polled locally with AWS Lambda's semantics.

One thread per shard reads the stream (GetShardIterator/GetRecords against moto), builds the Lambda Kinesis
event and invokes the function through the local runtime, one batch at a time so shard order is kept.

What happens on failure (AWS behaviour, see "Configuring partial batch response with Kinesis" and
"Retain discarded batch records" in the Lambda guide):
- ReportBatchItemFailures: Lambda checkpoints before the lowest reported sequence number and retries from it,
  so records before it are not delivered again (records after it are). An empty/null list or response means
  success; a null, empty or unknown itemIdentifier means the whole batch failed.
- A function error fails the whole batch. BisectBatchOnFunctionError splits it in two and retries the halves
  (first half first); splitting does not use up retries. With both settings on, a partial failure bisects
  the batch at the returned sequence number (no retry used); when that is the batch's first record, the
  batch is halved as for a function error, so a poison record ends up alone before retries are spent.
- After MaximumRetryAttempts retries the batch is discarded: a JSON record of it goes to the on-failure SQS
  destination and polling moves past it. -1 means "until the record expires"; locally we stop at 10,000 (the
  largest value AWS accepts) so nothing spins forever.

Without bisect, a retry from an advanced checkpoint still counts against the batch's quota, so a poison record
is invoked at most MaximumRetryAttempts + 1 times and the records after it in its batch are discarded with it.
Shards are discovered when the poller starts (no resharding).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localcloud.metrics import observe
from localcloud.runtime import LambdaRuntime, local_client
from localcloud.specs import ACCOUNT_ID, REGION, EventSourceMappingSpec

_log = logging.getLogger(__name__)

_UNLIMITED_RETRY_CAP = 10_000
_MAX_RETRY_DELAY_S = 2.0


@dataclass(frozen=True)
class _Record:
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: datetime


@dataclass(frozen=True)
class _Outcome:
    """What one invocation did with a batch."""

    succeeded: bool
    retry_from: int | None = None  # partial failure: index of the lowest failed record
    function_error: str | None = None
    status_code: int = 200
    why: dict[str, Any] = field(default_factory=dict)  # for the on-failure record (local extra)


@dataclass
class _Attempt:
    records: list[_Record]
    retries: int


def _arn_part(arn: str, index: int, default: str) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) > index and parts[index] else default


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class KinesisPoller:
    """Delivers one Kinesis stream to one function, like a Lambda event source mapping."""

    def __init__(
        self,
        spec: EventSourceMappingSpec,
        runtime: LambdaRuntime,
        kinesis_endpoint: str,
        sqs_endpoint: str,
        poll_interval_s: float = 0.2,
        *,
        invoke_identity_arn: str | None = None,
    ) -> None:
        self.spec = spec
        self._runtime = runtime
        self._kinesis_endpoint = kinesis_endpoint
        self._sqs_endpoint = sqs_endpoint
        self._poll_interval_s = poll_interval_s
        self._region = _arn_part(spec.stream_arn, 3, REGION)
        account = _arn_part(spec.stream_arn, 4, ACCOUNT_ID)
        # The function's execution role on AWS; FunctionSpec does not carry it, so name one per function.
        self._invoke_identity_arn = (
            invoke_identity_arn or f"arn:aws:iam::{account}:role/{spec.function_name}-role"
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stats = {
            "batches": 0,
            "records_delivered": 0,
            "retries": 0,
            "bisections": 0,
            "records_sent_to_dlq": 0,
            "records_discarded": 0,
        }
        self._shards: list[_ShardReader] = []
        self._threads: list[threading.Thread] = []
        self._queue_url: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Find the shards and take their iterators now (so LATEST means "after start()"), then poll."""
        if self._threads:
            return
        kinesis = local_client("kinesis", self._kinesis_endpoint, self._region)
        shard_ids = self._shard_ids(kinesis)
        self._shards = [_ShardReader(self, shard_id) for shard_id in shard_ids]
        for reader in self._shards:
            reader.seek()
            thread = threading.Thread(
                target=reader.run, name=f"kinesis-{self.spec.stream_name}-{reader.shard_id}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        join_s = 5.0 + self._function_timeout_s()
        for thread in self._threads:
            thread.join(timeout=join_s)

    def wait_idle(self, timeout_s: float) -> bool:
        """True once every shard was found empty by a poll started after this call (nothing in flight)."""
        called_at = time.monotonic()
        deadline = called_at + timeout_s
        while True:
            if self._threads and all(reader.caught_up_at >= called_at for reader in self._shards):
                return True
            if time.monotonic() >= deadline or self._stop.is_set():
                return False
            time.sleep(min(self._poll_interval_s / 2, 0.05))

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    # -- used by the shard readers --------------------------------------------------------------------

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    @property
    def poll_interval_s(self) -> float:
        return self._poll_interval_s

    def kinesis_client(self) -> Any:
        return local_client("kinesis", self._kinesis_endpoint, self._region)

    def deliver(self, shard_id: str, batch: list[_Record]) -> None:
        """Invoke the function on a batch until every record succeeded or was discarded."""
        work: deque[_Attempt] = deque([_Attempt(batch, retries=0)])
        if batch:  # AWS/Lambda IteratorAge: the age of the batch's oldest record when it is handed over
            age_ms = (time.time() - batch[0].arrival.timestamp()) * 1000
            observe(
                "AWS/Lambda", "IteratorAge", {"FunctionName": self.spec.function_name}, age_ms, "Milliseconds"
            )
        while work and not self._stop.is_set():
            attempt = work.popleft()
            outcome = self._invoke(shard_id, attempt.records)
            if not outcome.succeeded:
                self._handle_failure(work, shard_id, attempt, outcome)

    def _handle_failure(
        self, work: deque[_Attempt], shard_id: str, attempt: _Attempt, outcome: _Outcome
    ) -> None:
        partial = outcome.retry_from is not None
        failed = attempt.records[outcome.retry_from :] if partial else attempt.records
        bisect = self.spec.bisect_on_error and (partial or outcome.function_error is not None)
        if bisect and partial and outcome.retry_from:
            # "bisected at the returned sequence number": the records before it succeeded; no retry is used
            work.appendleft(_Attempt(failed, attempt.retries))
            self._count("bisections")
        elif bisect and len(failed) > 1:
            half = len(failed) // 2
            work.appendleft(_Attempt(failed[half:], attempt.retries))
            work.appendleft(_Attempt(failed[:half], attempt.retries))
            self._count("bisections")
        else:
            self._retry_or_discard(work, shard_id, failed, attempt, outcome)

    # -- internals ------------------------------------------------------------------------------------

    def _shard_ids(self, kinesis: Any) -> list[str]:
        shard_ids: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.spec.stream_name}
        while True:
            page = kinesis.list_shards(**kwargs)
            shard_ids += [shard["ShardId"] for shard in page["Shards"]]
            if not page.get("NextToken"):
                return shard_ids
            kwargs = {"NextToken": page["NextToken"]}

    def _function_timeout_s(self) -> float:
        try:
            return float(self._runtime.function(self.spec.function_name).timeout_s)
        except KeyError:
            return 0.0

    def _max_retries(self) -> int:
        configured = self.spec.maximum_retry_attempts
        return _UNLIMITED_RETRY_CAP if configured < 0 else min(configured, _UNLIMITED_RETRY_CAP)

    def _retry_or_discard(
        self,
        work: deque[_Attempt],
        shard_id: str,
        records: list[_Record],
        attempt: _Attempt,
        outcome: _Outcome,
    ) -> None:
        if attempt.retries < self._max_retries():
            self._count("retries")
            delay_s = min(self._poll_interval_s * 2**attempt.retries, _MAX_RETRY_DELAY_S)
            self._stop.wait(delay_s)
            work.appendleft(_Attempt(records, attempt.retries + 1))
            return
        self._discard(shard_id, records, attempt.retries + 1, outcome)

    def _invoke(self, shard_id: str, records: list[_Record]) -> _Outcome:
        payload = json.dumps(self._event(shard_id, records)).encode("utf-8")
        try:
            result = self._runtime.invoke(self.spec.function_name, payload)
        except Exception as error:  # no such function, runtime closed: the batch could not be invoked
            _log.warning("%s: cannot invoke %s: %s", self.spec.stream_name, self.spec.function_name, error)
            return _Outcome(False, status_code=500, why={"invokeError": f"{type(error).__name__}: {error}"})
        self._count("batches")
        if result.function_error is not None:
            return _Outcome(
                False,
                function_error=result.function_error,
                why={"functionErrorPayload": _parse(result.payload)},
            )
        if not self.spec.report_batch_item_failures:
            self._count("records_delivered", len(records))
            return _Outcome(True)
        outcome = _batch_item_outcome(_parse(result.payload), records)
        delivered = len(records) if outcome.succeeded else (outcome.retry_from or 0)
        self._count("records_delivered", delivered)
        return outcome

    def _event(self, shard_id: str, records: list[_Record]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record.partition_key,
                        "sequenceNumber": record.sequence_number,
                        "data": base64.b64encode(record.data).decode("ascii"),
                        "approximateArrivalTimestamp": round(record.arrival.timestamp(), 3),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record.sequence_number}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": self._invoke_identity_arn,
                    "awsRegion": self._region,
                    "eventSourceARN": self.spec.stream_arn,
                }
                for record in records
            ]
        }

    def _discard(self, shard_id: str, records: list[_Record], invoke_count: int, outcome: _Outcome) -> None:
        self._count("records_discarded", len(records))
        destination = self.spec.on_failure_destination
        first, last = records[0].sequence_number, records[-1].sequence_number
        if not destination:
            _log.warning(
                "%s %s: discarded records %s..%s (no on-failure destination)",
                self.spec.stream_name,
                shard_id,
                first,
                last,
            )
            return
        message = self._failure_record(shard_id, records, invoke_count, outcome)
        try:
            sqs = local_client("sqs", self._sqs_endpoint, _arn_part(destination, 3, self._region))
            sqs.send_message(
                QueueUrl=self._destination_url(sqs, destination), MessageBody=json.dumps(message)
            )
        except (BotoCoreError, ClientError) as error:
            _log.error(
                "%s %s: records %s..%s lost, on-failure destination %s failed: %s",
                self.spec.stream_name,
                shard_id,
                first,
                last,
                destination,
                error,
            )
            return
        self._count("records_sent_to_dlq", len(records))

    def _destination_url(self, sqs: Any, queue_arn: str) -> str:
        if self._queue_url is None:
            queue_name = queue_arn.rsplit(":", 1)[-1]
            account = _arn_part(queue_arn, 4, ACCOUNT_ID)
            self._queue_url = sqs.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
        return self._queue_url

    def _failure_record(
        self, shard_id: str, records: list[_Record], invoke_count: int, outcome: _Outcome
    ) -> dict[str, Any]:
        """The on-failure invocation record AWS sends, plus a local-only ``localcloud`` field saying why."""
        response_context: dict[str, Any] = {"statusCode": outcome.status_code, "executedVersion": "$LATEST"}
        if outcome.function_error:
            response_context["functionError"] = outcome.function_error
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._function_arn(),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso_millis(datetime.now(UTC)),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0].sequence_number,
                "endSequenceNumber": records[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso_millis(records[0].arrival),
                "approximateArrivalOfLastRecord": _iso_millis(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": self.spec.stream_arn,
            },
            "localcloud": {
                "note": "not sent by AWS (metadata only there): the discarded records and why they failed",
                "records": [_readable(record) for record in records],
                **outcome.why,
            },
        }

    def _function_arn(self) -> str:
        try:
            return self._runtime.function(self.spec.function_name).arn
        except KeyError:
            return f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{self.spec.function_name}"

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[name] += amount


def _readable(record: _Record) -> dict[str, Any]:
    """A discarded record for people: its data as base64, and as text too when it is UTF-8."""
    described = {
        "sequenceNumber": record.sequence_number,
        "partitionKey": record.partition_key,
        "data": base64.b64encode(record.data).decode("ascii"),
    }
    with contextlib.suppress(UnicodeDecodeError):
        described["text"] = record.data.decode("utf-8")
    return described


def _parse(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", errors="replace")


def _batch_item_outcome(response: Any, records: list[_Record]) -> _Outcome:
    """Read a ReportBatchItemFailures response as Lambda does."""
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:  # null/empty response or list: the whole batch succeeded
        return _Outcome(True)
    if not isinstance(failures, list):
        return _Outcome(
            False, why={"batchItemFailures": failures, "reason": "batchItemFailures is not a list"}
        )
    positions = {record.sequence_number: index for index, record in enumerate(records)}
    failed: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            reason = f"itemIdentifier {identifier!r} is null, empty or not in the batch: whole batch failed"
            return _Outcome(False, why={"batchItemFailures": failures, "reason": reason})
        failed.append(positions[identifier])
    return _Outcome(False, retry_from=min(failed), why={"batchItemFailures": failures})


class _ShardReader:
    """Reads one shard in order and hands batches to the poller."""

    def __init__(self, poller: KinesisPoller, shard_id: str) -> None:
        self._poller = poller
        self.shard_id = shard_id
        self._kinesis = poller.kinesis_client()
        self._iterator: str | None = None
        self._last_sequence: str | None = None
        self.caught_up_at = float("-inf")  # monotonic start of the last empty poll with nothing in flight

    def seek(self) -> None:
        kwargs: dict[str, Any] = {"StreamName": self._poller.spec.stream_name, "ShardId": self.shard_id}
        if self._last_sequence is None:
            kwargs["ShardIteratorType"] = self._poller.spec.starting_position
        else:
            kwargs |= {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": self._last_sequence,
            }
        self._iterator = self._kinesis.get_shard_iterator(**kwargs)["ShardIterator"]

    def run(self) -> None:
        stopping = self._poller.stopping
        while not stopping.is_set():
            try:
                batch = self._next_batch()
            except (BotoCoreError, ClientError) as error:
                _log.warning("%s: reading failed, will retry: %s", self.shard_id, error)
                stopping.wait(self._poller.poll_interval_s * 5)
                self._reseek()
                continue
            if batch:
                self._poller.deliver(self.shard_id, batch)
            else:
                stopping.wait(self._poller.poll_interval_s)

    def _reseek(self) -> None:
        try:
            self.seek()
        except (BotoCoreError, ClientError) as error:
            _log.warning("%s: cannot get a shard iterator yet: %s", self.shard_id, error)

    def _next_batch(self) -> list[_Record]:
        batch_size = self._poller.spec.batch_size
        poll_started = time.monotonic()
        batch = self._get_records(batch_size)
        if not batch:
            self.caught_up_at = poll_started
            return []
        # MaximumBatchingWindowInSeconds: gather until the batch is full or the window has passed.
        window_ends = time.monotonic() + self._poller.spec.batching_window_s
        stopping = self._poller.stopping
        while len(batch) < batch_size and time.monotonic() < window_ends and not stopping.is_set():
            stopping.wait(min(self._poller.poll_interval_s, max(window_ends - time.monotonic(), 0)))
            try:
                batch += self._get_records(batch_size - len(batch))
            except (BotoCoreError, ClientError) as error:
                _log.warning("%s: reading failed, delivering what we have: %s", self.shard_id, error)
                break
        return batch

    def _get_records(self, limit: int) -> list[_Record]:
        if self._iterator is None:
            self.seek()
        response = self._kinesis.get_records(ShardIterator=self._iterator, Limit=limit)
        self._iterator = response.get("NextShardIterator")
        records = [
            _Record(
                sequence_number=raw["SequenceNumber"],
                partition_key=raw["PartitionKey"],
                data=raw["Data"],
                arrival=raw["ApproximateArrivalTimestamp"],
            )
            for raw in response["Records"]
        ]
        if records:
            self._last_sequence = records[-1].sequence_number
        return records
