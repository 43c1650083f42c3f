"""Trading through the local cloud over HTTP: tenancy, bad input, idempotency, risk, kill switch, fills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

IDEMPOTENCY_KEYS = int(os.environ.get("TRADE2026_IDEMPOTENCY_KEYS", "200"))
SYMBOL = (
    "SP500"  # arch's S&P 500 daily bars (loaded as SP500): the last close, 2506.85, is the reference price
)


@pytest.fixture(scope="module")
def market(cloud: Any) -> None:
    subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", str(cloud.state_dir)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def _new_trader(cloud: Any, name: str) -> str:
    """A second trader (user B) in the local pool; returns an ID token."""
    cognito, pool = cloud.client("cognito-idp"), cloud.config["userPoolId"]
    password = f"Test-{uuid.uuid4().hex[:10]}-Aa1"
    cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])  # fmt: skip
    cognito.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName="trader")
    auth = cognito.initiate_auth(
        ClientId=cloud.config["userPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )  # fmt: skip
    return str(auth["AuthenticationResult"]["IdToken"])


def _send(
    cloud: Any, method: str, path: str, token: str | None, body: Any = None, **headers: str
) -> requests.Response:
    all_headers = {"Content-Type": "application/json", **headers}
    if token:
        all_headers["Authorization"] = token
    return requests.request(method, f"{cloud.api_url}{path}", headers=all_headers,
                            data=None if body is None else json.dumps(body), timeout=60)  # fmt: skip


def _open_account(cloud: Any, token: str, **fields: Any) -> str:
    response = _send(cloud, "POST", "/v1/accounts", token, {"name": "test", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _orders(cloud: Any, token: str, account: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
        page = _send(cloud, "GET", f"/v1/accounts/{account}/orders{query}", token).json()
        orders += page["orders"]
        cursor = page["next_cursor"]
        if not cursor:
            return orders


LIMIT_BUY = {
    "symbol": SYMBOL,
    "side": "buy",
    "quantity": "2",
    "order_type": "limit",
    "limit_price": "2500.00",
}


def test_tenancy_user_b_never_sees_user_a_and_viewers_cannot_trade(
    cloud: Any, market: None, trader_token: str
):
    # Given user A's account with an open order, and a second trader B
    account = _open_account(cloud, trader_token)
    order = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, LIMIT_BUY).json()
    other = _new_trader(cloud, f"trader-b-{uuid.uuid4().hex[:6]}")
    path = f"/v1/accounts/{account}/orders/{order['id']}"
    # When B reads, lists, cancels or replaces A's order, Then it does not exist for B (404, not 403)
    assert _send(cloud, "GET", f"/v1/accounts/{account}", other).status_code == 404
    assert _send(cloud, "GET", path, other).status_code == 404
    assert _send(cloud, "GET", f"/v1/accounts/{account}/orders", other).status_code == 404
    assert _send(cloud, "DELETE", path, other).status_code == 404
    assert _send(cloud, "PATCH", path, other, {"quantity": "3"}).status_code == 404
    assert _send(cloud, "POST", f"/v1/accounts/{account}/orders", other, LIMIT_BUY).status_code == 404
    assert account not in {a["id"] for a in _send(cloud, "GET", "/v1/accounts", other).json()}
    # And a viewer cannot submit, and no token is a 401
    viewer = cloud.id_token("viewer")
    assert _send(cloud, "POST", f"/v1/accounts/{account}/orders", viewer, LIMIT_BUY).status_code in (403, 404)
    assert _send(cloud, "POST", "/v1/accounts", viewer, {"name": "x"}).status_code == 403
    assert _send(cloud, "GET", f"/v1/accounts/{account}/orders", None).status_code == 401
    # And A's order is untouched
    assert _send(cloud, "GET", path, trader_token).json()["status"] == "accepted"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"symbol": "NOPE"}, "symbol"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-5"}, "quantity"),
        ({"quantity": "1.5"}, "quantity"),
        ({"order_type": "limit", "limit_price": None}, "limit_price"),
        ({"order_type": "stop_limit", "limit_price": "2500", "stop_price": None}, "stop_price"),
        ({"limit_price": "2500.001"}, "limit_price"),
        ({"side": "hold"}, "side"),
    ],
)
def test_bad_orders_get_a_4xx_naming_the_field_and_write_nothing(
    cloud: Any, market: None, trader_token: str, change: dict[str, Any], field: str
):
    # Given an account
    account = _open_account(cloud, trader_token)
    # When an invalid order is submitted
    response = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, {**LIMIT_BUY, **change})
    # Then it is a 422 naming the field, and no order exists
    assert response.status_code == 422, response.text
    assert field in response.text
    assert _orders(cloud, trader_token, account) == []


def test_unknown_account_is_404(cloud: Any, trader_token: str):
    response = _send(cloud, "POST", "/v1/accounts/nosuchaccount/orders", trader_token, LIMIT_BUY)
    assert response.status_code == 404
    assert "nosuchaccount" in response.json()["message"]


def test_idempotency_orders_retried_10_times_concurrently_are_created_exactly_once(
    cloud: Any, market: None, trader_token: str
):
    # Given N idempotency keys (200 here; benchmarks/bench_orders.py runs 1,000), each submitted 10 times,
    # all interleaved over 16 concurrent clients
    account = _open_account(cloud, trader_token, starting_cash="1000000000")
    cloud_admin = cloud.id_token("admin")
    limits = {"max_orders_per_second": 100000, "max_gross_exposure": "1e12", "max_net_exposure": "1e12"}
    assert _send(cloud, "PUT", f"/v1/accounts/{account}/limits", cloud_admin, limits).status_code == 200
    keys = [f"key-{i}" for i in range(IDEMPOTENCY_KEYS)]
    attempts = [key for _round in range(10) for key in keys]
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))

    def submit(key: str) -> str:
        # 409 = the first attempt with this key is still running; 5xx = a timeout on a loaded machine: a client
        # retries both with the same key, which is what the key is for
        for _try in range(50):
            response = session.post(
                f"{cloud.api_url}/v1/accounts/{account}/orders",
                headers={"Authorization": trader_token, "Idempotency-Key": key, "Content-Type": "application/json"},
                data=json.dumps({**LIMIT_BUY, "quantity": "1"}), timeout=60,
            )  # fmt: skip
            if response.status_code == 201:
                return str(response.json()["id"])
            assert response.status_code == 409 or response.status_code >= 500, response.text
            time.sleep(0.05)
        raise AssertionError(f"{key} never succeeded")

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(submit, attempts))
    # Then every retry got its key's order back, and exactly one order per key exists
    by_key: dict[str, set[str]] = {}
    for key, order_id in zip(attempts, ids, strict=True):
        by_key.setdefault(key, set()).add(order_id)
    assert all(len(v) == 1 for v in by_key.values())
    assert len({next(iter(v)) for v in by_key.values()}) == IDEMPOTENCY_KEYS
    assert len(_orders(cloud, trader_token, account)) == IDEMPOTENCY_KEYS
    # And reusing a key with a different body is refused
    reused = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token,
                   {**LIMIT_BUY, "quantity": "7"}, **{"Idempotency-Key": "key-0"})  # fmt: skip
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["message"]


def test_risk_rejection_names_the_rule_and_numbers_and_is_kept(cloud: Any, market: None, trader_token: str):
    # Given an account whose max order quantity is 5 and where SPY-like ^GSPC is not restricted
    account = _open_account(cloud, trader_token)
    admin = cloud.id_token("admin")
    _send(
        cloud,
        "PUT",
        f"/v1/accounts/{account}/limits",
        admin,
        {"max_order_quantity": "5", "restricted_symbols": ["NASDAQ"]},
    )
    # When 6 are bought
    response = _send(
        cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, {**LIMIT_BUY, "quantity": "6"}
    )
    # Then it is rejected with the rule and both numbers, and the rejected order is stored with its events
    assert response.status_code == 422
    order = response.json()
    assert order["status"] == "rejected"
    (violation,) = order["rejection"]
    assert (
        violation["rule"] == "max_order_quantity" and violation["limit"] == "5" and violation["actual"] == "6"
    )
    stored = _send(cloud, "GET", f"/v1/accounts/{account}/orders/{order['id']}", trader_token).json()
    assert [e["kind"] for e in stored["events"]] == ["new", "rejected"]
    # And a trader cannot change limits
    assert (
        _send(
            cloud, "PUT", f"/v1/accounts/{account}/limits", trader_token, {"max_order_quantity": "9"}
        ).status_code
        == 403
    )


def test_kill_switch_cancels_open_orders_blocks_new_ones_until_an_admin_resets(
    cloud: Any, market: None, trader_token: str
):
    # Given an account with two open orders
    account = _open_account(cloud, trader_token)
    for _ in range(2):
        assert (
            _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, LIMIT_BUY).status_code == 201
        )
    # When the trader engages the kill switch
    engaged = _send(
        cloud,
        "POST",
        f"/v1/accounts/{account}/kill-switch",
        trader_token,
        {"engaged": True, "reason": "test"},
    )
    assert engaged.status_code == 200 and engaged.json()["kill_switch"]["reason"] == "test"
    # Then the open orders are canceled and a new order is rejected by the kill_switch rule
    assert {o["status"] for o in _orders(cloud, trader_token, account)} == {"canceled"}
    blocked = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, LIMIT_BUY)
    assert blocked.status_code == 422 and blocked.json()["rejection"][0]["rule"] == "kill_switch"
    # And only an admin resets it
    reset = {"engaged": False, "reason": "resolved"}
    assert _send(cloud, "POST", f"/v1/accounts/{account}/kill-switch", trader_token, reset).status_code == 403
    assert (
        _send(
            cloud, "POST", f"/v1/accounts/{account}/kill-switch", cloud.id_token("admin"), reset
        ).status_code
        == 200
    )
    assert _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, LIMIT_BUY).status_code == 201


def _bar_closed(cloud: Any, start_ns: int, o: str, h: str, low: str, c: str, volume: str) -> None:
    detail = {"symbol": SYMBOL, "start": start_ns, "end": start_ns + 60_000_000_000, "open": float(o),
              "high": float(h), "low": float(low), "close": float(c), "volume": float(volume),
              "id": f"{SYMBOL}:1m:{start_ns}"}  # fmt: skip
    cloud.client("events").put_events(Entries=[{
        "EventBusName": "trade2026-dev", "Source": "trade2026.marketdata", "DetailType": "BarClosed",
        "Detail": json.dumps(detail),
    }])  # fmt: skip


def _wait(predicate: Any, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_bar_closed_fills_limit_orders_partially_then_fully_and_a_cancel_stops_the_rest(
    cloud: Any, market: None, trader_token: str
):
    # Given a GTC limit buy of 90 at 2500, accepted now
    account = _open_account(cloud, trader_token)
    buy = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token,
                {**LIMIT_BUY, "quantity": "90", "time_in_force": "gtc"}).json()  # fmt: skip
    start = time.time_ns() + 1_000_000_000
    assert buy["status"] == "accepted", buy
    # When a bar trades through the limit with volume 500 (at most 10% of it = 50 shares fill), and then another
    _bar_closed(cloud, start, "2510", "2512", "2490", "2495", "500")
    path = f"/v1/accounts/{account}/orders/{buy['id']}"
    partial = _wait(
        lambda: (
            (o := _send(cloud, "GET", path, trader_token).json())["status"] == "partially_filled"
            and len(o["events"]) == 3
            and o
        )
    )
    # Then 50 fill at the limit (the open was above it) and the event history shows the fill
    assert Decimal(partial["filled_quantity"]) == 50
    assert Decimal(partial["average_price"]) == Decimal("2500.00")
    assert [e["kind"] for e in partial["events"]] == ["new", "accepted", "fill"]
    # And redelivering the same bar changes nothing; the next bar completes the order
    _bar_closed(cloud, start, "2510", "2512", "2490", "2495", "500")
    _bar_closed(cloud, start + 60_000_000_000, "2499", "2501", "2480", "2490", "5000")
    # (the order item is the commit point; its events are written just after it, so wait for both)
    filled = _wait(
        lambda: (
            (o := _send(cloud, "GET", path, trader_token).json())["status"] == "filled"
            and len(o["events"]) == 4
            and o
        )
    )
    assert Decimal(filled["filled_quantity"]) == 90
    assert [e["kind"] for e in filled["events"]] == ["new", "accepted", "fill", "fill"]
    # And cancelling a filled order is a 409 with the reason
    cancel = _send(cloud, "DELETE", path, trader_token)
    assert cancel.status_code == 409 and "filled" in cancel.json()["message"]
    # And the ledger shows the position, its two tax lots, and the two fills in the blotter
    positions = _send(cloud, "GET", f"/v1/accounts/{account}/positions", trader_token).json()
    (position,) = positions["positions"]
    assert position["symbol"] == SYMBOL and Decimal(position["quantity"]) == 90
    cash = Decimal(positions["summary"]["cash"])
    # (the second bar opened at 2499, below the limit: those 40 filled at the better open)
    assert cash == Decimal("1000000") - 50 * Decimal("2500.00") - 40 * Decimal("2499") - Decimal(
        filled["fees"]
    )
    lots = _send(cloud, "GET", f"/v1/accounts/{account}/taxlots", trader_token).json()["lots"]
    assert sorted(Decimal(lot["quantity"]) for lot in lots) == [40, 50]
    blotter = _send(cloud, "GET", f"/v1/accounts/{account}/reports/blotter", trader_token)
    assert blotter.headers["Content-Type"].startswith("text/csv")
    assert len(blotter.text.strip().splitlines()) == 3
    by_symbol = _send(cloud, "GET", f"/v1/accounts/{account}/pnl?by=symbol", trader_token).json()["rows"]
    assert [row["key"] for row in by_symbol] == [SYMBOL]


def test_replace_changes_quantity_and_price_in_place_and_keeps_the_history(
    cloud: Any, market: None, trader_token: str
):
    # Given an open limit order
    account = _open_account(cloud, trader_token)
    order = _send(cloud, "POST", f"/v1/accounts/{account}/orders", trader_token, LIMIT_BUY).json()
    path = f"/v1/accounts/{account}/orders/{order['id']}"
    # When its quantity and limit price are replaced
    replaced = _send(cloud, "PATCH", path, trader_token, {"quantity": "3", "limit_price": "2501.50"})
    # Then the same order carries the new values, stays accepted, and its history shows the replace
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["id"], body["quantity"], body["limit_price"], body["status"]) == (
        order["id"],
        "3",
        "2501.50",
        "accepted",
    )
    events = _send(cloud, "GET", path, trader_token).json()["events"]
    assert [e["kind"] for e in events] == ["new", "accepted", "replaced"]
    # And a replace off the tick grid or of a canceled order is refused with the reason
    assert _send(cloud, "PATCH", path, trader_token, {"limit_price": "2501.555"}).status_code == 422
    _send(cloud, "DELETE", path, trader_token)
    gone = _send(cloud, "PATCH", path, trader_token, {"quantity": "4"})
    assert gone.status_code == 409 and "canceled" in gone.json()["message"]
