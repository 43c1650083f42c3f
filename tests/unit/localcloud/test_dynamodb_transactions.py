"""The local cloud's TransactWriteItems: all or nothing, like DynamoDB's, without copying whole tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from localcloud.dynamodb_transactions import transact_write_items


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )  # fmt: skip
        client.put_item(TableName="t", Item={"pk": {"S": "sums"}, "n": {"N": "1.5"}})
        yield client


def _put_new(pk: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": "t",
            "Item": {"pk": {"S": pk}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _add(value: str) -> dict[str, Any]:
    return {"Update": {"TableName": "t", "Key": {"pk": {"S": "sums"}}, "UpdateExpression": "ADD n :v",
                       "ExpressionAttributeValues": {":v": {"N": value}}}}  # fmt: skip


def _item(client: Any, pk: str) -> dict[str, Any] | None:
    return client.get_item(TableName="t", Key={"pk": {"S": pk}}).get("Item")


def test_a_transaction_writes_all_its_items(dynamodb: Any):
    # When a put and an exact decimal ADD are one transaction, Then both are written
    dynamodb.transact_write_items(TransactItems=[_put_new("order-1"), _add("0.25")])
    assert _item(dynamodb, "order-1") is not None
    assert _item(dynamodb, "sums")["n"] == {"N": "1.75"}  # type: ignore[index]


def test_a_failed_condition_cancels_everything_and_says_which(dynamodb: Any):
    # Given order-1 already there
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "order-1"}})
    # When a transaction adds to the sums and puts order-1 again, Then it is canceled with the reason in place
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[_add("10"), _put_new("order-1")])
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    # And the sums are unchanged
    assert _item(dynamodb, "sums")["n"] == {"N": "1.5"}  # type: ignore[index]


def test_a_write_refused_half_way_puts_back_what_was_written(dynamodb: Any):
    # When the second write of a transaction is refused (adding a string to a number)
    broken = {"Update": {"TableName": "t", "Key": {"pk": {"S": "sums"}}, "UpdateExpression": "ADD n :v",
                         "ExpressionAttributeValues": {":v": {"S": "x"}}}}  # fmt: skip
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[_put_new("order-2"), broken])
    # Then the first write is undone
    assert _item(dynamodb, "order-2") is None
    assert _item(dynamodb, "sums")["n"] == {"N": "1.5"}  # type: ignore[index]


def test_two_operations_on_one_item_are_refused(dynamodb: Any):
    with pytest.raises(ClientError, match="multiple operations"):
        dynamodb.transact_write_items(TransactItems=[_add("1"), _add("2")])
