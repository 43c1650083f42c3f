"""Slots and the runtime on moto: rollback in one call, shadow decisions without orders, a failing strategy
pauses only its own slot, stale swaps are refused, the schedule catches up without doubling."""

from __future__ import annotations

from typing import Any

import boto3
import numpy as np
import pytest

from trade2026.adapters import strategy_store as store
from trade2026.adapters import trading_store
from trade2026.errors import Conflict, ServiceUnavailable
from trade2026.services import strategies as service
from trade2026.services import strategy_runtime
from trade2026.services.strategies import ShadowRequest, SlotRequest

from .conftest import SYMBOL, TRADER, Cloud, bar_event
from .test_hot_swap import Context


def _decisions(account_id: str, slot: str) -> list[store.DecisionItem]:
    return store.decisions(account_id, slot, 100, None, newest_first=False)[0]


def test_rollback_shadow_and_stale_swap(cloud: Cloud):
    # Given a slot on version 1 (+0.2) swapped to version 2 (-0.2), and version 3 (+0.9) validated only
    account_id = cloud.account()
    sid = cloud.strategy("hold", {"target": 0.2})
    for target in (-0.2, 0.9):
        service.add_version(TRADER, sid, service.VersionRequest(params={"target": target}))
    cloud.promote(sid, 1)
    cloud.promote(sid, 2)
    cloud.promote(sid, 3, to="validated")
    service.deploy(
        TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=1, symbol=SYMBOL), cloud.publish
    )
    swapped = service.deploy(TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=2), cloud.publish)
    assert (swapped.version, swapped.previous, swapped.revision) == (2, {"strategy_id": sid, "version": 1}, 2)
    # When a swap names a stale revision, or a version not yet in paper, Then 409 and nothing changes
    with pytest.raises(Conflict, match="revision 2, not 1"):
        service.deploy(TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=1, expected_revision=1),
                       cloud.publish)  # fmt: skip
    with pytest.raises(Conflict, match="is validated; a slot needs one of: live, paper"):
        service.deploy(TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=3), cloud.publish)
    # When version 3 shadows the slot and one bar arrives
    service.set_shadow(TRADER, account_id, "s", ShadowRequest(strategy_id=sid, version=3), cloud.publish)
    cloud.runtime_app.handler(bar_event(1), Context())
    # Then the live decision ordered (version 2: short 200) and the shadow only recorded what it would do
    live, shadow = (next(d for d in _decisions(account_id, "s") if d.mode == m) for m in ("live", "shadow"))
    assert (live.strategy, live.status, [o["side"] for o in live.orders]) == (
        f"{sid}@2",
        "ordered",
        ["short"],
    )
    assert (shadow.strategy, shadow.status, shadow.orders) == (f"{sid}@3", "shadow", None)
    assert shadow.plan[0]["side"] == "buy" and shadow.plan[0]["quantity"] == "900"
    assert [o.strategy for o in trading_store.OrderModel.query(account_id)] == [f"{sid}@2"]
    # When the slot is rolled back (one call), Then version 1 is in force from the next bar
    rolled = service.rollback(TRADER, account_id, "s", cloud.publish)
    assert (rolled.version, rolled.previous["version"]) == (1, 2)
    cloud.runtime_app.handler(bar_event(2), Context())
    latest = [d for d in _decisions(account_id, "s") if d.mode == "live"][-1]
    assert latest.strategy == f"{sid}@1"
    kinds = [d["action"] for kind, d in cloud.published if kind == "StrategyDeployed"]
    assert kinds == ["deploy", "swap", "shadow", "rollback"]


