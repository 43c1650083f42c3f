"""Step Functions Retry/Catch, Kinesis mappings with a poison record, EventBridge rules - on the local cloud."""

import json
import time
import uuid

import pytest

pytestmark = pytest.mark.integration


def _state_machine_arn(cloud, name):
    machines = cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if m["name"] == name)


def _wait_execution(cloud, execution_arn, timeout_s=60):
    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.3)
    raise AssertionError(f"{execution_arn} still running after {timeout_s} s")


def _run(cloud, payload):
    arn = _state_machine_arn(cloud, "selftest-retry-catch")
    started = cloud.client("stepfunctions").start_execution(
        stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(payload)
    )
    return _wait_execution(cloud, started["executionArn"])


def _ledger(cloud, key):
    table = cloud.client("dynamodb").list_tables()["TableNames"]
    name = next(t for t in table if "LedgerTable" in t)
    item = cloud.client("dynamodb").get_item(TableName=name, Key={"pk": {"S": key}}).get("Item", {})
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


def test_a_task_that_raises_a_retryable_error_is_retried_per_its_asl(cloud):
    # Given a task failing twice with FlakyError and Retry MaxAttempts 3, When run, Then it succeeds on attempt 3
    key = uuid.uuid4().hex
    execution = _run(cloud, {"key": key, "fail_times": 2})
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"outcome": "succeeded", "attempts": 3}
    assert _ledger(cloud, f"attempts#{key}")["attempts"] == 3


def test_retries_are_bounded(cloud):
    # Given a task failing more often than Retry allows, When run, Then the execution fails with FlakyError
    key = uuid.uuid4().hex
    execution = _run(cloud, {"key": key, "fail_times": 10})
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "FlakyError"
    assert _ledger(cloud, f"attempts#{key}")["attempts"] == 4  # the first try + 3 retries


def test_a_task_that_raises_a_fatal_error_is_caught(cloud):
    # Given a task raising FatalError and a Catch on it, When run, Then the Fallback state ends it
    execution = _run(cloud, {"key": uuid.uuid4().hex, "fatal": True})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"outcome": "caught", "error": "FatalError"}


def test_a_poison_record_goes_to_the_dlq_and_every_good_record_is_delivered_once(cloud):
    # Given one PutRecords batch of 25 good records and a poison one in the middle
    run = uuid.uuid4().hex[:8]
    records = [{"id": f"{run}-{i}"} for i in range(25)]
    records.insert(12, {"id": f"{run}-poison", "poison": True})
    cloud.client("kinesis").put_records(
        StreamName="selftest-ticks",
        Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "AAPL"} for r in records],
    )
    # When the mapping has delivered them (the poison one exhausts its 2 retries)
    sqs = cloud.client("sqs")
    queue = sqs.get_queue_url(QueueName="selftest-ticks-dlq")["QueueUrl"]
    messages = []
    deadline = time.monotonic() + 60
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
    # Then the DLQ holds the poison record with why it failed, and every good record was counted exactly once
    assert messages, "nothing reached the DLQ"
    failure = json.loads(messages[0]["Body"])
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert "poison" in json.dumps(failure)
    time.sleep(1.0)
    deliveries = [
        _ledger(cloud, f"record#{r['id']}").get("deliveries", 0) for r in records if "poison" not in r
    ]
    assert deliveries == [1] * 25


def test_an_eventbridge_rule_starts_the_state_machine_and_invokes_a_function(cloud):
    # Given rules on the selftest bus, When two events are put, Then the state machine runs and the function counts
    key, ping = uuid.uuid4().hex, uuid.uuid4().hex
    cloud.client("events").put_events(
        Entries=[
            {"EventBusName": "selftest-bus", "Source": "selftest", "DetailType": "RunRetryCatch",
             "Detail": json.dumps({"key": key, "fail_times": 1})},
            {"EventBusName": "selftest-bus", "Source": "selftest", "DetailType": "Ping",
             "Detail": json.dumps({"id": ping})},
        ]
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _ledger(cloud, f"attempts#{key}").get("attempts") == 2 and _ledger(cloud, f"event#{ping}"):
            break
        time.sleep(0.3)
    assert _ledger(cloud, f"attempts#{key}").get("attempts") == 2
    assert _ledger(cloud, f"event#{ping}") == {"deliveries": 1}
