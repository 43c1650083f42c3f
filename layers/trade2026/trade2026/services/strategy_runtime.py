"""The live runtime: a `BarClosed` event -> every active slot trading the symbol -> strategy -> orders (OMS).

Per (slot, bar), exactly once:
1. Read the slot (consistent): the version in force AT THIS EVENT. A swap committed before the read applies,
   one committed after applies from the next event; nothing is restarted or cached across swaps (versions
   past draft are immutable, so caching their definition by (id, version) is safe).
2. Decide: the strategy's target with its inputs, turned into order legs against the current position.
3. Record the decision with attribute_not_exists on (slot, bar, mode). A redelivered or concurrent duplicate
   loses that race, reads the winner's record and only finishes it, so no bar is decided twice and the
   orders are always the recorded plan's, attributed to the version that decided (``strategy="<id>@<v>"``).
4. Submit each leg through the OMS (pre-trade risk included) with an idempotency key derived from
   (account, slot, bar id, leg): re-submitting after a crash returns the first answer instead of a second order.
A strategy that raises is isolated: its decision records the error and its slot is paused with it (other
slots keep running). A shadow version decides on the same bar and records the orders it would have sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

import numpy as np

from trade2026.adapters import strategy_store as store
from trade2026.adapters import trading_store
from trade2026.auth import Caller
from trade2026.domain import live_strategies as live
from trade2026.domain import strategy_lifecycle as lifecycle
from trade2026.domain.trading.orders import OPEN, OrderStatus
from trade2026.errors import ServiceUnavailable, Trade2026Error
from trade2026.observability import logger
from trade2026.services.trading_models import OrderRequest

HistoryReader = Callable[
    [str, int, int], Mapping[str, np.ndarray]
]  # (symbol, end ns, bars) -> ts, close, ...
Submitter = Callable[[str, Caller, str, OrderRequest], dict[str, Any]]  # (key, owner, account, order) -> view
PredictorFactory = Callable[[], live.Predictor | None]


@dataclass
class Runtime:
    submit: Submitter
    history: HistoryReader
    predictor: PredictorFactory = field(default=lambda: None)
    _versions: dict[tuple[str, int], tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def version(self, strategy_id: str, version: int) -> tuple[str, str, dict[str, Any]]:
        """(state, code, params) of a version; cached only once immutable (its state is re-read if paper)."""
        key = (strategy_id, version)
        cached = self._versions.get(key)
        if cached is not None and cached[0] == lifecycle.State.LIVE:
            return cached
        item = store.get_version(strategy_id, version)
        if item is None:
            raise live.StrategyInputError(f"version {version} of strategy {strategy_id} does not exist")
        value = (str(item.state), str(item.code), dict(item.params))
        if lifecycle.immutable(item.state):
            self._versions[key] = value
        return value


@dataclass
class BarReport:
    bar_id: str
    slots: int = 0
    decided: int = 0
    duplicates: int = 0
    orders: int = 0
    shadow: int = 0
    paused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class SlotsFailed(ServiceUnavailable):
    """Slots failed on infrastructure (the event is to be redelivered); ``reports`` still say what happened,
    e.g. slots a failing strategy paused on the same bar, which must be announced all the same."""

    def __init__(self, message: str, reports: list[BarReport]) -> None:
        super().__init__(message)
        self.reports = reports


def _bars_for(runtime: Runtime, bar: live.Bar, wanted: int) -> dict[str, np.ndarray]:
    """The symbol's bars up to and including this one (the current bar appended if the lake has not got it)."""
    current = {"ts": np.array([bar.start], dtype=np.int64), "close": np.array([bar.close])}
    if wanted <= 1:
        return current
    history = runtime.history(bar.symbol, bar.end, wanted)
    ts = np.asarray(history["ts"], dtype=np.int64)
    keep = ts < bar.start
    bars = {k: np.asarray(v)[keep][-(wanted - 1):] for k, v in history.items()}  # fmt: skip
    bars["ts"] = np.append(bars["ts"], bar.start).astype(np.int64)
    bars["close"] = np.append(bars["close"].astype(np.float64), bar.close)
    for name in ("open", "high", "low", "volume"):
        if name in bars:
            value = getattr(bar, name)
            bars[name] = np.append(bars[name].astype(np.float64), np.nan if value is None else value)
    return bars


