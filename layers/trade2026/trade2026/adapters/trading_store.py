"""Trading state in DynamoDB (PynamoDB): accounts, positions, orders and their append-only events.

Accounts table (pk = "ACCOUNT#<id>"; one partition holds everything account-wide: pre-trade risk reads
the account item and its positions from it):
    sk = "META"                 owner, starting cash, limits, kill switch, start-of-day equity, lot method
    sk = "OPEN#<symbol>"        running sums over the account's open orders in the symbol (risk reads these)
    sk = "POS#<symbol>"         a position: its ledger book (lots, cash flow), version, ids of applied fills
    sk = "RATE#<epoch second>"  orders submitted in that second (TTL)
    sk = "KILL#<iso time>"      kill-switch history (engaged / reset, by whom, why)
    sk = "FILL#<iso time>#<id>" fills with their realized lots (the blotter and tax reports read these)
    sk = "IDEMPOTENCY#<user>#<key>" an Idempotency-Key's order (written with the order, in one transaction; TTL)
    pk = "GLOBAL", sk = "KILL"  the global kill switch
Orders table (pk = account id, sk = order id, time-sortable); sparse GSIs list open orders per symbol (the
broker), per account (risk, kill switch) and orders whose outbox is not flushed yet (the outbox sweeper;
16 shards so that no index partition gets every write). Order events table (pk = order id, sk = the order's version
after the transition): append-only, written with attribute_not_exists, so a retried step writes nothing twice.

Money and quantities are Decimal, stored as strings (DynamoDB numbers would pass through float in PynamoDB).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from pynamodb.attributes import (
    Attribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

GLOBAL_PK = "GLOBAL"
RATE_TTL_S = 120
IDEMPOTENCY_TTL_S = 86_400
OUTBOX_SHARDS = 16


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def is_conditional_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


class OwnerIndex(GlobalSecondaryIndex["AccountModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AccountModel(Model):
    class Meta:
        table_name = "accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    owner = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    starting_cash = UnicodeAttribute()
    lot_method = UnicodeAttribute(default="fifo")
    limits = JSONAttribute()
    kill = JSONAttribute(null=True)  # {"reason", "at", "by"} while engaged
    sod_date = UnicodeAttribute(null=True)  # YYYY-MM-DD of sod_equity: the day's opening equity (daily loss)
    sod_equity = UnicodeAttribute(null=True)
    owner_index = OwnerIndex()

    @property
    def account_id(self) -> str:
        return self.pk.split("#", 1)[1]


class PositionModel(Model):
    class Meta:
        table_name = "accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    book = JSONAttribute()
    version = NumberAttribute(default=0)
    fill_ids = UnicodeSetAttribute(null=True)  # fills already in the book: a redelivered fill changes nothing


class RecordModel(Model):
    """Counters and history items of the accounts table (RATE#, KILL#, FILL#, the global kill switch)."""

    class Meta:
        table_name = "accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(null=True)
    tally = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as an exact Decimal (NumberAttribute goes through float)."""

    attr_type = NUMBER

    def serialize(self, value: Any) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class OpenExposureModel(Model):
    """Running sums over an account's open orders in one symbol (sk = "OPEN#<symbol>"), changed in the same
    transaction as each order write: what pre-trade risk reads instead of every open order."""

    class Meta:
        table_name = "accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    priced = DecimalAttribute(default=Decimal)
    unpriced = DecimalAttribute(default=Decimal)
    selling = DecimalAttribute(default=Decimal)
    covering = DecimalAttribute(default=Decimal)

    def sums(self) -> dict[str, Decimal]:
        return {
            "priced": self.priced,
            "unpriced": self.unpriced,
            "selling": self.selling,
            "covering": self.covering,
        }


class OpenBySymbolIndex(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "open-by-symbol"
        projection = AllProjection()

    open_symbol = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class OpenByAccountIndex(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "open-by-account"
        projection = AllProjection()

    open_account = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class PendingOutboxIndex(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "pending-outbox"
        projection = KeysOnlyProjection()

    outbox_shard = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class OrderModel(Model):
    class Meta:
        table_name = "orders"

    pk = UnicodeAttribute(hash_key=True)  # account id
    sk = UnicodeAttribute(range_key=True)  # order id
    owner = UnicodeAttribute()
    symbol = UnicodeAttribute()
    status = UnicodeAttribute()
    spec = JSONAttribute()  # side, quantity, order_type, time_in_force, limit_price, stop_price, lot_ids
    filled_quantity = UnicodeAttribute(default="0")
    average_price = UnicodeAttribute(null=True)
    fees = UnicodeAttribute(default="0")
    fills = JSONAttribute(default=dict)  # fill id -> {"quantity","price","fee","ts","version"}
    rejection = JSONAttribute(null=True)  # the risk rules that rejected it, with their numbers
    stop_triggered = NumberAttribute(default=0)
    strategy = UnicodeAttribute(null=True)
    client_order_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    accepted_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    open_symbol = UnicodeAttribute(null=True)  # set while the order can still fill (sparse index)
    open_account = UnicodeAttribute(null=True)
    outbox = JSONAttribute(null=True)  # events of the last change not yet written/applied/published
    outbox_shard = UnicodeAttribute(null=True)  # set while the outbox is not empty (sparse index)
    open_by_symbol = OpenBySymbolIndex()
    open_by_account = OpenByAccountIndex()
    pending_outbox = PendingOutboxIndex()

    @property
    def order_id(self) -> str:
        return self.sk


class OrderEventModel(Model):
    class Meta:
        table_name = "order-events"

    pk = UnicodeAttribute(hash_key=True)  # order id
    sk = NumberAttribute(range_key=True)  # the order's version after this event
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    at = UnicodeAttribute()
    data = JSONAttribute(null=True)


class SymbolInfoModel(Model):
    """Read-only view of the market data symbols table (tick size lives here when known)."""

    class Meta:
        table_name = "symbols"

    symbol = UnicodeAttribute(hash_key=True)
    asset_class = UnicodeAttribute(null=True)


class LatestMarketModel(Model):
    """Read-only view of a symbol's latest quote and last bar in the market state table."""

    class Meta:
        table_name = "market-state"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    quote = JSONAttribute(null=True)
    last_bar = JSONAttribute(null=True)


def bind_tables(accounts: str, orders: str, order_events: str, symbols: str, market_state: str) -> None:
    for model in (AccountModel, PositionModel, RecordModel, OpenExposureModel):
        model.Meta.table_name = accounts
    OrderModel.Meta.table_name = orders
    OrderEventModel.Meta.table_name = order_events
    SymbolInfoModel.Meta.table_name = symbols
    LatestMarketModel.Meta.table_name = market_state


# ------------------------------------------------------------------------------------------ accounts
def get_account(account_id: str) -> AccountModel | None:
    try:
        return AccountModel.get(account_pk(account_id), "META")
    except AccountModel.DoesNotExist:
        return None


# account id -> owner: accounts never change hands, so a warm function keeps them
_owners: dict[str, str] = {}
OWNERS_CACHED = 10_000


def account_owner(account_id: str) -> str | None:
    """Who owns the account (None: no such account); read once per warm function and account."""
    if account_id not in _owners:
        account = get_account(account_id)
        if account is None:
            return None
        if len(_owners) >= OWNERS_CACHED:
            _owners.clear()
        _owners[account_id] = account.owner
    return _owners[account_id]


def accounts_of(owner: str) -> list[AccountModel]:
    return list(AccountModel.owner_index.query(owner))


def create_account(account: AccountModel) -> None:
    account.save(condition=AccountModel.pk.does_not_exist())


class AccountState(NamedTuple):
    account: AccountModel | None
    positions: list[PositionModel]
    open_exposure: dict[str, dict[str, Decimal]]  # symbol -> sums over its open orders


def account_state(account_id: str) -> AccountState:
    """The account item, its open-order sums and its positions with one Query (sk "META" to "POS#\uffff")."""
    from trade2026.adapters.aws import client

    state = AccountState(None, [], {})
    pages = client("dynamodb").get_paginator("query").paginate(
        TableName=AccountModel.Meta.table_name, ConsistentRead=True,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues={
            ":pk": {"S": account_pk(account_id)}, ":lo": {"S": "META"}, ":hi": {"S": "POS#\uffff"},
        },
    )  # fmt: skip
    for page in pages:
        for item in page["Items"]:
            sk = item["sk"]["S"]
            if sk == "META":
                state = state._replace(account=AccountModel.from_raw_data(item))
            elif sk.startswith("OPEN#"):
                state.open_exposure[sk.split("#", 1)[1]] = OpenExposureModel.from_raw_data(item).sums()
            else:
                state.positions.append(PositionModel.from_raw_data(item))
    return state


def positions_of(account_id: str) -> list[PositionModel]:
    return list(PositionModel.query(account_pk(account_id), PositionModel.sk.startswith("POS#")))


def get_position(account_id: str, symbol: str) -> PositionModel | None:
    try:
        return PositionModel.get(account_pk(account_id), f"POS#{symbol}", consistent_read=True)
    except PositionModel.DoesNotExist:
        return None


def save_position(position: PositionModel, expected_version: int | None) -> None:
    """Conditional write: the version read must still be there (optimistic concurrency)."""
    condition = (
        PositionModel.pk.does_not_exist()
        if expected_version is None
        else PositionModel.version == expected_version
    )
    position.save(condition=condition)


def update_account(account: AccountModel, **changes: Any) -> None:
    account.update(actions=[getattr(AccountModel, name).set(value) for name, value in changes.items()])


def set_start_of_day(account: AccountModel, day: str, equity: Decimal) -> None:
    """Record the day's opening equity once (the first writer of the day wins; the others keep theirs)."""
    try:
        account.update(
            actions=[AccountModel.sod_date.set(day), AccountModel.sod_equity.set(str(equity))],
            condition=AccountModel.sod_date.does_not_exist() | (AccountModel.sod_date != day),
        )
    except UpdateError as exc:
        if not is_conditional_failure(exc):
            raise


def count_order(account_id: str, limit: int) -> int | None:
    """Count one order in this second; None if that would exceed ``limit`` (nothing counted then)."""
    second = int(time.time())
    record = RecordModel(account_pk(account_id), f"RATE#{second}")
    try:
        record.update(
            actions=[RecordModel.tally.add(1), RecordModel.expires_at.set(second + RATE_TTL_S)],
            condition=RecordModel.tally.does_not_exist() | (RecordModel.tally < limit),
        )
    except UpdateError as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return int(record.tally or 0)


def append_record(account_id: str, sk: str, data: Mapping[str, Any]) -> bool:
    """Write a history item once; False if it is already there (a retried step)."""
    try:
        RecordModel(account_pk(account_id), sk, data=dict(data)).save(
            condition=RecordModel.sk.does_not_exist()
        )
    except PutError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def records(account_id: str, prefix: str, start: str = "", end: str = "\uffff") -> Iterator[RecordModel]:
    return RecordModel.query(account_pk(account_id), RecordModel.sk.between(prefix + start, prefix + end))


def global_kill() -> dict[str, Any] | None:
    try:
        return RecordModel.get(GLOBAL_PK, "KILL", consistent_read=True).data
    except RecordModel.DoesNotExist:
        return None


def set_global_kill(state: dict[str, Any] | None) -> None:
    RecordModel(GLOBAL_PK, "KILL", data=state).save()


# ------------------------------------------------------------------------------------------ orders
def get_order(account_id: str, order_id: str) -> OrderModel | None:
    try:
        return OrderModel.get(account_id, order_id, consistent_read=True)
    except OrderModel.DoesNotExist:
        return None


class KeyReused(Exception):
    """An Idempotency-Key sent again with a different request."""


class OrderChanged(Exception):
    """The order's version is no longer the one read: another writer changed it meanwhile."""


def _mark_outbox(order: OrderModel) -> None:
    order.outbox_shard = f"{int(order.order_id[-1], 16) % OUTBOX_SHARDS:02d}" if order.outbox else None


@cache
def _connection() -> Connection:
    return Connection()


def key_claim_sk(user_id: str, key: str) -> str:
    return f"IDEMPOTENCY#{user_id}#{key}"  # sorts before "META": outside account_state's range


TRANSACTION_ATTEMPTS = 8


def _commit(
    order: OrderModel, condition: Any, claim: RecordModel | None, exposure: Mapping[str, Decimal]
) -> str | None:
    """Write the order (under ``condition``) together with its Idempotency-Key claim and the change of its
    account's open exposure, all or nothing. Returns what refused the write: "claim", "order" or None."""
    _mark_outbox(order)
    if claim is None and not exposure:
        try:
            order.save(condition=condition)
        except PutError as exc:
            if is_conditional_failure(exc):
                return "order"
            raise
        return None
    sums = OpenExposureModel(account_pk(order.pk), f"OPEN#{order.symbol}")
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with TransactWrite(connection=_connection()) as transaction:
                if claim is not None:
                    transaction.save(claim, condition=RecordModel.sk.does_not_exist())
                transaction.save(order, condition=condition)
                if exposure:
                    transaction.update(
                        sums, [getattr(OpenExposureModel, k).add(v) for k, v in exposure.items()]
                    )
            return None
        except TransactWriteError as exc:
            codes = [reason.code if reason else None for reason in exc.cancellation_reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return "claim" if claim is not None else "order"
            if claim is not None and len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "order"
            if "TransactionConflict" not in codes or attempt == TRANSACTION_ATTEMPTS - 1:
                raise
            time.sleep(0.002 * 2**attempt)  # another order of this account and symbol is being written
    raise AssertionError("unreachable")


def insert_order(
    order: OrderModel, exposure: Mapping[str, Decimal], claim: tuple[str, str] | None = None
) -> str | None:
    """Write a new order and add it to the account's open exposure. With ``claim`` (the claim's sort key, the
    request's fingerprint) the order's Idempotency-Key claim is written in the same transaction: if the key was
    claimed already, nothing is written and the id of the key's order is returned (whatever became of the
    request that claimed it)."""
    record = None
    if claim is not None:
        record = RecordModel(
            account_pk(order.pk), claim[0], data={"order_id": order.order_id, "fingerprint": claim[1]},
            expires_at=int(time.time()) + IDEMPOTENCY_TTL_S,
        )  # fmt: skip
    refused = _commit(order, OrderModel.sk.does_not_exist(), record, exposure)
    if refused is None:
        return None
    if refused == "order" or claim is None:
        raise OrderChanged(order.order_id)
    claimed = RecordModel.get(account_pk(order.pk), claim[0], consistent_read=True).data or {}
    if claimed.get("fingerprint") != claim[1]:
        raise KeyReused(claim[0])
    return str(claimed["order_id"])


def save_order(order: OrderModel, expected_version: int, exposure: Mapping[str, Decimal]) -> None:
    """Write a change of the order if its version is still ``expected_version`` (else OrderChanged), with the
    change it makes to the account's open exposure."""
    if _commit(order, OrderModel.version == expected_version, None, exposure) is not None:
        raise OrderChanged(order.order_id)


def query_orders(
    account_id: str, limit: int, cursor: str | None, status: str | None, symbol: str | None
) -> tuple[list[OrderModel], str | None]:
    """Newest first; ``cursor`` is the last order id of the previous page."""
    condition = None
    if status:
        condition = OrderModel.status == status
    if symbol:
        condition = (
            (OrderModel.symbol == symbol) if condition is None else condition & (OrderModel.symbol == symbol)
        )
    orders: list[OrderModel] = []
    last_key = {"pk": {"S": account_id}, "sk": {"S": cursor}} if cursor else None
    while len(orders) < limit:
        page = OrderModel.query(
            account_id, scan_index_forward=False, filter_condition=condition, limit=limit,
            last_evaluated_key=last_key,
        )  # fmt: skip
        for order in page:
            orders.append(order)
            if len(orders) == limit:
                return orders, order.order_id
        last_key = page.last_evaluated_key
        if not last_key:
            return orders, None
    return orders, None


def open_orders_of_symbol(symbol: str) -> list[OrderModel]:
    return list(OrderModel.open_by_symbol.query(symbol))


def open_orders_of_account(account_id: str) -> list[OrderModel]:
    return list(OrderModel.open_by_account.query(account_id))


def accounts_with_open_orders() -> set[str]:
    return {item.open_account for item in OrderModel.open_by_account.scan() if item.open_account}


def write_events(order: OrderModel, events: list[Mapping[str, Any]]) -> None:
    """Write the order's events, keyed by the order's version after each. A retried flush writes the same
    items again with the same content (each version has exactly one event), so the log stays append-only."""
    with OrderEventModel.batch_write() as batch:
        for event in events:
            batch.save(OrderEventModel(
                order.order_id, int(event["version"]), account_id=order.pk, kind=event["kind"],
                status=event["status"], at=event["at"], data=event.get("data"),
            ))  # fmt: skip


def clear_outbox(order: OrderModel) -> None:
    """Drop the flushed events, unless the order moved on meanwhile (its next writer flushes them all)."""
    try:
        order.update(
            actions=[OrderModel.outbox.remove(), OrderModel.outbox_shard.remove()],
            condition=OrderModel.version == int(order.version),
        )
    except UpdateError as exc:
        if not is_conditional_failure(exc):
            raise


def orders_with_pending_outbox(updated_before: str) -> Iterator[tuple[str, str]]:
    """(account id, order id) of orders whose outbox is still pending and that last changed before the time."""
    for shard in range(OUTBOX_SHARDS):
        query = OrderModel.pending_outbox.query(f"{shard:02d}", OrderModel.updated_at < updated_before)
        for item in query:
            yield item.pk, item.sk


def events_of(order_id: str) -> list[OrderEventModel]:
    return list(OrderEventModel.query(order_id, consistent_read=True))


# ------------------------------------------------------------------------------------------ market
_symbols_cache: dict[str, Any] = {"at": float("-inf"), "symbols": frozenset()}
SYMBOLS_TTL_S = 60.0


def symbol_known(symbol: str) -> bool:
    """Known symbols are cached for a minute (a warm function reuses them); a miss is checked at the table."""
    if time.monotonic() - _symbols_cache["at"] > SYMBOLS_TTL_S:
        _symbols_cache["symbols"] = frozenset(
            s.symbol for s in SymbolInfoModel.scan(attributes_to_get=["symbol"])
        )
        _symbols_cache["at"] = time.monotonic()
    if symbol in _symbols_cache["symbols"]:
        return True
    try:
        SymbolInfoModel.get(symbol, attributes_to_get=["symbol"])
    except SymbolInfoModel.DoesNotExist:
        return False
    return True


def _price_of(item: LatestMarketModel) -> Decimal | None:
    """The last final bar's close, else the quote's mid."""
    bar, quote = item.last_bar or {}, item.quote or {}
    if bar.get("close") is not None:
        return Decimal(str(bar["close"]))
    if quote.get("bid") is not None and quote.get("ask") is not None:
        return (Decimal(str(quote["bid"])) + Decimal(str(quote["ask"]))) / 2
    return None


def last_price(symbol: str) -> Decimal | None:
    try:
        return _price_of(LatestMarketModel.get(f"SYMBOL#{symbol}", "LATEST"))
    except LatestMarketModel.DoesNotExist:
        return None


def last_prices(symbols: list[str]) -> dict[str, Decimal]:
    """Latest prices of several symbols with one BatchGetItem (symbols without a price are left out)."""
    prices: dict[str, Decimal] = {}
    keys = [(f"SYMBOL#{symbol}", "LATEST") for symbol in dict.fromkeys(symbols)]
    for item in LatestMarketModel.batch_get(keys) if keys else []:
        price = _price_of(item)
        if price is not None:
            prices[item.pk.split("#", 1)[1]] = price
    return prices
