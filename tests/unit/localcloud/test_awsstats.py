"""Throttling on demand in the local cloud's DynamoDB (the fault runs' throttled tables)."""

from __future__ import annotations

import io
import json

import pytest

from localcloud.awsstats import _throttle


def _environ(table: str) -> dict[str, object]:
    body = json.dumps({"TableName": table, "Key": {"pk": {"S": "a"}}}).encode()
    return {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


def test_requests_naming_a_throttled_table_are_refused_at_the_rate_and_keep_their_body(
    monkeypatch: pytest.MonkeyPatch,
):
    # Given every request to the orders table throttled
    monkeypatch.setenv("LOCALCLOUD_THROTTLE_RATE", "1")
    monkeypatch.setenv("LOCALCLOUD_THROTTLE_TABLES", "trade2026-dev-orders,trade2026-dev-accounts")
    throttled, other = _environ("trade2026-dev-orders"), _environ("trade2026-dev-symbols")
    # When requests to it and to another table arrive, Then only the first is refused
    assert _throttle(throttled) is True
    assert _throttle(other) is False
    # And moto can still read the body of the one it serves
    assert json.loads(other["wsgi.input"].read())["TableName"] == "trade2026-dev-symbols"  # type: ignore[attr-defined]


def test_nothing_is_throttled_without_a_rate(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LOCALCLOUD_THROTTLE_RATE", raising=False)
    monkeypatch.setenv("LOCALCLOUD_THROTTLE_TABLES", "trade2026-dev-orders")
    assert _throttle(_environ("trade2026-dev-orders")) is False
