"""The order service on DynamoDB (moto in process): concurrent fills, and a randomized run of orders, fills and
cancels after which the books, the cash and the fill history agree."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models import DynamoDBBackend

from localcloud.dynamodb_transactions import transact_write_items
from tests.unit.dynamodb_tables import create_tables
from trade2026.adapters import trading_store as store
from trade2026.auth import Caller
from trade2026.domain.trading.broker import FillModel
from trade2026.domain.trading.ledger import Fill, PositionBook
from trade2026.domain.trading.risk import OpenExposure
from trade2026.errors import Unprocessable
from trade2026.services import ledger_reports, paper_broker, trading
from trade2026.services.trading_models import AccountRequest, OrderRequest, ReplaceRequest

TABLES = {  # local name -> logical id in template.yaml (keys and indexes are read from there)
    "accounts": "AccountsTable", "orders": "OrdersTable", "order-events": "OrderEventsTable",
    "symbols": "SymbolsTable", "market-state": "MarketStateTable",
}  # fmt: skip
TRADER = Caller("user-a", "alice", None, frozenset({"trader"}))
SYMBOL = "ACME"


def _create_tables() -> None:
    create_tables(TABLES)
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName="symbols", Item={"symbol": {"S": SYMBOL}}
    )


def _set_last_price(price: Decimal) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName="market-state",
        Item={
            "pk": {"S": f"SYMBOL#{SYMBOL}"},
            "sk": {"S": "LATEST"},
            "last_bar": {"S": f'{{"close": {price}}}'},
        },
    )


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # moto's DynamoDB has no locks: serialize its requests, as the local cloud does (localcloud.awsstats), so
    # that a conditional write is atomic as on DynamoDB.
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)
    # ... and its transactions (all or nothing without copying whole tables)
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    with mock_aws():
        store.bind_tables("accounts", "orders", "order-events", "symbols", "market-state")
        store._symbols_cache["at"] = float("-inf")
        store._owners.clear()
        _create_tables()
        _set_last_price(Decimal("100"))
        yield


def _account(cash: str = "1000000") -> str:
    account = trading.create_account(TRADER.user_id, AccountRequest(starting_cash=Decimal(cash)))
    limits = {"max_orders_per_second": 100000}
    trading.update_limits(Caller("admin", "admin", None, frozenset({"admin"})), account.account_id, limits)
    return account.account_id


def _no_events(detail_type: str, details: list[dict[str, Any]]) -> None:
    return None


def test_sixteen_threads_filling_one_position_lose_no_update(tables: None):
    # Given an account and 16 threads, each applying 5 buy fills of a different size to the same position
    account_id = _account()
    sizes = [Decimal(thread * 5 + n + 1) for thread in range(16) for n in range(5)]
    start = datetime(2026, 1, 5, 15, tzinfo=UTC)

    def fill(index: int) -> Fill:
        ts = start + timedelta(seconds=index)
        return Fill(
            f"f{index}", f"o{index}", SYMBOL, "buy", sizes[index], Decimal("100.00"), Decimal("1"), ts
        )

    def worker(thread: int) -> None:
        for n in range(5):
            trading.apply_to_position(account_id, fill(thread * 5 + n))

    # When they run at once (optimistic concurrency on the position's version)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the position is the sum of all fills, its lots add up to it, and every fill is in the history once
    item = store.get_position(account_id, SYMBOL)
    assert item is not None
    book = PositionBook.from_dict(item.book)
    assert book.quantity == sum(sizes)
    assert sum(lot.quantity for lot in book.lots) == book.quantity
    assert int(item.version) == len(sizes)
    fills, _ = ledger_reports.fill_history(account_id)
    assert sorted(f.fill_id for f in fills) == sorted(f"f{i}" for i in range(len(sizes)))
    # And re-applying a fill changes nothing
    trading.apply_to_position(account_id, fill(0))
    again = store.get_position(account_id, SYMBOL)
    assert again is not None and int(again.version) == len(sizes)


def _check(account_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    return trading.check_order(account_id, spec)


class OrdersFillsCancels(RuleBasedStateMachine):
    """Random limit/market orders, bars that fill them, and cancels; invariants after every step."""

    @initialize()
    def open_account(self) -> None:
        self.account_id = _account("100000")
        self.now = datetime.now(UTC) + timedelta(minutes=1)
        self.bar = 0

    @rule(
        side=st.sampled_from(["buy", "sell", "short", "cover"]),
        quantity=st.integers(1, 40),
        limit=st.one_of(st.none(), st.integers(95, 105)),
    )
    def submit(self, side: str, quantity: int, limit: int | None) -> None:
        request = OrderRequest(
            symbol=SYMBOL, side=side, quantity=Decimal(quantity), order_type="limit" if limit else "market",
            limit_price=Decimal(limit) if limit else None, time_in_force="gtc",
        )  # fmt: skip
        trading.submit_order(TRADER, self.account_id, request, _check, _no_events)

    @rule(move=st.integers(-3, 3), volume=st.integers(50, 400))
    def bar_closes(self, move: int, volume: int) -> None:
        self.bar += 1
        start_ns = int((self.now + timedelta(minutes=self.bar)).timestamp() * 1e9)
        close = Decimal(100 + move)
        detail = {
            "symbol": SYMBOL, "start": start_ns, "end": start_ns + 60_000_000_000, "open": 100,
            "high": max(100, 100 + move) + 1, "low": min(100, 100 + move) - 1, "close": float(close),
            "volume": volume, "id": f"bar{self.bar}",
        }  # fmt: skip
        paper_broker.on_bar(detail, FillModel(), _no_events)
        _set_last_price(close)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        open_orders = store.open_orders_of_account(self.account_id)
        if open_orders:
            order = data.draw(st.sampled_from(open_orders))
            trading.cancel_order(TRADER, self.account_id, order.order_id, _no_events)

    @invariant()
    def books_cash_and_history_agree(self) -> None:
        report = ledger_reports.positions(TRADER, self.account_id)
        summary = {
            k: Decimal(v) for k, v in report["summary"].items() if k in ("cash", "equity", "market_value")
        }
        # cash + positions x price = equity
        prices = {p["symbol"]: Decimal(p["price"]) for p in report["positions"] if p["price"] is not None}
        marked = sum((Decimal(p["quantity"]) * prices[p["symbol"]] for p in report["positions"]), Decimal(0))
        assert summary["cash"] + marked == summary["equity"]
        # sum of lot quantities = position, for every position
        for item in store.positions_of(self.account_id):
            book = PositionBook.from_dict(item.book)
            assert sum(lot.signed_quantity for lot in book.lots) == book.quantity
        # the fill history replays to the same positions, and each order's fills add up to its filled quantity
        fills, _ = ledger_reports.fill_history(self.account_id)
        net: dict[str, Decimal] = {}
        for f in fills:
            net[f.symbol] = net.get(f.symbol, Decimal(0)) + f.signed_quantity
        assert {s: q for s, q in net.items() if q} == {
            p["symbol"]: Decimal(p["quantity"]) for p in report["positions"] if Decimal(p["quantity"])
        }
        _assert_open_sums_match_open_orders(self.account_id)
        for order, _ in _orders_with_fills(self.account_id, fills):
            assert sum(f.quantity for f in fills if f.order_id == order.order_id) == Decimal(
                order.filled_quantity
            )


def _assert_open_sums_match_open_orders(account_id: str) -> None:
    """The running sums risk reads equal the sums over the open orders themselves."""
    expected: dict[str, OpenExposure] = {}
    for order in store.open_orders_of_account(account_id):
        expected[order.symbol] = expected.get(order.symbol, OpenExposure()) + trading.open_exposure_of(order)
    stored = {
        symbol: OpenExposure(**sums) for symbol, sums in store.account_state(account_id).open_exposure.items()
    }
    assert {s: e for s, e in stored.items() if e.changes()} == {
        s: e for s, e in expected.items() if e.changes()
    }


def _orders_with_fills(account_id: str, fills: list[Fill]) -> list[tuple[store.OrderModel, int]]:
    orders, _ = store.query_orders(account_id, 1000, None, None, None)
    return [(o, sum(1 for f in fills if f.order_id == o.order_id)) for o in orders]


def test_random_orders_fills_and_cancels_keep_the_books_consistent(tables: None):
    # Given/When a randomized run of orders, bars and cancels, Then the invariants hold after every step
    OrdersFillsCancels.TestCase.settings = settings(
        max_examples=8, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    OrdersFillsCancels.TestCase().runTest()


def test_daily_loss_limit_trips_the_kill_switch_and_cancels_open_orders(tables: None):
    # Given an account with a daily loss limit of 1,000, long 100 at 100, and an open limit order
    account_id = _account("100000")
    admin = Caller("admin", "admin", None, frozenset({"admin"}))
    trading.update_limits(admin, account_id, {"daily_loss_limit": "1000"})
    trading.apply_to_position(
        account_id, Fill("f1", "o1", SYMBOL, "buy", Decimal(100), Decimal(100), Decimal(0), datetime.now(UTC))
    )
    order = OrderRequest(
        symbol=SYMBOL, side="buy", quantity=Decimal(1), order_type="limit", limit_price=Decimal(99)
    )
    opened = trading.submit_order(
        TRADER, account_id, order, _check, _no_events
    )  # also records today's opening equity
    assert opened.status == "accepted"
    # When the price falls to 89.99 (a loss of 1,001 today) and another order is checked
    _set_last_price(Decimal("89.99"))
    rejected = trading.submit_order(TRADER, account_id, order, _check, _no_events)
    # Then the daily loss rule rejects it, the kill switch is engaged with the numbers, the open order is canceled
    assert "daily_loss_limit" in {v["rule"] for v in rejected.rejection or []}
    account = store.get_account(account_id)
    assert account is not None and account.kill is not None and "-1001" in account.kill["reason"]
    assert store.get_order(account_id, opened.id).status == "canceled"  # type: ignore[union-attr]


def test_daily_loss_one_cent_inside_the_limit_trips_nothing(tables: None):
    # Given the same account, When the loss is 999.99, Then orders still pass and no kill switch is engaged
    account_id = _account("100000")
    trading.update_limits(
        Caller("admin", "admin", None, frozenset({"admin"})), account_id, {"daily_loss_limit": "1000"}
    )
    trading.apply_to_position(
        account_id, Fill("f1", "o1", SYMBOL, "buy", Decimal(100), Decimal(100), Decimal(0), datetime.now(UTC))
    )
    order = OrderRequest(
        symbol=SYMBOL, side="buy", quantity=Decimal(1), order_type="limit", limit_price=Decimal(92)
    )
    trading.submit_order(TRADER, account_id, order, _check, _no_events)
    _set_last_price(Decimal("90.0001"))
    assert trading.submit_order(TRADER, account_id, order, _check, _no_events).status == "accepted"
    assert store.get_account(account_id).kill is None  # type: ignore[union-attr]


class WorkerKilled(Exception):
    """Stands for a worker that stops right after its commit point (SIGKILL, timeout)."""


def _die(*_args: Any, **_kwargs: Any) -> None:
    raise WorkerKilled


def _market_buy(quantity: int = 10) -> OrderRequest:
    return OrderRequest(symbol=SYMBOL, side="buy", quantity=Decimal(quantity), order_type="market")


def test_an_idempotency_key_has_one_order_even_when_the_first_attempt_died_after_writing_it(
    tables: None, monkeypatch: pytest.MonkeyPatch
):
    # Given a submission with a key whose worker died after the order write, before flushing its events
    account_id = _account()
    with monkeypatch.context() as patched:
        patched.setattr(store, "write_events", _die)
        with pytest.raises(WorkerKilled):
            trading.submit_order(TRADER, account_id, _market_buy(), _check, _no_events, "key-1")
    # When the client retries the same request with the same key (its idempotency record long expired)
    published: list[str] = []
    retried = trading.submit_order(
        TRADER, account_id, _market_buy(), _check, lambda kind, _: published.append(kind), "key-1"
    )
    # Then the key still has exactly one order: the first one, now with its events written and published
    orders, _ = store.query_orders(account_id, 100, None, None, None)
    assert [o.order_id for o in orders] == [retried.id]
    assert [e["kind"] for e in trading.get_order(TRADER, account_id, retried.id).events or []] == [
        "new", "accepted",
    ]  # fmt: skip
    assert published == ["OrderAccepted"]
    # And another key places another order, while the same key with another body is refused
    trading.submit_order(TRADER, account_id, _market_buy(), _check, _no_events, "key-2")
    with pytest.raises(Unprocessable, match="different order"):
        trading.submit_order(TRADER, account_id, _market_buy(11), _check, _no_events, "key-1")
    assert len(store.query_orders(account_id, 100, None, None, None)[0]) == 2


def test_concurrent_retries_of_one_key_place_one_order(tables: None):
    # Given 8 threads submitting the same key at once, 5 times each
    account_id = _account()
    ids: list[str] = []

    def client() -> None:
        for _ in range(5):
            ids.append(trading.submit_order(TRADER, account_id, _market_buy(), _check, _no_events, "k").id)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every answer is the one order the key placed
    assert len(ids) == 40 and len(set(ids)) == 1
    assert len(store.query_orders(account_id, 100, None, None, None)[0]) == 1


def test_the_outbox_sweeper_books_a_fill_whose_writer_died_after_the_commit_point(
    tables: None, monkeypatch: pytest.MonkeyPatch
):
    # Given an open order whose fill was booked on the order, but the broker died before the position update
    account_id = _account()
    opened = trading.submit_order(TRADER, account_id, _market_buy(), _check, _no_events)
    order = store.get_order(account_id, opened.id)
    assert order is not None
    with monkeypatch.context() as patched:
        patched.setattr(trading, "apply_to_position", _die)
        with pytest.raises(WorkerKilled):
            trading.record_fill(
                order, "fill-1", Decimal(10), Decimal(100), Decimal(1), datetime.now(UTC), False, "bar", _no_events
            )  # fmt: skip
    assert store.get_position(account_id, SYMBOL) is None
    # When the sweeper runs (it leaves outboxes younger than the settle time to their live writer)
    assert trading.flush_pending_outboxes(3600, _no_events) == 0
    published: list[str] = []
    recovered = trading.flush_pending_outboxes(0, lambda kind, _: published.append(kind))
    # Then the fill reaches the position and the bus once, and nothing is left to sweep
    assert recovered == 1 and published == ["OrderFilled"]
    position = store.get_position(account_id, SYMBOL)
    assert position is not None and PositionBook.from_dict(position.book).quantity == 10
    assert trading.flush_pending_outboxes(0, _no_events) == 0
    filled = store.get_order(account_id, opened.id)
    assert (
        filled is not None and filled.status == "filled" and not filled.outbox and filled.outbox_shard is None
    )


def test_concurrent_submits_replaces_and_cancels_keep_the_open_sums_exact(tables: None):
    # Given a long position and 8 threads each submitting limit buys and sells in its symbol, replacing half of
    # them and canceling a third
    account_id = _account()
    trading.apply_to_position(
        account_id,
        Fill("f0", "o0", SYMBOL, "buy", Decimal(1000), Decimal(100), Decimal(0), datetime.now(UTC)),
    )

    def client(thread: int) -> None:
        for n in range(6):
            request = OrderRequest(
                symbol=SYMBOL, side=("buy", "sell")[n % 2], quantity=Decimal(5 + thread),
                order_type="limit", limit_price=Decimal("99.50") + n, time_in_force="gtc",
            )  # fmt: skip
            placed = trading.submit_order(TRADER, account_id, request, _check, _no_events)
            if n % 2:
                change = ReplaceRequest(quantity=Decimal(20 + n), limit_price=Decimal("98.25"))
                trading.replace_order(TRADER, account_id, placed.id, change, _check, _no_events)
            if n % 3 == 0:
                trading.cancel_order(TRADER, account_id, placed.id, _no_events)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the sums risk reads equal the sums over the orders still open
    assert len(store.open_orders_of_account(account_id)) == 8 * 4
    _assert_open_sums_match_open_orders(account_id)
