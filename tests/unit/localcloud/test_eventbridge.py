"""EventBridge rules delivering to Lambda (the local runtime) and Step Functions targets, on an in-process
moto server."""

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from localcloud.eventbridge import install_eventbridge_delivery
from localcloud.runtime import LambdaRuntime, local_client
from localcloud.specs import ACCOUNT_ID, REGION, FunctionSpec

BASIC = Path(__file__).resolve().parents[2] / "fixtures" / "lambdas" / "basic"
ORDER_FILLED = {"source": ["trade2026.orders"], "detail-type": ["OrderFilled"]}


@pytest.fixture(scope="module")
def runtime(endpoint, tmp_path_factory):
    local = LambdaRuntime({"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, tmp_path_factory.mktemp("logs"))
    install_eventbridge_delivery(local, endpoint)
    yield local
    local.close()


@pytest.fixture
def events(endpoint):
    return local_client("events", endpoint)


def recorder(runtime: LambdaRuntime, workdir: Path) -> tuple[str, Path]:
    """A function appending each event it gets to a file; returns its ARN and the file."""
    name = f"recorder-{uuid.uuid4().hex[:8]}"
    record_file = workdir / f"{name}.jsonl"
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    runtime.register(
        FunctionSpec(name, name, arn, "handlers.record", BASIC, {"RECORD_FILE": str(record_file)})
    )
    return arn, record_file


def received(runtime: LambdaRuntime, record_file: Path) -> list[dict]:
    assert runtime.wait_async_idle(10)
    return [json.loads(line) for line in record_file.read_text().splitlines()] if record_file.exists() else []


def rule(events, pattern: dict, targets: list[dict], state: str = "ENABLED") -> str:
    name = f"rule-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    events.put_targets(
        Rule=name, Targets=[{"Id": str(index), **target} for index, target in enumerate(targets)]
    )
    return name


def put(events, detail_type: str, detail: dict, source: str = "trade2026.orders") -> dict:
    return events.put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )


def test_matching_event_is_delivered_to_a_lambda_target_beside_an_sqs_target(
    runtime, endpoint, events, tmp_path
):
    # Given a rule on OrderFilled with a Lambda target and an SQS target (served by moto itself)
    function_arn, record_file = recorder(runtime, tmp_path)
    sqs = local_client("sqs", endpoint)
    queue_url = sqs.create_queue(QueueName=f"fills-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule(events, ORDER_FILLED, [{"Arn": function_arn}, {"Arn": queue_arn}])

    # When a matching and a non-matching event are put
    answer = put(events, "OrderFilled", {"order_id": "o-1", "qty": 10})
    put(events, "OrderAccepted", {"order_id": "o-2"})

    # Then the function got only the matching one, shaped as EventBridge delivers it, and so did the queue
    assert answer["FailedEntryCount"] == 0
    [event] = received(runtime, record_file)
    assert event["detail"] == {"order_id": "o-1", "qty": 10}
    assert event["detail-type"] == "OrderFilled"
    assert event["source"] == "trade2026.orders"
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["account"] == ACCOUNT_ID
    assert event["region"] == REGION
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert "ingestion-time" not in event
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(message["Body"])["detail"]["order_id"] for message in messages] == ["o-1"]