def test_a_failing_strategy_pauses_its_slot_and_the_others_keep_running(cloud: Cloud):
    # Given two slots on the same symbol: one healthy, one whose strategy needs more history than exists
    account_id = cloud.account()
    healthy = cloud.strategy("hold", {"target": 0.1})
    broken = cloud.strategy("physics_regime", {})
    cloud.promote(healthy, 1)
    cloud.promote(broken, 1)
    service.deploy(
        TRADER, account_id, "ok", SlotRequest(strategy_id=healthy, version=1, symbol=SYMBOL), cloud.publish
    )
    service.deploy(
        TRADER, account_id, "bad", SlotRequest(strategy_id=broken, version=1, symbol=SYMBOL), cloud.publish
    )

    def no_history(symbol: str, end: int, wanted: int) -> dict[str, Any]:
        raise RuntimeError("lake unreachable")

    cloud.runtime_app.runtime.history = no_history
    # When two bars arrive
    reports = [cloud.runtime_app.handler(bar_event(i), Context()) for i in (1, 2)]
    # Then the broken slot is paused with the error after the first, and the healthy one decided both
    assert reports[0]["paused"] == [f"{account_id}#bad"] and reports[1]["paused"] == []
    bad = service.get_slot(account_id, "bad")
    assert bad.status == "paused" and "RuntimeError: lake unreachable" in bad.error["error"]
    assert [d.status for d in _decisions(account_id, "bad")] == ["error"]
    assert [d.status for d in _decisions(account_id, "ok")] == ["ordered", "ordered"]
    # And redeploying the version resumes the slot
    resumed = service.deploy(
        TRADER, account_id, "bad", SlotRequest(strategy_id=broken, version=1), cloud.publish
    )
    assert (resumed.status, resumed.error) == ("active", None)


def test_schedule_catches_up_on_the_latest_bar_once(cloud: Cloud):
    # Given an active slot and the symbol's latest bar in the market state (no BarClosed seen yet)
    account_id = cloud.account()
    sid = cloud.strategy("hold", {"target": 0.05})
    cloud.promote(sid, 1)
    service.deploy(
        TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=1, symbol=SYMBOL), cloud.publish
    )
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "id": "x",
                 "time": "2026-01-05T21:05:00Z", "version": "0", "account": "1", "region": "us-east-1",
                 "resources": []}  # fmt: skip
    # When the schedule fires twice
    first = cloud.runtime_app.handler(scheduled, Context())
    second = cloud.runtime_app.handler(scheduled, Context())
    # Then one decision (and one order) for that bar; the second run is a duplicate
    assert first["bars"][0]["decided"] == 1 and second["bars"][0]["duplicates"] == 1
    assert [d.bar_id for d in _decisions(account_id, "s")] == [f"{SYMBOL}:1m:0"]
    assert len(list(trading_store.OrderModel.query(account_id))) == 1


def test_schedule_catches_up_every_symbol_when_one_symbol_fails(cloud: Cloud):
    # Given active slots on ACME and on a second symbol, and an OMS that refuses ACME's orders
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.put_item(TableName="symbols", Item={"symbol": {"S": "BETA"}})
    dynamodb.put_item(TableName="market-state", Item={
        "pk": {"S": "SYMBOL#BETA"}, "sk": {"S": "LATEST"},
        "last_bar": {"S": '{"close": 50, "start": 0, "end": 60000000000}'},
    })  # fmt: skip
    account_id = cloud.account()
    sid = cloud.strategy("hold", {"target": 0.05})
    cloud.promote(sid, 1)
    for slot, symbol in (("a", SYMBOL), ("b", "BETA")):
        service.deploy(
            TRADER, account_id, slot, SlotRequest(strategy_id=sid, version=1, symbol=symbol), cloud.publish
        )
    runtime, submit = cloud.runtime_app.runtime, cloud.runtime_app.runtime.submit

    def acme_refused(key: str, owner: Any, account: str, order: Any) -> dict[str, Any]:
        if order.symbol == SYMBOL:
            raise ServiceUnavailable("orders table throttled")
        return submit(key, owner, account, order)

    runtime.submit = acme_refused
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "id": "x",
                 "time": "2026-01-05T21:05:00Z", "version": "0", "account": "1", "region": "us-east-1",
                 "resources": []}  # fmt: skip
    # When the schedule fires, Then it fails (to be retried) naming ACME's bar, and BETA's slot traded anyway
    with pytest.raises(ServiceUnavailable, match=f"{SYMBOL}:1m:0"):
        cloud.runtime_app.handler(scheduled, Context())
    assert [o.symbol for o in trading_store.OrderModel.query(account_id)] == ["BETA"]


def test_target_shares_round_toward_zero():
    assert strategy_runtime.target_shares(0.5, __import__("decimal").Decimal(1000), 3.0) == 166
    assert strategy_runtime.target_shares(-0.5, __import__("decimal").Decimal(1000), 3.0) == -166
    assert strategy_runtime.target_shares(float(np.nan), __import__("decimal").Decimal(1000), 3.0) == 0