_SIGN = {"buy": 1, "cover": 1, "sell": -1, "short": -1}


def _position(account_id: str, symbol: str) -> Decimal:
    """Shares the account will hold once its open orders fill: summed over its orders of the symbol, each item
    read whole (filled quantity, plus the rest while the order is open). The position item is not used: it is
    updated after the order's fill commits (outbox), so reading it beside the open orders could miss or double a
    fill that lands in between; each order item changes atomically."""
    total = Decimal(0)
    for order in trading_store.OrderModel.query(account_id, filter_condition=trading_store.OrderModel.symbol == symbol,
                                                consistent_read=True):  # fmt: skip
        counted = (
            Decimal(order.spec["quantity"])
            if OrderStatus(order.status) in OPEN
            else Decimal(order.filled_quantity)
        )
        total += _SIGN[order.spec["side"]] * counted
    return total


def target_shares(target: float, capital: Decimal, price: float) -> Decimal:
    """Whole shares worth target x capital at the price, rounded toward zero."""
    if not math.isfinite(target) or price <= 0:
        return Decimal(0)
    shares = Decimal(str(target)) * capital / Decimal(str(price))
    return shares.quantize(Decimal(1), rounding=ROUND_DOWN)


def _plan(
    slot: store.SlotItem, bar: live.Bar, decision: live.Decision, current: Decimal
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    wanted = target_shares(decision.target, Decimal(slot.capital), bar.close)
    legs = live.orders_for_target(float(current), float(wanted))
    plan = [
        {"side": side, "quantity": str(Decimal(str(qty)).quantize(Decimal(1))),
         "key": f"{slot.account_id}:{slot.sk}:{bar.id}:{index}"}
        for index, (side, qty) in enumerate(legs)
    ]  # fmt: skip
    return plan, {"position": str(current), "target_shares": str(wanted), "capital": slot.capital}


def _decide(runtime: Runtime, strategy_id: str, version: int, bar: live.Bar) -> tuple[str, live.Decision]:
    state, code, params = runtime.version(strategy_id, version)
    strategy = live.build(code, params)
    predictor = runtime.predictor() if code in ("ml_alpha", "hybrid") else None
    view = live.MarketView(_bars_for(runtime, bar, strategy.history), predictor)
    return state, strategy.on_bar(view, bar)


def _record(
    slot: store.SlotItem, bar: live.Bar, mode: str, ref: dict[str, Any], **fields: Any
) -> store.DecisionItem:
    return store.DecisionItem(
        store.decisions_pk(slot.account_id, slot.sk), store.decision_sk(bar.end, mode, bar.id), mode=mode,
        bar_id=bar.id, symbol=bar.symbol, strategy=f"{ref['strategy_id']}@{int(ref['version'])}",
        slot_revision=int(slot.revision), at=store.now_iso(), **fields,
    )  # fmt: skip


def _submit_plan(runtime: Runtime, slot: store.SlotItem, item: store.DecisionItem) -> list[dict[str, Any]]:
    owner = Caller(slot.owner, slot.owner_name or slot.owner, None, frozenset({"trader"}))
    results = []
    for leg in item.plan or []:
        order = OrderRequest(symbol=item.symbol, side=leg["side"], quantity=Decimal(leg["quantity"]),
                             order_type="market", time_in_force="day", strategy=item.strategy,
                             client_order_id=leg["key"][-64:])  # fmt: skip
        try:
            view = runtime.submit(leg["key"], owner, slot.account_id, order)
            results.append({"id": view["id"], "status": view["status"], "side": leg["side"],
                            "quantity": leg["quantity"], "rejection": view.get("rejection")})  # fmt: skip
        except ServiceUnavailable:
            raise  # risk/OMS down: the event is retried, the recorded plan is finished then
        except Trade2026Error as exc:  # refused by the OMS (e.g. unknown symbol): recorded, not retried
            results.append({"id": None, "status": "refused", "side": leg["side"], "quantity": leg["quantity"],
                            "rejection": [{"rule": exc.code, "message": exc.message}]})  # fmt: skip
    return results


def run_live(
    runtime: Runtime, slot: store.SlotItem, bar: live.Bar, report: BarReport, position: Decimal | None = None
) -> Decimal:
    """Decide and order (once per slot and bar); returns the position the decision started from."""
    current = _position(slot.account_id, slot.symbol) if position is None else position
    ref = {"strategy_id": slot.strategy_id, "version": int(slot.version)}
    pk, sk = store.decisions_pk(slot.account_id, slot.sk), store.decision_sk(bar.end, "live", bar.id)
    item = store.get_decision(pk, sk)
    if item is None:
        try:
            state, decision = _decide(runtime, slot.strategy_id, int(slot.version), bar)
        except Exception as exc:  # any strategy failure pauses its slot, never the others
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("strategy failed; pausing its slot", extra={"slot": slot.slot_key, "error": error})
            store.record_decision(_record(slot, bar, "live", ref, status="error", error=error[:2000]))
            store.pause_slot(slot.account_id, slot.sk, int(slot.revision),
                             {"at": store.now_iso(), "bar_id": bar.id, "error": error[:2000]})  # fmt: skip
            report.paused.append(slot.slot_key)
            return current
        plan, sizing = _plan(slot, bar, decision, current)
        fresh = _record(slot, bar, "live", ref, status="decided", target=decision.target, signal=decision.signal,
                        inputs={**decision.inputs, **sizing}, plan=plan)  # fmt: skip
        if store.record_decision(fresh):
            item = fresh
            report.decided += 1
            if state == lifecycle.State.PAPER:
                store.count_paper_decision(slot.strategy_id, int(slot.version))
        else:
            item = store.get_decision(pk, sk)  # a concurrent duplicate decided first: finish ITS plan
    if item is None or item.status in ("ordered", "error"):
        report.duplicates += 1
        return current
    orders = _submit_plan(runtime, slot, item)
    store.set_decision_orders(item, orders)
    report.orders += sum(1 for o in orders if o["id"])
    return current


def run_shadow(
    runtime: Runtime, slot: store.SlotItem, bar: live.Bar, report: BarReport, position: Decimal
) -> None:
    """What the shadow version would have ordered from the same position the live decision started from."""
    ref = slot.shadow or {}
    if not ref:
        return
    try:
        _state, decision = _decide(runtime, ref["strategy_id"], int(ref["version"]), bar)
        plan, sizing = _plan(slot, bar, decision, position)
        item = _record(slot, bar, "shadow", ref, status="shadow", target=decision.target, signal=decision.signal,
                       inputs={**decision.inputs, **sizing}, plan=plan)  # fmt: skip
    except Exception as exc:  # a failing shadow is recorded; it never touches the live slot
        item = _record(slot, bar, "shadow", ref, status="error", error=f"{type(exc).__name__}: {exc}"[:2000])
    if store.record_decision(item):
        report.shadow += 1


def on_bar(
    runtime: Runtime, detail: Mapping[str, Any], slots: list[store.SlotItem] | None = None
) -> BarReport:
    """Run every active slot on the symbol for this bar; infrastructure failures are raised after all slots ran
    (the event is redelivered and the slots already done are recognised as duplicates)."""
    bar = live.Bar.from_detail(detail)
    report = BarReport(bar.id)
    candidates = store.active_slots(bar.symbol) if slots is None else slots
    failures: list[Exception] = []
    for candidate in candidates:
        slot = store.get_slot(candidate.account_id, candidate.sk)  # the version in force at this event
        if slot is None or slot.status != "active":
            continue
        report.slots += 1
        try:
            position = run_live(runtime, slot, bar, report)
            run_shadow(runtime, slot, bar, report, position)
        except Exception as exc:  # the other slots still run; the event is retried below
            logger.exception("slot failed", extra={"slot": slot.slot_key, "bar_id": bar.id})
            report.failed.append(slot.slot_key)
            failures.append(exc)
    if failures:
        raise SlotsFailed(f"{len(failures)} slot(s) failed on bar {bar.id}: {failures[0]}", [report])
    return report


def on_schedule(runtime: Runtime, latest_bar: Callable[[str], Mapping[str, Any] | None]) -> list[BarReport]:
    """Catch up: each active slot on its symbol's latest final bar (a no-op where BarClosed already ran); a
    symbol whose slots fail does not hold the others back."""
    by_symbol: dict[str, list[store.SlotItem]] = {}
    for slot in store.all_active_slots():
        by_symbol.setdefault(slot.symbol, []).append(slot)
    reports: list[BarReport] = []
    failures: list[str] = []
    for symbol, slots in sorted(by_symbol.items()):
        detail = latest_bar(symbol)
        if detail is None:
            continue
        try:
            reports.append(on_bar(runtime, detail, slots))
        except SlotsFailed as exc:  # the other symbols still catch up
            reports += exc.reports
            failures.append(str(exc))
    if failures:
        raise SlotsFailed("; ".join(failures), reports)
    return reports


# ------------------------------------------------------------------------------------ adapters for Lambda
def _interval_label(start: int, end: int) -> str:
    seconds = (end - start) // 1_000_000_000
    return {60: "1m", 86_400: "1d"}.get(seconds, f"{seconds}s")


def latest_bar_detail(symbol: str) -> dict[str, Any] | None:
    """The symbol's last final bar from the market state (the same id its BarClosed event carried)."""
    try:
        item = trading_store.LatestMarketModel.get(f"SYMBOL#{symbol}", "LATEST")
    except trading_store.LatestMarketModel.DoesNotExist:
        return None
    bar = item.last_bar or {}
    if bar.get("close") is None or bar.get("start") is None or bar.get("end") is None:
        return None
    start, end = int(bar["start"]), int(bar["end"])
    return {**bar, "symbol": symbol, "id": f"{symbol}:{_interval_label(start, end)}:{start}"}


def lake_history(lake: Any) -> HistoryReader:
    """Daily bars of a symbol up to a time, from the lake (pyarrow is imported on first use)."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    def read(symbol: str, end_ns: int, wanted: int) -> Mapping[str, np.ndarray]:
        meta = get_symbol(symbol)
        if meta is None:
            return {"ts": np.empty(0, dtype=np.int64), "close": np.empty(0)}
        query = mq.BarsQuery(symbol, "1d", mq.EARLIEST_NS, end_ns, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        return {"ts": bars.start[-wanted:], "open": bars.open[-wanted:], "high": bars.high[-wanted:],
                "low": bars.low[-wanted:], "close": bars.close[-wanted:], "volume": bars.volume[-wanted:]}  # fmt: skip

    return read


@dataclass
class EndpointPredictor:
    """The champion model behind its SageMaker endpoint (sagemaker-runtime invoke_endpoint; no xgboost here)."""

    model_id: str
    feature_set: str
    columns: list[str]
    meta: bool
    endpoint: str

    def predict(self, rows: list[list[float | None]]) -> list[float]:
        import json

        from trade2026.adapters.aws import client

        response = client("sagemaker-runtime").invoke_endpoint(
            EndpointName=self.endpoint, ContentType="application/json", Accept="application/json",
            Body=json.dumps({"instances": rows}),
        )  # fmt: skip
        return [float(p) for p in json.loads(response["Body"].read())["predictions"]]


def champion_predictor(family: str) -> EndpointPredictor | None:
    """The family's champion (or, without a family, the newest champion of any) if it has an endpoint."""
    from trade2026.adapters import model_registry as registry

    model = None
    if family:
        champion_id, _ = registry.champion(family)
        model = registry.get_model(champion_id) if champion_id else None
    else:
        model = next((m for m in registry.list_models() if m.stage == "champion" and m.endpoint), None)
    if model is None or not model.endpoint:
        return None
    lineage = model.lineage or {}
    return EndpointPredictor(
        model_id=str(model.model_id), feature_set=str(lineage["feature_set"]).split(":", 1)[0],
        columns=list(lineage["columns"]), meta=(lineage.get("label") or {}).get("kind") == "meta",
        endpoint=str(model.endpoint),
    )  # fmt: skip
