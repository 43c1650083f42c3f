"""StrategyError: the strategy runtime announces each slot a failing strategy paused, once, for its owner."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.strategies.conftest import (
    SYMBOL,
    TRADER,
    Cloud,
    bar_event,
    cloud,  # noqa: F401 - the strategies' moto fixture, used here too
)
from tests.unit.strategies.test_hot_swap import Context
from trade2026.adapters import trading_store
from trade2026.errors import ServiceUnavailable
from trade2026.services import strategies as service
from trade2026.services.strategies import SlotRequest


@pytest.fixture
def bus(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:  # noqa: F811
    """What the runtime puts on the platform bus (source, detail type, detail)."""
    put: list[tuple[str, str, dict[str, Any]]] = []

    def publish(bus_name: str, source: str, detail_type: str, details: list[dict[str, Any]]) -> int:
        assert bus_name == "bus"
        put.extend((source, detail_type, d) for d in details)
        return len(details)

    monkeypatch.setattr(cloud.runtime_app.events, "publish", publish)
    return put


def healthy_and_broken_slots(cloud: Cloud) -> tuple[str, str]:  # noqa: F811 - the fixture's type
    """Slot "ok" (hold) and slot "bad", whose strategy raises: its history cannot be read. Returns the account
    and the broken strategy's id."""
    account_id = cloud.account()
    healthy, broken = cloud.strategy("hold", {"target": 0.1}), cloud.strategy("physics_regime", {})
    for sid, slot in ((healthy, "ok"), (broken, "bad")):
        cloud.promote(sid, 1)
        service.deploy(
            TRADER, account_id, slot, SlotRequest(strategy_id=sid, version=1, symbol=SYMBOL), cloud.publish
        )

    def no_history(symbol: str, end: int, wanted: int) -> dict[str, Any]:
        raise RuntimeError("lake unreachable")

    cloud.runtime_app.runtime.history = no_history
    return account_id, broken


def test_a_failing_strategy_is_announced_once_to_its_owner(cloud: Cloud, bus: list[Any]):  # noqa: F811
    # Given a healthy slot and one whose strategy raises (its history cannot be read)
    account_id, broken = healthy_and_broken_slots(cloud)
    # When a bar arrives, is redelivered, and the next bar arrives
    for event in (bar_event(1), bar_event(1), bar_event(2)):
        cloud.runtime_app.handler(event, Context())
    # Then exactly one StrategyError went out, from the strategies source, for the slot's owner and its bar
    errors = [(source, detail) for source, kind, detail in bus if kind == "StrategyError"]
    assert len(errors) == 1
    source, detail = errors[0]
    assert source == "strategies"
    assert (detail["owner"], detail["account_id"], detail["slot"], detail["strategy_id"], detail["version"]) == (
        TRADER.user_id, account_id, "bad", broken, 1,
    )  # fmt: skip
    assert (
        detail["bar_id"] == bar_event(1)["detail"]["id"]
        and "RuntimeError: lake unreachable" in detail["error"]
    )
    assert detail["id"] == f"strategy-error:{account_id}#bad:{detail['bar_id']}"


def test_a_pause_that_no_longer_stands_is_not_announced(cloud: Cloud, bus: list[Any]):  # noqa: F811
    # Given a report naming a paused slot that was redeployed (active again) before the announcement
    from trade2026.services.strategy_runtime import BarReport

    account_id = cloud.account()
    sid = cloud.strategy("hold", {"target": 0.1})
    cloud.promote(sid, 1)
    service.deploy(
        TRADER, account_id, "s", SlotRequest(strategy_id=sid, version=1, symbol=SYMBOL), cloud.publish
    )
    report = BarReport(bar_event(1)["detail"]["id"], paused=[f"{account_id}#s"])
    # When announced, Then nothing is published
    assert cloud.runtime_app.announce_errors([report]) == 0
    assert bus == []


def test_a_pause_is_announced_even_when_another_slot_fails_on_the_same_bar(
    cloud: Cloud,  # noqa: F811
    bus: list[Any],
):
    # Given a slot whose strategy raises and a healthy slot whose order cannot be submitted (the OMS is down)
    account_id, _ = healthy_and_broken_slots(cloud)

    def oms_down(*args: Any) -> dict[str, Any]:
        raise ServiceUnavailable("orders table throttled")

    runtime = cloud.runtime_app.runtime
    submit, runtime.submit = runtime.submit, oms_down
    # When the bar fails (to be redelivered), Then the pause is announced all the same
    with pytest.raises(ServiceUnavailable, match="1 slot"):
        cloud.runtime_app.handler(bar_event(1), Context())
    assert [detail["slot"] for _, kind, detail in bus if kind == "StrategyError"] == ["bad"]
    # And when it is redelivered with the OMS back, the healthy slot trades and nothing is announced twice
    runtime.submit = submit
    cloud.runtime_app.handler(bar_event(1), Context())
    assert len(list(trading_store.OrderModel.query(account_id))) == 1
    assert [detail["slot"] for _, kind, detail in bus if kind == "StrategyError"] == ["bad"]
