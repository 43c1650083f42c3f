"""The local cloud's Query reads one partition and answers exactly what moto's table-wide Query answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from localcloud.dynamodb_query import install_partition_query

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "acct-3"}}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
     "ExpressionAttributeValues": {":p": {"S": "acct-3"}, ":s": {"S": "OPEN#"}}},
    {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "acct-7"}, ":a": {"S": "ORDER#005"}, ":b": {"S": "ORDER#015"}}},
    {"KeyConditionExpression": "pk = :p", "FilterExpression": "n > :n", "ProjectionExpression": "sk, n",
     "ExpressionAttributeValues": {":p": {"S": "acct-1"}, ":n": {"N": "10"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "no-such-account"}}},
    {"IndexName": "by-symbol", "KeyConditionExpression": "symbol = :s",
     "ExpressionAttributeValues": {":s": {"S": "SYM2"}}},
]  # fmt: skip


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(Table, "query", Table.query)  # undone after the test
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "symbol")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "by-symbol", "KeySchema": [{"AttributeName": "symbol", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
        )  # fmt: skip
        for account in range(10):
            for n in range(25):
                item = {"pk": {"S": f"acct-{account}"}, "sk": {"S": f"OPEN#{n:03d}"}, "n": {"N": str(n)}}
                if n % 5:  # orders carry a symbol; the other items are not in the (sparse) index
                    item |= {"sk": {"S": f"ORDER#{n:03d}"}, "symbol": {"S": f"SYM{n % 4}"}}
                client.put_item(TableName="t", Item=item)
        yield client


def _all_pages(client: Any, query: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    items, start = [], None
    while True:
        page = client.query(
            TableName="t", **query, **({"Limit": limit} if limit else {}),
            **({"ExclusiveStartKey": start} if start else {}),
        )  # fmt: skip
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


@pytest.mark.parametrize("limit", [None, 4])
@pytest.mark.parametrize("query", QUERIES)
def test_a_query_answers_what_motos_table_scan_answers(table: Any, query: dict[str, Any], limit: int | None):
    # Given moto's answer, paged or not
    expected = _all_pages(table, query, limit)
    # When the local cloud's partition query answers the same query
    install_partition_query()
    # Then the items, their order and the pages' contents are the same
    assert _all_pages(table, query, limit) == expected
    assert expected or query["ExpressionAttributeValues"][":p"]["S"] == "no-such-account"


def test_a_table_query_never_lists_the_whole_table(table: Any, monkeypatch: pytest.MonkeyPatch):
    # Given the partition query, and a table that fails whenever all its items are listed
    install_partition_query()

    def whole_table(self: Any) -> list[Any]:
        raise AssertionError("the whole table was listed")

    monkeypatch.setattr(Table, "all_items", whole_table)
    # When an account's partition is queried, Then only its items are read
    answer = table.query(TableName="t", **QUERIES[0])
    assert {item["pk"]["S"] for item in answer["Items"]} == {"acct-3"}
    assert answer["Count"] == 25
    # And an index query compares keys without listing (and sorting) the whole table first
    by_symbol = table.query(TableName="t", **QUERIES[-1])
    assert by_symbol["Count"] == 50 and {item["symbol"]["S"] for item in by_symbol["Items"]} == {"SYM2"}


def test_installing_twice_wraps_once(table: Any):
    # When installed twice, Then the second install wraps moto's original query, not the first wrapper
    install_partition_query()
    first = Table.query
    install_partition_query()
    assert Table.query.scan_query is first.scan_query  # type: ignore[attr-defined]
