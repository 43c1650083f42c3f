"""moto in process: the trading, research, strategies and idempotency tables with template.yaml's keys, and
the strategy runtime's Lambda module imported with its environment (risk checked in process, events kept)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from trade2026.adapters import research_store, strategy_store, trading_store
from trade2026.auth import Caller
from trade2026.services import strategies as service
from trade2026.services import trading
from trade2026.services.strategies import LinkRequest, StrategyRequest, TransitionRequest
from trade2026.services.trading_models import AccountRequest
from trade2026.settings import trading_settings

ROOT = Path(__file__).resolve().parents[3]
TRADER = Caller("user-t", "tess", None, frozenset({"trader"}))
ADMIN = Caller("admin", "admin", None, frozenset({"admin"}))
SYMBOL = "ACME"
TABLES = {  # name -> (key schema, GSIs (name, hash, range))
    "accounts": ([("pk", "S"), ("sk", "S")], [("owner-index", "owner", "created_at")]),
    "orders": ([("pk", "S"), ("sk", "S")],
               [("open-by-symbol", "open_symbol", "sk"), ("open-by-account", "open_account", "sk")]),
    "order-events": ([("pk", "S"), ("sk", "N")], []),
    "symbols": ([("symbol", "S")], []),
    "market-state": ([("pk", "S"), ("sk", "S")], []),
    "backtests": ([("pk", "S"), ("sk", "S")], [("owner-index", "owner", "created_at")]),
    "strategies": ([("pk", "S"), ("sk", "S")],
                   [("listing", "entity", "created_at"), ("active-symbol", "active_symbol", "slot_key")]),
    "idempotency": ([("id", "S")], []),
}  # fmt: skip
ENV = {
    "STRATEGIES_TABLE": "strategies", "BACKTESTS_TABLE": "backtests", "MODEL_REGISTRY_TABLE": "model-registry",
    "ACCOUNTS_TABLE": "accounts", "ORDERS_TABLE": "orders", "ORDER_EVENTS_TABLE": "order-events",
    "SYMBOLS_TABLE": "symbols", "MARKET_STATE_TABLE": "market-state", "IDEMPOTENCY_TABLE": "idempotency",
    "EVENT_BUS_NAME": "bus", "RISK_FUNCTION_NAME": "risk", "LAKE_BUCKET": "lake", "LAKE_DATABASE": "lake",
    "POWERTOOLS_SERVICE_NAME": "strategy_runtime", "POWERTOOLS_METRICS_NAMESPACE": "Trade2026",
}  # fmt: skip


def _key(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def create_tables() -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for name, (keys, indexes) in TABLES.items():
        attributes = dict(keys) | {a: "S" for _, h, r in indexes for a in (h, r) if a not in dict(keys)}
        extra: dict[str, Any] = {}
        if indexes:
            extra["GlobalSecondaryIndexes"] = [
                {"IndexName": n, "KeySchema": [_key(h, "HASH"), _key(r, "RANGE")],
                 "Projection": {"ProjectionType": "ALL"}}
                for n, h, r in indexes
            ]  # fmt: skip
        dynamodb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t in attributes.items()],
            KeySchema=[_key(k, kind) for (k, _), kind in zip(keys, ("HASH", "RANGE"), strict=False)], **extra,
        )  # fmt: skip
    dynamodb.put_item(TableName="symbols", Item={"symbol": {"S": SYMBOL}})
    dynamodb.put_item(TableName="market-state", Item={
        "pk": {"S": f"SYMBOL#{SYMBOL}"}, "sk": {"S": "LATEST"},
        "last_bar": {"S": '{"close": 100, "start": 0, "end": 60000000000}'},
    })  # fmt: skip


@dataclass
class Cloud:
    runtime_app: ModuleType
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, detail_type: str, details: list[dict[str, Any]]) -> None:
        with self.lock:
            self.published.extend((detail_type, d) for d in details)

    def account(self, cash: str = "10000000") -> str:
        account = trading.create_account(TRADER.user_id, AccountRequest(starting_cash=Decimal(cash)))
        limits = {"max_orders_per_second": 100_000, "max_order_notional": 10**9, "max_gross_exposure": 10**10,
                  "max_net_exposure": 10**10, "max_position_quantity": 10**8, "max_order_quantity": 10**7}  # fmt: skip
        trading.update_limits(ADMIN, account.account_id, limits)
        return account.account_id

    def strategy(self, code: str, params: dict[str, Any]) -> str:
        return service.create_strategy(
            TRADER, StrategyRequest(name=f"{code} test", code=code, params=params)
        ).id

    def sweep(self, pbo: float, dsr: float) -> str:
        run_id = f"{len(self.published):04d}" + threading.get_ident().to_bytes(8, "little").hex()[:4]
        run_id = (run_id + "0" * 32)[:32]
        research_store.create_run(
            "sweep", run_id, TRADER.user_id, {"strategy": "x", "symbols": [SYMBOL]}, status="SUCCEEDED",
            summary={"pbo": pbo, "deflated_sharpe": {"dsr": dsr}},  # as FinishSweep stores them
        )  # fmt: skip
        self.published.append(("test-sweep", {"id": run_id}))  # makes the next id unique
        return run_id

    def promote(self, strategy_id: str, version: int, to: str = "paper") -> None:
        """Through the real gates: a passing sweep is linked, then backtested -> validated -> paper."""
        service.link(
            TRADER, strategy_id, version, LinkRequest(sweeps=[self.sweep(0.1, 0.99)]), lambda _: True
        )
        for state in ("backtested", "validated", "paper"):
            thresholds = service.strategy_settings().thresholds
            service.transition(TRADER, strategy_id, version, TransitionRequest(to=state), thresholds)  # type: ignore[arg-type]
            if state == to:
                return


def _load_runtime_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "strategy_runtime_app", ROOT / "functions/strategy_runtime/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    # moto's DynamoDB has no locks: serialize its requests (as the local cloud does) so that conditional
    # writes are atomic as on DynamoDB.
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    service.strategy_settings.cache_clear()
    trading_settings.cache_clear()  # an earlier import (e.g. the template test's) may have cached other names
    with mock_aws():
        create_tables()
        module = _load_runtime_module()  # binds every table from the environment
        research_store.bind_table("backtests")
        strategy_store.bind_table("strategies")
        trading_store._symbols_cache["at"] = float("-inf")
        cloud = Cloud(module)
        monkeypatch.setattr(module, "check_risk", trading.check_order)
        monkeypatch.setattr(module, "publish", cloud.publish)
        module.place_order.cache_clear()
        yield cloud
    service.strategy_settings.cache_clear()
    trading_settings.cache_clear()


def bar_event(index: int, close: float = 100.0, symbol: str = SYMBOL) -> dict[str, Any]:
    start = 1_767_600_000_000_000_000 + index * 60_000_000_000
    detail = {"symbol": symbol, "start": start, "end": start + 60_000_000_000, "open": close, "high": close,
              "low": close, "close": close, "volume": 1000.0, "id": f"{symbol}:1m:{start}"}  # fmt: skip
    return {"version": "0", "id": f"evt-{index}", "detail-type": "BarClosed", "source": "trade2026.marketdata",
            "account": "123456789012", "time": "2026-01-05T15:00:00Z", "region": "us-east-1", "resources": [],
            "detail": detail}  # fmt: skip
