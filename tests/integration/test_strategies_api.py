"""Strategies through the local cloud over HTTP: the library and its gates, immutability, a slot deployed,
hot-swapped and rolled back while BarClosed events go over the bus, orders attributed to their version."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
import requests

SYMBOL = "SP500"  # arch's S&P 500 daily bars; the last close is 2506.85


@pytest.fixture(scope="module")
def market(cloud: Any) -> None:
    subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", str(cloud.state_dir)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def _send(cloud: Any, method: str, path: str, token: str | None, body: Any = None) -> requests.Response:
    headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
    return requests.request(method, f"{cloud.api_url}{path}", headers=headers,
                            data=None if body is None else json.dumps(body), timeout=60)  # fmt: skip


def _resources(cloud: Any) -> dict[str, Any]:
    state = json.loads((cloud.state_dir / "state.json").read_text())
    return {lid: r["ref"] for stack in state["stacks"].values() for lid, r in stack["resources"].items()}


def _sub(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def _sweep(cloud: Any, owner: str, pbo: float, dsr: float) -> str:
    """A finished sweep record with the given PBO and deflated Sharpe (as FinishSweep stores them)."""
    run_id = uuid.uuid4().hex
    summary = {"pbo": pbo, "deflated_sharpe": {"dsr": dsr}}
    cloud.client("dynamodb").put_item(TableName=_resources(cloud)["BacktestsTable"], Item={
        "pk": {"S": f"SWEEP#{run_id}"}, "sk": {"S": "META"}, "kind": {"S": "sweep"}, "owner": {"S": owner},
        "created_at": {"S": "2026-01-05T00:00:00Z"}, "status": {"S": "SUCCEEDED"},
        "request": {"S": json.dumps({"strategy": "ma_crossover", "symbols": [SYMBOL]})},
        "summary": {"S": json.dumps(summary)},
    })  # fmt: skip
    return run_id


def _bar(cloud: Any, index: int) -> str:
    start = time.time_ns() // 60_000_000_000 * 60_000_000_000 + index * 60_000_000_000
    detail = {"symbol": SYMBOL, "start": start, "end": start + 60_000_000_000, "open": 2506.0, "high": 2507.0,
              "low": 2505.0, "close": 2506.85, "volume": 1e6, "id": f"{SYMBOL}:1m:{start}"}  # fmt: skip
    cloud.client("events").put_events(Entries=[{
        "EventBusName": _resources(cloud)["EventBus"], "Source": "trade2026.marketdata", "DetailType": "BarClosed",
        "Detail": json.dumps(detail),
    }])  # fmt: skip
    return str(detail["id"])


def _decision(cloud: Any, token: str, account: str, bar_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        decisions = _send(
            cloud, "GET", f"/v1/accounts/{account}/slots/main/decisions?mode=live", token
        ).json()
        found = [d for d in decisions["decisions"] if d["bar_id"] == bar_id and d["status"] != "decided"]
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no decision for {bar_id}")


def test_library_gates_slots_hot_swap_and_attribution(cloud: Any, market: None, trader_token: str):
    token, owner = trader_token, _sub(trader_token)
    # Given a strategy with two versions (buy 10% / short 10% of 100k)
    created = _send(
        cloud, "POST", "/v1/strategies", token, {"name": "hold", "code": "hold", "params": {"target": 0.1}}
    )
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert (
        _send(
            cloud, "POST", f"/v1/strategies/{sid}/versions", token, {"params": {"target": -0.1}}
        ).status_code
        == 201
    )
    base = f"/v1/strategies/{sid}/versions"

    def move(version: int, to: str) -> requests.Response:
        return _send(cloud, "POST", f"{base}/{version}/transition", token, {"to": to})

    # When version 1 is promoted with a sweep whose PBO is 0.64, Then validated is refused with the numbers
    bad = _sweep(cloud, owner, 0.64, 0.99)
    assert _send(cloud, "POST", f"{base}/1/links", token, {"sweeps": [bad]}).status_code == 200
    assert move(1, "backtested").status_code == 200
    refused = move(1, "validated")
    assert refused.status_code == 422
    assert "PBO 0.6400" in refused.json()["message"] and refused.json()["details"]["gate"] == "validated"
    # And the backtested version is immutable
    assert _send(cloud, "PATCH", f"{base}/1", token, {"params": {"target": 0.5}}).status_code == 409
    # When passing evidence is linked, both versions reach paper
    for version in (1, 2):
        good = _sweep(cloud, owner, 0.12, 0.98)
        assert _send(cloud, "POST", f"{base}/{version}/links", token, {"sweeps": [good]}).status_code == 200
        for state in ("backtested", "validated", "paper") if version == 2 else ("validated", "paper"):
            assert move(version, state).status_code == 200, move(version, state).text
    # And an account's slot deploys version 1 on SP500
    account = _send(cloud, "POST", "/v1/accounts", token, {"name": "strategies"}).json()["id"]
    slot_path = f"/v1/accounts/{account}/slots/main"
    deployed = _send(cloud, "PUT", slot_path, token, {"strategy_id": sid, "version": 1, "symbol": SYMBOL,
                                                      "capital": 100000})  # fmt: skip
    assert deployed.status_code == 200, deployed.text
    # Then a BarClosed on the bus is decided by version 1 and its order carries "<id>@1"
    first = _decision(cloud, token, account, _bar(cloud, 1))
    assert first["strategy"] == f"{sid}@1" and first["orders"][0]["side"] == "buy"
    assert first["inputs"]["target_shares"] == "3"
    # When the slot is hot-swapped to version 2 (409 on a stale revision), the next bar is version 2's
    stale = _send(cloud, "PUT", slot_path, token, {"strategy_id": sid, "version": 2, "expected_revision": 5})
    assert stale.status_code == 409
    swapped = _send(
        cloud, "PUT", slot_path, token, {"strategy_id": sid, "version": 2, "expected_revision": 1}
    )
    assert swapped.json()["strategy"] == f"{sid}@2"
    second = _decision(cloud, token, account, _bar(cloud, 2))
    assert second["strategy"] == f"{sid}@2"
    # And a rollback (one call) brings version 1 back
    rolled = _send(cloud, "POST", f"{slot_path}/rollback", token)
    assert rolled.status_code == 200 and rolled.json()["strategy"] == f"{sid}@1"
    # And every order of the account is attributed to the version whose decision placed it
    orders = _send(cloud, "GET", f"/v1/accounts/{account}/orders?limit=50", token).json()["orders"]
    by_decision = {o["id"]: d["strategy"] for d in (first, second) for o in d["orders"]}
    assert {o["id"]: o["strategy"] for o in orders} == by_decision


def test_bad_strategy_requests_get_a_4xx_with_the_reason(cloud: Any, trader_token: str):
    viewer = cloud.id_token("viewer")
    body = {"name": "x", "code": "hold", "params": {"target": 0.1}}
    assert _send(cloud, "POST", "/v1/strategies", viewer, body).status_code == 403
    unknown = _send(cloud, "POST", "/v1/strategies", trader_token, {**body, "code": "martingale"})
    assert unknown.status_code == 422 and "unknown strategy code" in unknown.json()["message"]
    outside = _send(cloud, "POST", "/v1/strategies", trader_token, {**body, "params": {"target": 3}})
    assert outside.status_code == 422 and "params.target = 3" in outside.json()["message"]
    assert _send(cloud, "GET", "/v1/strategies/0123456789ab", trader_token).status_code == 404
    sid = _send(cloud, "POST", "/v1/strategies", trader_token, body).json()["id"]
    account = _send(cloud, "POST", "/v1/accounts", trader_token, {"name": "x"}).json()["id"]
    draft = _send(cloud, "PUT", f"/v1/accounts/{account}/slots/a", trader_token,
                  {"strategy_id": sid, "version": 1, "symbol": SYMBOL})  # fmt: skip
    assert draft.status_code == 409 and "is draft" in draft.json()["message"]
    skipped = _send(
        cloud, "POST", f"/v1/strategies/{sid}/versions/1/transition", trader_token, {"to": "live"}
    )
    assert skipped.status_code == 409 and "allowed: backtested, retired" in skipped.json()["message"]
    other = _send(cloud, "GET", f"/v1/accounts/{account}/slots", cloud.id_token("viewer"))
    assert other.status_code == 404
