"""Hot-swap under load (moto in process, the runtime's real Lambda handler): while bars stream from several
threads - each delivered twice - a slot is swapped 100 times. No bar is lost, none is decided or ordered twice,
and every order is attributed to exactly the version that was in force when its bar was processed."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from trade2026.adapters import strategy_store as store
from trade2026.adapters import trading_store
from trade2026.errors import ServiceUnavailable
from trade2026.services import strategies as service
from trade2026.services.strategies import SlotRequest

from .conftest import SYMBOL, TRADER, Cloud, bar_event


class Context:
    function_name = "trade2026-test-strategy-runtime"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:trade2026-test-strategy-runtime"
    aws_request_id = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _all_decisions(account_id: str) -> list[store.DecisionItem]:
    items: list[store.DecisionItem] = []
    cursor = None
    while True:
        page, cursor = store.decisions(account_id, "main", 500, cursor, newest_first=False)
        items += page
        if cursor is None:
            return items


def test_hundred_swaps_while_bars_stream_lose_nothing_and_double_nothing(cloud: Cloud):
    # Given an account, a slot running version 1 (target +0.5) of a strategy whose version 2 targets -0.5
    account_id = cloud.account()
    strategy_id = cloud.strategy("hold", {"target": 0.5})
    service.add_version(TRADER, strategy_id, service.VersionRequest(params={"target": -0.5}))
    cloud.promote(strategy_id, 1)
    cloud.promote(strategy_id, 2)
    slot = service.deploy(TRADER, account_id, "main", SlotRequest(strategy_id=strategy_id, version=1, symbol=SYMBOL,
                                                                   capital=100_000), cloud.publish)  # fmt: skip
    version_at = {slot.revision: 1}
    bars = 40
    deliveries = [bar_event(i) for i in range(bars)] * 2  # every bar redelivered
    handler, context = cloud.runtime_app.handler, Context()
    swaps_done = threading.Event()
    delivered = Counter[str]()

    def swapper() -> None:
        version = 1
        for swap in range(100):  # paced over the stream: swap k waits for ~k * 80/100 deliveries
            deadline = time.monotonic() + 5
            while delivered.total() < swap * len(deliveries) // 100 and time.monotonic() < deadline:
                time.sleep(0.005)
            version = 3 - version
            current = service.get_slot(account_id, "main")
            request = SlotRequest(
                strategy_id=strategy_id, version=version, expected_revision=int(current.revision)
            )
            view = service.deploy(TRADER, account_id, "main", request, cloud.publish)
            version_at[view.revision] = version
        swaps_done.set()

    def deliver(event: dict[str, Any]) -> Any:
        for _attempt in range(20):  # an in-progress duplicate answers 503: EventBridge would retry
            try:
                result = handler(event, context)
            except Exception:  # an in-progress duplicate: retried like EventBridge
                continue
            delivered[event["detail"]["id"]] += 1
            return result
        raise AssertionError(f"bar {event['detail']['id']} never went through")

    # When 6 threads deliver the bars while another swaps the slot's version 100 times
    with ThreadPoolExecutor(max_workers=7) as pool:
        swap = pool.submit(swapper)
        results = list(pool.map(deliver, deliveries))
        swap.result()
    assert swaps_done.is_set()

    # Then the slot went through 100 swaps (101 revisions), each emitting StrategyDeployed
    final = service.get_slot(account_id, "main")
    assert final.revision == 101
    assert sum(1 for kind, _ in cloud.published if kind == "StrategyDeployed") == 101
    # And every bar has exactly one live decision, made by the version in force at the revision it read
    decisions = [d for d in _all_decisions(account_id) if d.mode == "live"]
    assert Counter(d.bar_id for d in decisions) == Counter({e["detail"]["id"]: 1 for e in deliveries[:bars]})
    assert all(d.status == "ordered" for d in decisions)
    for d in decisions:
        assert d.strategy == f"{strategy_id}@{version_at[int(d.slot_revision)]}"
    assert {d.strategy for d in decisions} == {f"{strategy_id}@1", f"{strategy_id}@2"}  # swaps took effect
    # And every order belongs to exactly one decision and carries that decision's version; none is extra
    by_order = {}
    for d in decisions:
        for order in d.orders or []:
            assert order["id"] not in by_order, "an order recorded by two decisions"
            by_order[order["id"]] = d.strategy
    stored = list(trading_store.OrderModel.query(account_id))
    # (a bar whose target equals the position orders nothing, so there may be fewer orders than bars)
    assert len(stored) == len(by_order) > bars // 2
    assert {o.order_id: o.strategy for o in stored} == by_order
    assert sum(r["decided"] for r in results if isinstance(r, dict)) == bars


def test_redelivered_bar_after_a_crash_finishes_the_recorded_plan_once(cloud: Cloud, monkeypatch):
    # Given a slot and a bar whose first delivery crashed after recording its decision, before ordering
    account_id = cloud.account()
    strategy_id = cloud.strategy("hold", {"target": 0.3})
    cloud.promote(strategy_id, 1)
    service.deploy(TRADER, account_id, "main", SlotRequest(strategy_id=strategy_id, version=1, symbol=SYMBOL),
                   cloud.publish)  # fmt: skip
    module = cloud.runtime_app
    real_submit = module.runtime.submit

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("network down")

    monkeypatch.setattr(module.runtime, "submit", crash)
    with contextlib.suppress(ServiceUnavailable):  # the crash is the point: the event would be retried
        module.handler(bar_event(1), Context())
    decided = [d for d in _all_decisions(account_id) if d.mode == "live"]
    assert [d.status for d in decided] == ["decided"]
    # When the bar is delivered again, twice, after a swap to a new version
    monkeypatch.setattr(module.runtime, "submit", real_submit)
    service.add_version(TRADER, strategy_id, service.VersionRequest(params={"target": -0.3}))
    cloud.promote(strategy_id, 2)
    service.deploy(TRADER, account_id, "main", SlotRequest(strategy_id=strategy_id, version=2), cloud.publish)
    module.handler(bar_event(1), Context())
    module.handler(bar_event(1), Context())
    # Then the plan recorded by version 1 was ordered once, attributed to version 1
    decided = [d for d in _all_decisions(account_id) if d.mode == "live"]
    assert [(d.status, d.strategy) for d in decided] == [("ordered", f"{strategy_id}@1")]
    orders = list(trading_store.OrderModel.query(account_id))
    assert [(o.strategy, o.spec["side"], o.spec["quantity"]) for o in orders] == [
        (f"{strategy_id}@1", "buy", "300")
    ]