def test_input_inputpath_and_inputtransformer_shape_what_the_target_gets(runtime, events, tmp_path):
    # Given one rule whose three Lambda targets each reshape the event differently
    constant_arn, constant_file = recorder(runtime, tmp_path)
    path_arn, path_file = recorder(runtime, tmp_path)
    transformed_arn, transformed_file = recorder(runtime, tmp_path)
    transformer = {
        "InputPathsMap": {"symbol": "$.detail.symbol", "kind": "$.detail-type", "qty": "$.detail.qty"},
        "InputTemplate": '{"instrument": <symbol>, "quantity": <qty>, "text": "<qty> <symbol> \\"<kind>\\""}',
    }
    rule(
        events,
        ORDER_FILLED,
        [
            {"Arn": constant_arn, "Input": '{"fixed": true}'},
            {"Arn": path_arn, "InputPath": "$.detail"},
            {"Arn": transformed_arn, "InputTransformer": transformer},
        ],
    )

    # When a matching event is put
    put(events, "OrderFilled", {"order_id": "o-3", "symbol": "SPY", "qty": 5})

    # Then each target got its own input
    assert received(runtime, constant_file) == [{"fixed": True}]
    assert received(runtime, path_file) == [{"order_id": "o-3", "symbol": "SPY", "qty": 5}]
    # (placeholders outside quotes are JSON values, inside a string literal they are text)
    assert received(runtime, transformed_file) == [
        {"instrument": "SPY", "quantity": 5, "text": '5 SPY "OrderFilled"'}
    ]


def test_state_machine_target_starts_an_execution_per_event(endpoint, events):
    # Given a rule whose target is a state machine (executed by moto's interpreter)
    sfn = local_client("stepfunctions", endpoint)
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine_arn = sfn.create_state_machine(
        name=f"on-bar-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/sfn",
    )["stateMachineArn"]
    rule(events, {"detail-type": ["BarClosed"]}, [{"Arn": machine_arn}])

    # When two matching events are put
    put(events, "BarClosed", {"symbol": "QQQ", "close": 431.2}, source="trade2026.marketdata")
    put(events, "BarClosed", {"symbol": "SPY", "close": 512.9}, source="trade2026.marketdata")

    # Then each started its own execution of that state machine, with the event as input
    deadline = time.monotonic() + 10
    while len(executions := sfn.list_executions(stateMachineArn=machine_arn)["executions"]) < 2:
        assert time.monotonic() < deadline, f"only {len(executions)} execution(s) started"
        time.sleep(0.05)
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions]
    assert sorted(i["detail"]["symbol"] for i in inputs) == ["QQQ", "SPY"]
    assert {i["detail-type"] for i in inputs} == {"BarClosed"}


def test_unnamed_start_executions_of_one_state_machine_get_distinct_names(endpoint, runtime):
    # Given a state machine (and the local cloud's Step Functions naming fix, installed with the delivery)
    sfn = local_client("stepfunctions", endpoint)
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine_arn = sfn.create_state_machine(
        name=f"unnamed-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/sfn",
    )["stateMachineArn"]

    # When it is started twice without a name
    first = sfn.start_execution(stateMachineArn=machine_arn, input="{}")["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine_arn, input="{}")["executionArn"]

    # Then both executions exist, named like AWS names them (a UUID)
    assert first != second
    assert str(uuid.UUID(second.rsplit(":", 1)[-1])) == second.rsplit(":", 1)[-1]


def test_disabled_rule_delivers_nothing(runtime, events, tmp_path):
    # Given a disabled rule with a Lambda target
    function_arn, record_file = recorder(runtime, tmp_path)
    rule(events, ORDER_FILLED, [{"Arn": function_arn}], state="DISABLED")

    # When a matching event is put
    put(events, "OrderFilled", {"order_id": "o-4"})

    # Then the function is not invoked
    assert received(runtime, record_file) == []


def test_failing_delivery_does_not_break_put_events(runtime, events, tmp_path):
    # Given a rule whose first target is a function the local cloud does not know, and a second that works
    function_arn, record_file = recorder(runtime, tmp_path)
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:not-deployed"
    rule(events, ORDER_FILLED, [{"Arn": missing}, {"Arn": function_arn}])

    # When a matching event is put
    answer = put(events, "OrderFilled", {"order_id": "o-5"})

    # Then put_events succeeds and the working target still gets the event
    assert answer["FailedEntryCount"] == 0
    assert [event["detail"] for event in received(runtime, record_file)] == [{"order_id": "o-5"}]
