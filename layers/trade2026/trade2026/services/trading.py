"""Order management: accounts, risk-checked submission, cancel/replace, fills, positions, the kill switch.

Every change to an order is one conditional write of the order item (its version must be the one read),
in one transaction with the change it makes to the account's open-order sums (and, for a new order with an
Idempotency-Key, the key's claim); that write carries the change's events in the item's ``outbox``.
Afterwards the outbox is flushed: each event goes to the append-only events table (written once per
version), fills go into the position (once per fill id) and the account's fill history, and the event is
published on the bus. A crash after the order write loses nothing: the next writer of that order, the
broker's retry, or the broker's outbox sweep flushes the outbox again, and every step of the flush is
idempotent.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError

from trade2026.adapters import trading_store as store
from trade2026.auth import Caller
from trade2026.domain.trading.ledger import Fill, PositionBook, ReliefMethod, apply_fill
from trade2026.domain.trading.orders import (
    OPEN,
    TERMINAL,
    IllegalTransition,
    OrderProblem,
    OrderSpec,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    apply_replace,
    transition,
    validate_order,
)
from trade2026.domain.trading.risk import (
    LimitsProblem,
    OpenExposure,
    RiskContext,
    RiskLimits,
    daily_loss_breached,
    daily_loss_used,
    evaluate,
)
from trade2026.errors import Conflict, Forbidden, NotFound, Unprocessable
from trade2026.services.trading_models import (
    AccountRequest,
    AccountView,
    OrderRequest,
    OrderView,
    ReplaceRequest,
)

ZERO = Decimal(0)
TICK_SIZE = Decimal("0.01")
LOT_SIZE = Decimal("1")
POSITION_RETRIES = 50

Publisher = Callable[[str, list[dict[str, Any]]], None]  # (detail type, details) -> bus
RiskChecker = Callable[[str, dict[str, Any]], dict[str, Any]]  # (account id, order spec) -> decision


def new_order_id() -> str:
    """Time-sortable (microseconds, hex) and unique (random suffix): lists come back newest first."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(5)}"


