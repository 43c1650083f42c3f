"""DynamoDB tables for in-process moto tests, built from template.yaml: keys and indexes cannot drift from it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
INDEXES = ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")


@cache
def _resources() -> dict[str, Any]:
    return dict(load_template(ROOT / "template.yaml")["Resources"])


def create_tables(tables: Mapping[str, str]) -> None:
    """Create each table (local name -> its logical id in template.yaml) with the template's keys and indexes."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for name, logical_id in tables.items():
        table = _resources()[logical_id]["Properties"]
        indexes = {key: table[key] for key in INDEXES if key in table}
        dynamodb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"], **indexes,
        )  # fmt: skip