def _now() -> str:
    return store.now_iso()


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# ---------------------------------------------------------------------------------------- accounts
def owned_account(caller: Caller, account_id: str) -> store.AccountModel:
    """The caller's account (admins: any); someone else's is reported as missing, never as forbidden."""
    account = store.get_account(account_id)
    if account is None or (account.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No account {account_id}")
    return account


def require_owner(caller: Caller, account_id: str) -> None:
    """The ownership check of owned_account() without reading the account (its owner is cached)."""
    owner = store.account_owner(account_id)
    if owner is None or (owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No account {account_id}")


def account_view(account: store.AccountModel) -> AccountView:
    return AccountView(
        id=account.account_id, name=account.name, owner=account.owner, created_at=account.created_at,
        starting_cash=account.starting_cash, lot_method=account.lot_method, limits=account.limits,
        kill_switch=account.kill, global_kill_switch=store.global_kill(),
    )  # fmt: skip


def create_account(owner: str, request: AccountRequest, account_id: str | None = None) -> store.AccountModel:
    account = store.AccountModel(
        store.account_pk(account_id or secrets.token_hex(6)), "META", owner=owner, name=request.name,
        created_at=_now(), starting_cash=str(request.starting_cash), lot_method=request.lot_method,
        limits=RiskLimits.DEFAULT.to_dict(),
    )  # fmt: skip
    store.create_account(account)
    return account


def update_limits(caller: Caller, account_id: str, changes: Mapping[str, Any]) -> store.AccountModel:
    if not caller.is_admin:
        raise Forbidden("Only admins change risk limits")
    account = owned_account(caller, account_id)
    try:
        limits = RiskLimits.from_dict(changes, base=RiskLimits.from_dict(account.limits))
    except LimitsProblem as exc:
        raise Unprocessable(str(exc), details={"field": exc.field}) from exc
    store.update_account(account, limits=limits.to_dict())
    return account


# ---------------------------------------------------------------------------------------- views
def order_spec(order: store.OrderModel) -> OrderSpec:
    spec = order.spec
    return OrderSpec(
        symbol=order.symbol, side=Side(spec["side"]), quantity=Decimal(spec["quantity"]),
        order_type=OrderType(spec["order_type"]), time_in_force=TimeInForce(spec["time_in_force"]),
        limit_price=_dec(spec.get("limit_price")), stop_price=_dec(spec.get("stop_price")),
    )  # fmt: skip


def _spec_dict(spec: OrderSpec, lot_ids: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "side": str(spec.side), "quantity": str(spec.quantity), "order_type": str(spec.order_type),
        "time_in_force": str(spec.time_in_force),
        "limit_price": None if spec.limit_price is None else str(spec.limit_price),
        "stop_price": None if spec.stop_price is None else str(spec.stop_price),
        "lot_ids": list(lot_ids),
    }  # fmt: skip


def order_view(order: store.OrderModel, with_events: bool = False) -> OrderView:
    spec = order.spec
    events = None
    if with_events:
        events = [
            {"version": int(e.sk), "kind": e.kind, "status": e.status, "at": e.at, "data": e.data}
            for e in store.events_of(order.order_id)
        ]
    return OrderView(
        id=order.order_id, account_id=order.pk, symbol=order.symbol, side=spec["side"],
        quantity=spec["quantity"], order_type=spec["order_type"], time_in_force=spec["time_in_force"],
        limit_price=spec.get("limit_price"), stop_price=spec.get("stop_price"), status=order.status,
        filled_quantity=order.filled_quantity, average_price=order.average_price, fees=order.fees,
        rejection=order.rejection, strategy=order.strategy, client_order_id=order.client_order_id,
        created_at=order.created_at, accepted_at=order.accepted_at, updated_at=order.updated_at,
        version=int(order.version), events=events,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------- risk
def _books(positions: Iterable[store.PositionModel]) -> dict[str, PositionBook]:
    return {p.sk.split("#", 1)[1]: PositionBook.from_dict(p.book) for p in positions}


def cash_of(account: store.AccountModel, books: Mapping[str, PositionBook]) -> Decimal:
    return Decimal(account.starting_cash) + sum((b.cash_flow for b in books.values()), ZERO)


def _remaining(order: store.OrderModel) -> Decimal:
    return Decimal(order.spec["quantity"]) - Decimal(order.filled_quantity)


def open_exposure_of(order: store.OrderModel) -> OpenExposure:
    """The order's share of its account's open exposure (nothing once it is no longer open)."""
    if OrderStatus(order.status) not in OPEN:
        return OpenExposure()
    return OpenExposure.of_order(order_spec(order), _remaining(order))


def risk_context(state: store.AccountState, spec: OrderSpec, *, count_order: bool = True) -> RiskContext:
    """Everything the risk rules need, read fresh: positions, marks, open orders' sums, today's P&L, kill
    switches. Reads one item per open symbol, not every open order."""
    account = state.account
    assert account is not None
    books = _books(state.positions)
    open_sums = {symbol: OpenExposure(**sums) for symbol, sums in state.open_exposure.items()}
    unpriced = [symbol for symbol, sums in open_sums.items() if sums.unpriced]
    prices = store.last_prices([*books, spec.symbol, *unpriced])
    exposures = {s: b.quantity * prices[s] for s, b in books.items() if s in prices and b.quantity}
    cash = cash_of(account, books)
    equity = cash + sum(exposures.values(), ZERO)
    open_exposure = {symbol: sums.value(prices.get(symbol)) for symbol, sums in open_sums.items()}
    pending_close = open_sums[spec.symbol].closing(spec.side) if spec.symbol in open_sums else ZERO
    position = books[spec.symbol].quantity if spec.symbol in books else ZERO
    limits = RiskLimits.from_dict(account.limits)
    orders_this_second = 0
    if count_order:
        counted = store.count_order(account.account_id, limits.max_orders_per_second)
        orders_this_second = limits.max_orders_per_second if counted is None else counted - 1
    return RiskContext(
        last_price=prices.get(spec.symbol), position_quantity=position, exposures=exposures,
        open_order_exposure=open_exposure, cash=cash, equity=equity, orders_this_second=orders_this_second,
        daily_pnl=_daily_pnl(account, equity), account_killed=(account.kill or {}).get("reason"),
        global_killed=(store.global_kill() or {}).get("reason"), pending_close_quantity=pending_close,
    )  # fmt: skip


def _daily_pnl(account: store.AccountModel, equity: Decimal) -> Decimal:
    today = datetime.now(UTC).date().isoformat()
    if account.sod_date != today or account.sod_equity is None:
        store.set_start_of_day(account, today, equity)
        return ZERO
    return equity - Decimal(account.sod_equity)


def check_order(
    account_id: str, spec_data: Mapping[str, Any], publish: Publisher | None = None
) -> dict[str, Any]:
    """The pre-trade risk decision (run by the risk function): violations with their numbers + the context."""
    state = store.account_state(account_id)
    account = state.account
    if account is None:
        raise NotFound(f"No account {account_id}")
    spec = OrderSpec(
        symbol=str(spec_data["symbol"]), side=Side(spec_data["side"]), quantity=Decimal(spec_data["quantity"]),
        order_type=OrderType(spec_data["order_type"]), time_in_force=TimeInForce(spec_data["time_in_force"]),
        limit_price=_dec(spec_data.get("limit_price")), stop_price=_dec(spec_data.get("stop_price")),
    )  # fmt: skip
    limits = RiskLimits.from_dict(account.limits)
    ctx = risk_context(state, spec)
    violations = [v.to_dict() for v in evaluate(spec, ctx, limits)]
    if daily_loss_breached(ctx.daily_pnl, limits) and not account.kill:
        reason = f"daily loss limit: P&L today {ctx.daily_pnl} <= -{limits.daily_loss_limit}"
        set_kill_switch(account, True, reason, "risk", publish)
    return {
        "passed": not violations,
        "violations": violations,
        "context": {
            "last_price": None if ctx.last_price is None else str(ctx.last_price),
            "position": str(ctx.position_quantity), "cash": str(ctx.cash), "equity": str(ctx.equity),
            "daily_pnl": str(ctx.daily_pnl), "orders_this_second": ctx.orders_this_second,
            "gross_exposure": str(sum((abs(v) for v in ctx.exposures.values()), ZERO)),
            "daily_loss_limit_used_pct": str(round(daily_loss_used(ctx.daily_pnl, limits), 2)),
        },
    }  # fmt: skip


# ---------------------------------------------------------------------------------------- orders
def parse_order(request: OrderRequest) -> OrderSpec:
    try:
        spec = OrderSpec(
            symbol=request.symbol.upper(), side=Side(request.side), quantity=request.quantity,
            order_type=OrderType(request.order_type), time_in_force=TimeInForce(request.time_in_force),
            limit_price=request.limit_price, stop_price=request.stop_price,
        )  # fmt: skip
        validate_order(spec, TICK_SIZE, LOT_SIZE)
    except OrderProblem as exc:
        raise Unprocessable(exc.message, details={"field": exc.field}) from exc
    if not store.symbol_known(spec.symbol):
        raise Unprocessable(
            f"Unknown symbol {spec.symbol!r}: GET /v1/marketdata/symbols lists the tradable ones",
            details={"field": "symbol"},
        )
    return spec


def submit_order(
    caller: Caller, account_id: str, request: OrderRequest, check_risk: RiskChecker, publish: Publisher,
    idempotency_key: str | None = None,
) -> OrderView:  # fmt: skip
    """Validate, ask pre-trade risk, and store the order ACCEPTED or REJECTED (with the rules and numbers).

    With an Idempotency-Key the order is written together with the key's claim, so however often the request
    is retried (after a timeout, a crashed worker, an expired idempotency record) the key has one order."""
    caller.require_any("trader")
    require_owner(caller, account_id)
    spec = parse_order(request)
    decision = check_risk(account_id, {"symbol": spec.symbol, **_spec_dict(spec)})
    now = _now()
    accepted = bool(decision["passed"])
    status = transition(OrderStatus.NEW, OrderStatus.ACCEPTED if accepted else OrderStatus.REJECTED)
    order = store.OrderModel(
        account_id, new_order_id(), owner=caller.user_id, symbol=spec.symbol, status=str(status),
        spec=_spec_dict(spec, request.lot_ids), rejection=None if accepted else decision["violations"],
        strategy=request.strategy, client_order_id=request.client_order_id, created_at=now,
        accepted_at=now if accepted else None, updated_at=now, version=2,
        open_symbol=spec.symbol if accepted else None, open_account=account_id if accepted else None,
    )  # fmt: skip
    risk_data = {"risk": decision["context"], "violations": decision["violations"]}
    order.outbox = [
        _event(order, 1, "new", OrderStatus.NEW, {"by": caller.username}),
        _event(order, 2, "accepted" if accepted else "rejected", status, risk_data),
    ]
    claim = None
    if idempotency_key:
        fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        claim = (store.key_claim_sk(caller.user_id, idempotency_key), fingerprint)
    try:
        claimed_id = store.insert_order(order, open_exposure_of(order).changes(), claim)
    except store.KeyReused as exc:
        raise Unprocessable(
            "This Idempotency-Key was used for a different order; use a new key for a new order"
        ) from exc
    if claimed_id is not None:
        earlier = store.get_order(account_id, claimed_id)
        if earlier is None:  # the claim and its order are written in one transaction
            raise Conflict(f"Order {claimed_id} of this Idempotency-Key is not readable yet; retry")
        order = earlier
    flush_outbox(order, publish)  # for a retried key: finishes what a crashed first attempt left
    return order_view(order)


def _event(
    order: store.OrderModel, version: int, kind: str, status: OrderStatus | str, data: Any
) -> dict[str, Any]:
    return {"version": version, "kind": kind, "status": str(status), "at": order.updated_at, "data": data}


_DETAIL_TYPES = {
    "accepted": "OrderAccepted", "rejected": "OrderRejected", "fill": "OrderFilled", "canceled": "OrderCanceled",
    "expired": "OrderExpired", "replaced": "OrderReplaced",
}  # fmt: skip


def flush_outbox(order: store.OrderModel, publish: Publisher) -> None:
    """Write, apply and publish the order's pending events; each step idempotent (safe to repeat)."""
    pending = list(order.outbox or [])
    if not pending:
        return
    store.write_events(order, pending)
    for event in pending:
        if event["kind"] == "fill":
            apply_to_position(order.pk, fill_from_event(order, event))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in pending:
        if event["kind"] in _DETAIL_TYPES:
            by_type.setdefault(_DETAIL_TYPES[event["kind"]], []).append(_event_detail(order, event))
    for detail_type, details in by_type.items():
        publish(detail_type, details)
    store.clear_outbox(order)


def flush_pending_outboxes(settle_s: float, publish: Publisher) -> int:
    """Flush outboxes left behind by a writer that stopped after its order write (a killed worker): those of
    orders unchanged for ``settle_s`` seconds, so that a live writer normally flushes its own first."""
    cutoff = datetime.fromtimestamp(time.time() - settle_s, UTC).isoformat(timespec="microseconds")
    flushed = 0
    for account_id, order_id in store.orders_with_pending_outbox(cutoff):
        order = store.get_order(account_id, order_id)
        if order is not None and order.outbox:
            flush_outbox(order, publish)
            flushed += 1
    return flushed


def _event_detail(order: store.OrderModel, event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{order.order_id}:{event['version']}", "account_id": order.pk, "order_id": order.order_id,
        "symbol": order.symbol, "status": event["status"], "kind": event["kind"], "strategy": order.strategy,
        "at": event["at"], "data": event["data"],
    }  # fmt: skip


def _change(order: store.OrderModel, new_status: OrderStatus | None, kind: str, data: Any) -> None:
    """Apply a change to the item in memory (version + 1, its event into the outbox); ``new_status`` None keeps
    the status (a replace, a triggered stop), anything else must be a legal transition."""
    status = (
        OrderStatus(order.status) if new_status is None else transition(OrderStatus(order.status), new_status)
    )
    order.version = int(order.version) + 1
    order.status = str(status)
    order.updated_at = _now()
    if status in TERMINAL:
        order.open_symbol = None
        order.open_account = None
    order.outbox = [*(order.outbox or []), _event(order, order.version, kind, status, data)]


def _owned_order(caller: Caller, account_id: str, order_id: str) -> store.OrderModel:
    require_owner(caller, account_id)
    order = store.get_order(account_id, order_id)
    if order is None:
        raise NotFound(f"No order {order_id} in account {account_id}")
    return order


def get_order(caller: Caller, account_id: str, order_id: str) -> OrderView:
    return order_view(_owned_order(caller, account_id, order_id), with_events=True)


def cancel_order(
    caller: Caller, account_id: str, order_id: str, publish: Publisher, reason: str = ""
) -> OrderView:
    caller.require_any("trader")
    order = _owned_order(caller, account_id, order_id)
    return order_view(cancel_with_reason(order, reason or f"canceled by {caller.username}", publish))


def finish(order: store.OrderModel, status: OrderStatus, kind: str, reason: str, publish: Publisher) -> None:
    """Move an open order to a terminal state (canceled / expired) with the reason in its event."""
    expected, before = int(order.version), open_exposure_of(order)
    try:
        _change(order, status, kind, {"reason": reason})
    except IllegalTransition as exc:
        raise Conflict(f"Order {order.order_id} is {order.status}: it can no longer be {kind}") from exc
    _save(order, expected, before)
    flush_outbox(order, publish)


def cancel_with_reason(order: store.OrderModel, reason: str, publish: Publisher) -> store.OrderModel:
    finish(order, OrderStatus.CANCELED, "canceled", reason, publish)
    return order


def mark_stop_triggered(order: store.OrderModel, reason: str) -> None:
    """A stop that triggered without filling (e.g. a stop-limit whose limit was not reached) stays triggered."""
    expected, before = int(order.version), open_exposure_of(order)
    order.stop_triggered = 1
    _change(order, None, "stop_triggered", {"reason": reason})
    _save(order, expected, before)
    flush_outbox(order, lambda *_: None)


def _save(order: store.OrderModel, expected_version: int, before: OpenExposure) -> None:
    """Write the changed order if nobody changed it since it was read (``before``: its open exposure then)."""
    try:
        store.save_order(order, expected_version, (open_exposure_of(order) - before).changes())
    except store.OrderChanged as exc:
        raise Conflict(
            f"Order {order.order_id} changed meanwhile (a fill or another request); retry"
        ) from exc


def replace_order(
    caller: Caller, account_id: str, order_id: str, request: ReplaceRequest, check_risk: RiskChecker,
    publish: Publisher,
) -> OrderView:  # fmt: skip
    """Cancel/replace in place: new quantity or prices, risk-checked again; the order keeps its id."""
    caller.require_any("trader")
    order = _owned_order(caller, account_id, order_id)
    if OrderStatus(order.status) not in OPEN:
        raise Conflict(f"Order {order_id} is {order.status}: only open orders can be replaced")
    try:
        spec = apply_replace(
            order_spec(order), Decimal(order.filled_quantity), request.quantity, request.limit_price,
            request.stop_price, tick_size=TICK_SIZE, lot_size=LOT_SIZE,
        )  # fmt: skip
    except OrderProblem as exc:
        raise Unprocessable(exc.message, details={"field": exc.field}) from exc
    delta = spec.quantity - Decimal(order.spec["quantity"])
    # The replacement is checked for the quantity it adds (at least one lot, so that new prices meet the collar).
    checked = {"symbol": spec.symbol, **_spec_dict(spec), "quantity": str(max(delta, LOT_SIZE))}
    decision = check_risk(account_id, checked)
    if not decision["passed"]:
        raise Unprocessable("The replacement breaks pre-trade risk limits", details=decision["violations"])
    expected, before = int(order.version), open_exposure_of(order)
    order.spec = _spec_dict(spec, order.spec.get("lot_ids", ()))
    _change(order, None, "replaced", {"spec": order.spec, "risk": decision["context"]})
    _save(order, expected, before)
    flush_outbox(order, publish)
    return order_view(order)


def list_orders(
    caller: Caller, account_id: str, limit: int, cursor: str | None, status: str | None, symbol: str | None
) -> tuple[list[OrderView], str | None]:
    require_owner(caller, account_id)
    orders, next_cursor = store.query_orders(account_id, limit, cursor, status, symbol)
    return [order_view(o) for o in orders], next_cursor


# ---------------------------------------------------------------------------------------- fills
def fill_from_event(order: store.OrderModel, event: Mapping[str, Any]) -> Fill:
    data = event["data"]
    return Fill(
        fill_id=data["fill_id"], order_id=order.order_id, symbol=order.symbol, side=order.spec["side"],
        quantity=Decimal(data["quantity"]), price=Decimal(data["price"]), fee=Decimal(data["fee"]),
        ts=datetime.fromisoformat(data["ts"]), strategy=order.strategy,
        lot_ids=tuple(order.spec.get("lot_ids") or ()),
    )  # fmt: skip


def record_fill(
    order: store.OrderModel, fill_id: str, quantity: Decimal, price: Decimal, fee: Decimal, ts: datetime,
    cancel_rest: bool, reason: str, publish: Publisher,
) -> None:  # fmt: skip
    """Book a fill on the order (the commit point), then flush: event, position, history, bus."""
    if fill_id in (order.fills or {}):
        flush_outbox(order, publish)  # a retried bar: finish what the first attempt may have left
        return
    expected, before = int(order.version), open_exposure_of(order)
    filled = Decimal(order.filled_quantity) + quantity
    previous_cost = Decimal(order.average_price or 0) * Decimal(order.filled_quantity)
    order.filled_quantity = str(filled)
    order.average_price = str((previous_cost + quantity * price) / filled)
    order.fees = str(Decimal(order.fees) + fee)
    done = filled >= Decimal(order.spec["quantity"])
    data = {"fill_id": fill_id, "quantity": str(quantity), "price": str(price), "fee": str(fee),
            "ts": ts.isoformat(), "reason": reason}  # fmt: skip
    _change(order, OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED, "fill", data)
    order.fills = {**(order.fills or {}), fill_id: {**data, "version": order.version}}
    if cancel_rest and not done:
        _change(order, OrderStatus.CANCELED, "canceled", {"reason": reason})
    _save(order, expected, before)
    flush_outbox(order, publish)


def apply_to_position(account_id: str, fill: Fill) -> None:
    """Add a fill to its position with optimistic concurrency; a fill already in the book changes nothing."""
    account = store.get_account(account_id)
    method = ReliefMethod(account.lot_method if account else "fifo")
    if fill.lot_ids:
        method = ReliefMethod.SPECIFIC
    for _attempt in range(POSITION_RETRIES):
        item = store.get_position(account_id, fill.symbol)
        if item is not None and fill.fill_id in (item.fill_ids or set()):
            return
        book = PositionBook.from_dict(item.book) if item else PositionBook.empty(fill.symbol)
        new_book, realizations = apply_fill(book, fill, method)
        expected = None if item is None else int(item.version)
        updated = store.PositionModel(
            store.account_pk(account_id), f"POS#{fill.symbol}", book=new_book.to_dict(),
            version=(expected or 0) + 1, fill_ids={*(item.fill_ids or set()), fill.fill_id} if item else {fill.fill_id},
        )  # fmt: skip
        try:
            store.save_position(updated, expected)
        except PutError as exc:
            if store.is_conditional_failure(exc):
                time.sleep(secrets.randbelow(5) / 1000)  # another fill of this symbol won: re-read, re-apply
                continue
            raise
        store.append_record(
            account_id, f"FILL#{fill.ts.isoformat()}#{fill.fill_id}",
            {"fill": fill.to_dict(), "realizations": [r.to_dict() for r in realizations]},
        )  # fmt: skip
        return
    raise Conflict(
        f"Position {fill.symbol} of account {account_id} is too contended; the fill will be retried"
    )


# ---------------------------------------------------------------------------------------- kill switch
def set_kill_switch(
    account: store.AccountModel, engaged: bool, reason: str, by: str, publish: Publisher | None
) -> store.AccountModel:
    """Engage (cancel every open order, block new ones) or reset; each change is kept in the history."""
    at = _now()
    state = {"reason": reason, "at": at, "by": by} if engaged else None
    store.update_account(account, kill=state)
    store.append_record(account.account_id, f"KILL#{at}", {"engaged": engaged, "reason": reason, "by": by})
    if publish:
        publish("KillSwitch", [{"id": f"{account.account_id}:{at}", "account_id": account.account_id,
                                "engaged": engaged, "reason": reason, "by": by, "at": at}])  # fmt: skip
    if engaged:
        cancel_all_open(account.account_id, f"kill switch: {reason}", publish)
    return account


def cancel_all_open(account_id: str, reason: str, publish: Publisher | None) -> int:
    canceled = 0
    for open_order in store.open_orders_of_account(account_id):
        order: store.OrderModel | None = open_order
        for _attempt in range(5):  # a fill may change the order between the read and the cancel
            if order is None or OrderStatus(order.status) not in OPEN:
                break
            try:
                cancel_with_reason(order, reason, publish or (lambda *_: None))
                canceled += 1
                break
            except Conflict:
                order = store.get_order(account_id, open_order.order_id)
    return canceled


def set_global_kill_switch(
    caller: Caller, engaged: bool, reason: str, publish: Publisher
) -> dict[str, Any] | None:
    if not caller.is_admin:
        raise Forbidden("Only admins operate the global kill switch")
    at = _now()
    state = {"reason": reason, "at": at, "by": caller.username} if engaged else None
    store.set_global_kill(state)
    publish("KillSwitch", [{"id": f"global:{at}", "account_id": None, "engaged": engaged, "reason": reason,
                            "by": caller.username, "at": at}])  # fmt: skip
    if engaged:
        for account_id in store.accounts_with_open_orders():
            cancel_all_open(account_id, f"global kill switch: {reason}", publish)
    return state


def operate_kill_switch(
    caller: Caller, account_id: str, engaged: bool, reason: str, publish: Publisher
) -> store.AccountModel:
    account = owned_account(caller, account_id)
    if engaged:
        caller.require_any("trader")
    elif not caller.is_admin:
        raise Forbidden("Only an admin resets a kill switch")
    return set_kill_switch(account, engaged, reason, caller.username, publish)
