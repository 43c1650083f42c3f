"""Strategy library and deployment: strategies with immutable versions, gated lifecycle, slots with hot-swap.

A version's code and parameters can change only while it is a draft; once backtested it is frozen (409).
Transitions go through `domain.strategy_lifecycle` gates on evidence read here from the linked runs (the
backtests table) - never from numbers the caller sends. The validation evidence is the most recently linked
finished sweep (its PBO and deflated Sharpe), so linking sweeps until one passes does not help.

A slot (account, name) runs one version on one symbol. Deploy, swap, rollback and shadow changes are each ONE
conditional write of the slot item on the revision read: concurrent swaps cannot interleave, and the runtime,
which reads the slot at every event, applies a swap from the next event on. Every change emits
`StrategyDeployed` with the new revision.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import research_store
from trade2026.adapters import strategy_store as store
from trade2026.auth import Caller
from trade2026.domain import live_strategies as live
from trade2026.domain import strategy_lifecycle as lifecycle
from trade2026.errors import BadRequest, Conflict, NotFound, Unprocessable
from trade2026.services.trading_models import SYMBOL_PATTERN

Publisher = Callable[[str, list[dict[str, Any]]], None]
ModelLookup = Callable[[str], bool]  # model id -> exists


class StrategySettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    strategies_table: str = Field(alias="STRATEGIES_TABLE")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    backtests_table: str = Field("", alias="BACKTESTS_TABLE")
    model_registry_table: str = Field("", alias="MODEL_REGISTRY_TABLE")
    model_family: str = Field("", alias="STRATEGY_MODEL_FAMILY")
    max_pbo: float = Field(0.5, alias="STRATEGY_MAX_PBO")
    min_dsr: float = Field(0.95, alias="STRATEGY_MIN_DSR")
    min_paper_decisions: int = Field(20, alias="STRATEGY_MIN_PAPER_DECISIONS")

    @property
    def thresholds(self) -> lifecycle.Thresholds:
        return lifecycle.Thresholds(self.max_pbo, self.min_dsr, self.min_paper_decisions)


@cache
def strategy_settings() -> StrategySettings:
    import os

    return StrategySettings.model_validate(dict(os.environ))


# ------------------------------------------------------------------------------------ models
class StrategyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    code: str = Field(description="live strategy code: " + ", ".join(live.LIVE_STRATEGIES))
    description: str = Field("", max_length=2000)
    params: dict[str, Any] = Field(default_factory=dict, description="the first version's parameters")


class VersionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)
    notes: str = Field("", max_length=2000)


class VersionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] | None = None
    notes: str | None = Field(None, max_length=2000)


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backtests: list[str] = Field(default_factory=list, max_length=50)
    sweeps: list[str] = Field(default_factory=list, max_length=50)
    models: list[str] = Field(default_factory=list, max_length=50)


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["backtested", "validated", "paper", "live", "retired"]
    reason: str = Field("", max_length=500)


class SlotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy_id: str = Field(pattern=r"^[a-f0-9]{12}$")
    version: int = Field(ge=1)
    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN, description="required when the slot is new")
    capital: Decimal | None = Field(None, gt=0, le=Decimal("1e10"), description="notional at target 1.0")
    expected_revision: int | None = Field(None, ge=1, description="fail with 409 unless the slot is at it")


class ShadowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy_id: str | None = Field(None, pattern=r"^[a-f0-9]{12}$", description="null stops the shadow")
    version: int | None = Field(None, ge=1)


class StrategyView(BaseModel):
    id: str
    name: str
    kind: str
    code: str
    description: str
    owner: str
    created_at: str
    latest_version: int
    versions: list[dict[str, Any]] | None = None


class SlotView(BaseModel):
    account_id: str
    slot: str
    symbol: str
    strategy: str
    strategy_id: str
    version: int
    capital: str
    revision: int
    status: str
    previous: dict[str, Any] | None
    shadow: dict[str, Any] | None
    error: dict[str, Any] | None
    deployed_at: str
    deployed_by: str


# ------------------------------------------------------------------------------------ views
def version_view(item: store.VersionItem) -> dict[str, Any]:
    return {
        "strategy_id": item.strategy_id, "version": int(item.version), "state": item.state, "code": item.code,
        "params": item.params, "author": item.author, "created_at": item.created_at, "updated_at": item.updated_at,
        "notes": item.notes, "immutable": lifecycle.immutable(item.state), "backtests": list(item.backtests or []),
        "sweeps": list(item.sweeps or []), "models": list(item.models or []), "evidence": item.evidence,
        "history": item.history or [], "paper_decisions": int(item.paper_decisions or 0),
        "next_states": [str(s) for s in lifecycle.allowed_targets(item.state)],
    }  # fmt: skip


def strategy_view(item: store.StrategyItem, with_versions: bool = False) -> StrategyView:
    versions = [version_view(v) for v in store.versions_of(item.strategy_id)] if with_versions else None
    return StrategyView(
        id=item.strategy_id, name=item.name, kind=item.kind, code=item.code, description=item.description,
        owner=item.owner, created_at=item.created_at, latest_version=int(item.latest_version), versions=versions,
    )  # fmt: skip


def slot_view(slot: store.SlotItem) -> SlotView:
    return SlotView(
        account_id=slot.account_id, slot=slot.sk, symbol=slot.symbol, strategy=f"{slot.strategy_id}@{slot.version}",
        strategy_id=slot.strategy_id, version=int(slot.version), capital=slot.capital, revision=int(slot.revision),
        status=slot.status, previous=slot.previous, shadow=slot.shadow, error=slot.error,
        deployed_at=slot.deployed_at, deployed_by=slot.deployed_by,
    )  # fmt: skip


# ------------------------------------------------------------------------------------ library
def _params_or_422(code: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return live.validate(code, params)
    except live.StrategyInputError as exc:
        raise Unprocessable(
            str(exc), details={"field": "params" if code in live.LIVE_STRATEGIES else "code"}
        ) from None


def create_strategy(caller: Caller, request: StrategyRequest) -> StrategyView:
    caller.require_any("trader")
    if request.code not in live.LIVE_STRATEGIES:
        raise Unprocessable(f"unknown strategy code {request.code!r}; known: {sorted(live.LIVE_STRATEGIES)}",
                            details={"field": "code"})  # fmt: skip
    params = _params_or_422(request.code, request.params)
    strategy_id = secrets.token_hex(6)
    now = store.now_iso()
    item = store.StrategyItem(
        store.strategy_pk(strategy_id), "META", created_at=now, owner=caller.user_id, name=request.name,
        kind=live.LIVE_STRATEGIES[request.code].kind, code=request.code, description=request.description,
        latest_version=1,
    )  # fmt: skip
    store.create_strategy(item)
    store.create_version(_new_version(strategy_id, 1, request.code, params, caller, ""))
    return strategy_view(item, with_versions=True)


def _new_version(
    strategy_id: str, version: int, code: str, params: dict[str, Any], caller: Caller, notes: str
) -> store.VersionItem:
    now = store.now_iso()
    return store.VersionItem(
        store.strategy_pk(strategy_id), store.version_sk(version), version=version, state="draft", code=code,
        params=params, author=caller.username, created_at=now, updated_at=now, notes=notes,
        history=[{"from": None, "to": "draft", "at": now, "by": caller.username}],
    )  # fmt: skip


def get_strategy(strategy_id: str) -> store.StrategyItem:
    item = store.get_strategy(strategy_id)
    if item is None:
        raise NotFound(f"No strategy {strategy_id}")
    return item


def _editable(caller: Caller, item: store.StrategyItem) -> None:
    caller.require_any("trader")
    if item.owner != caller.user_id and not caller.is_admin:
        raise NotFound(f"No strategy {item.strategy_id} of yours")  # never reveal what is not yours to edit


def list_strategies() -> list[StrategyView]:
    return [strategy_view(item) for item in store.list_strategies()]


def delete_strategy(caller: Caller, strategy_id: str) -> None:
    """Only a strategy no slot runs or shadows, whose versions never left draft, can be deleted."""
    item = get_strategy(strategy_id)
    _editable(caller, item)
    frozen = [int(v.version) for v in store.versions_of(strategy_id) if lifecycle.immutable(v.state)]
    if frozen:
        raise Conflict(f"strategy {strategy_id} has versions past draft ({frozen}): retire them instead")
    using = slots_using(strategy_id)
    if using:
        raise Conflict(f"strategy {strategy_id} is deployed in slots {using}")
    store.delete_strategy(strategy_id)


def add_version(caller: Caller, strategy_id: str, request: VersionRequest) -> dict[str, Any]:
    item = get_strategy(strategy_id)
    _editable(caller, item)
    params = _params_or_422(item.code, request.params)
    version = store.next_version(strategy_id)
    created = _new_version(strategy_id, version, item.code, params, caller, request.notes)
    store.create_version(created)
    return version_view(created)


def get_version(strategy_id: str, version: int) -> store.VersionItem:
    item = store.get_version(strategy_id, version)
    if item is None:
        raise NotFound(f"No version {version} of strategy {strategy_id}")
    return item


def patch_version(caller: Caller, strategy_id: str, version: int, request: VersionPatch) -> dict[str, Any]:
    _editable(caller, get_strategy(strategy_id))
    item = get_version(strategy_id, version)
    if lifecycle.immutable(item.state):
        raise Conflict(
            f"version {version} of strategy {strategy_id} is {item.state}: a version is immutable once "
            "backtested; create a new version instead"
        )
    expected = int(item.revision)
    if request.params is not None:
        item.params = _params_or_422(item.code, request.params)
    if request.notes is not None:
        item.notes = request.notes
    if not store.save_version(item, expected):
        raise Conflict(f"version {version} of strategy {strategy_id} changed meanwhile; reload and retry")
    return version_view(item)


def _run_or_404(kind: str, run_id: str, caller: Caller) -> research_store.RunModel:
    run = research_store.get_run(kind, run_id)
    if run is None or (run.owner != caller.user_id and not caller.is_admin):
        raise NotFound(f"No {kind} {run_id}")
    if run.status != "SUCCEEDED":
        raise Conflict(f"{kind} {run_id} is {run.status}: only finished runs are evidence")
    return run


def link(
    caller: Caller, strategy_id: str, version: int, request: LinkRequest, model_exists: ModelLookup
) -> dict[str, Any]:
    """Link finished backtests/sweeps (the caller's) and registered models to a version (evidence)."""
    _editable(caller, get_strategy(strategy_id))
    item = get_version(strategy_id, version)
    if item.state == lifecycle.State.RETIRED:
        raise Conflict(f"version {version} of strategy {strategy_id} is retired")
    for run_id in request.backtests:
        _run_or_404("backtest", run_id, caller)
    for run_id in request.sweeps:
        _run_or_404("sweep", run_id, caller)
    for model_id in request.models:
        if not model_exists(model_id):
            raise NotFound(f"No model {model_id}")
    expected = int(item.revision)

    def merged(old: list[str] | None, new: list[str]) -> list[str]:
        old_list = list(old or [])
        return old_list + [x for x in new if x not in old_list]

    item.backtests = merged(item.backtests, request.backtests)
    # The newest link goes last even if it was linked before: the gate reads the last finished sweep.
    item.sweeps = [s for s in (item.sweeps or []) if s not in request.sweeps] + list(request.sweeps)
    item.models = merged(item.models, request.models)
    if not store.save_version(item, expected):
        raise Conflict(f"version {version} of strategy {strategy_id} changed meanwhile; reload and retry")
    return version_view(item)


def evidence_of(item: store.VersionItem) -> lifecycle.Evidence:
    finished = 0
    for run_id in item.backtests or []:
        run = research_store.get_run("backtest", run_id)
        finished += run is not None and run.status == "SUCCEEDED"
    pbo = dsr = None
    sweep_id = None
    for run_id in item.sweeps or []:
        run = research_store.get_run("sweep", run_id)
        if run is None or run.status != "SUCCEEDED":
            continue
        finished += 1
        summary = run.summary or {}
        sweep_id = run_id
        pbo = summary.get("pbo")  # FinishSweep stores the number (the full report is in the lake)
        dsr = (summary.get("deflated_sharpe") or {}).get("dsr")
    return lifecycle.Evidence(
        backtests=finished, pbo=None if pbo is None else float(pbo), dsr=None if dsr is None else float(dsr),
        sweep_id=sweep_id, paper_decisions=int(item.paper_decisions or 0),
    )  # fmt: skip


def transition(
    caller: Caller,
    strategy_id: str,
    version: int,
    request: TransitionRequest,
    thresholds: lifecycle.Thresholds,
) -> dict[str, Any]:
    """Move a version one step (gated). Retiring a version that a slot runs is refused (swap it out first)."""
    _editable(caller, get_strategy(strategy_id))
    item = get_version(strategy_id, version)
    evidence = evidence_of(item)
    try:
        new_state = lifecycle.check_transition(item.state, request.to, evidence, thresholds)
    except lifecycle.LifecycleError as exc:
        raise Conflict(str(exc)) from None
    except lifecycle.GateRefused as exc:
        raise Unprocessable(exc.reason, details={"gate": exc.gate, **exc.numbers}) from None
    if new_state == lifecycle.State.RETIRED:
        running = slots_using(strategy_id, version)
        if running:
            raise Conflict(f"version {version} runs in slots {running}: swap them to another version first")
    expected = int(item.revision)
    numbers = {"backtests": evidence.backtests, "pbo": evidence.pbo, "deflated_sharpe": evidence.dsr,
               "sweep_id": evidence.sweep_id, "paper_decisions": evidence.paper_decisions,
               "max_pbo": thresholds.max_pbo, "min_deflated_sharpe": thresholds.min_dsr}  # fmt: skip
    step = {"from": item.state, "to": str(new_state), "at": store.now_iso(), "by": caller.username,
            "reason": request.reason, "numbers": numbers}  # fmt: skip
    item.history = [*(item.history or []), step]
    item.state = str(new_state)
    item.evidence = numbers
    if not store.save_version(item, expected):
        raise Conflict(f"version {version} of strategy {strategy_id} changed meanwhile; reload and retry")
    return version_view(item)


# ------------------------------------------------------------------------------------ slots
def _deployable(
    strategy_id: str, version: int, states: frozenset[lifecycle.State], what: str
) -> store.VersionItem:
    item = get_version(strategy_id, version)
    if lifecycle.State(item.state) not in states:
        allowed = ", ".join(sorted(states))
        raise Conflict(
            f"version {version} of strategy {strategy_id} is {item.state}; {what} needs one of: {allowed}"
        )
    return item


def _publish_deployed(publish: Publisher, slot: store.SlotItem, action: str) -> None:
    publish("StrategyDeployed", [{
        "id": f"{slot.account_id}:{slot.sk}:{int(slot.revision)}", "account_id": slot.account_id, "slot": slot.sk,
        "action": action, "symbol": slot.symbol, "strategy": f"{slot.strategy_id}@{int(slot.version)}",
        "previous": slot.previous, "shadow": slot.shadow, "revision": int(slot.revision), "at": slot.deployed_at,
        "by": slot.deployed_by,
    }])  # fmt: skip


def _write_slot(slot: store.SlotItem, expected: int | None, publish: Publisher, action: str) -> SlotView:
    if not store.put_slot(slot, expected):
        raise Conflict(
            f"slot {slot.sk} of account {slot.account_id} changed meanwhile (expected revision {expected}); "
            "reload it and retry"
        )
    _publish_deployed(publish, slot, action)
    return slot_view(slot)


def get_slot(account_id: str, slot: str) -> store.SlotItem:
    item = store.get_slot(account_id, slot)
    if item is None:
        raise NotFound(f"No slot {slot} in account {account_id}")
    return item


def deploy(caller: Caller, account_id: str, slot: str, request: SlotRequest, publish: Publisher) -> SlotView:
    """Create the slot or hot-swap its version (one conditional write); a paused slot becomes active again."""
    caller.require_any("trader")
    _deployable(request.strategy_id, request.version, lifecycle.DEPLOYABLE, "a slot")
    current = store.get_slot(account_id, slot)
    if current is None:
        if request.symbol is None:
            raise BadRequest("symbol is required to create a slot")
        if request.expected_revision is not None:
            raise Conflict(f"slot {slot} does not exist (expected revision {request.expected_revision})")
        symbol = request.symbol.upper()
        previous, shadow, revision, capital = None, None, 0, request.capital or Decimal(100_000)
    else:
        if request.expected_revision is not None and request.expected_revision != int(current.revision):
            raise Conflict(
                f"slot {slot} is at revision {int(current.revision)}, not {request.expected_revision}"
            )
        symbol = (request.symbol or current.symbol).upper()
        previous = {"strategy_id": current.strategy_id, "version": int(current.version)}
        if previous == {"strategy_id": request.strategy_id, "version": request.version}:
            previous = current.previous  # resuming or re-sizing keeps the rollback target
        shadow, revision = current.shadow, int(current.revision)
        capital = request.capital or Decimal(current.capital)
    item = store.SlotItem(
        store.slot_pk(account_id), slot, owner=caller.user_id if current is None else current.owner,
        owner_name=caller.username if current is None else current.owner_name, symbol=symbol,
        strategy_id=request.strategy_id, version=request.version, capital=str(capital), revision=revision + 1,
        previous=previous, shadow=shadow, status="active", error=None, active_symbol=symbol,
        slot_key=f"{account_id}#{slot}", deployed_at=store.now_iso(), deployed_by=caller.username,
    )  # fmt: skip
    return _write_slot(
        item, None if current is None else revision, publish, "deploy" if current is None else "swap"
    )


def rollback(caller: Caller, account_id: str, slot: str, publish: Publisher) -> SlotView:
    """Swap back to the version the last swap replaced (one call, one conditional write)."""
    caller.require_any("trader")
    current = get_slot(account_id, slot)
    if not current.previous:
        raise Conflict(f"slot {slot} has no previous version to roll back to")
    target = current.previous
    _deployable(target["strategy_id"], int(target["version"]), lifecycle.DEPLOYABLE, "a rollback")
    revision = int(current.revision)
    current.previous = {"strategy_id": current.strategy_id, "version": int(current.version)}
    current.strategy_id, current.version = target["strategy_id"], int(target["version"])
    current.revision = revision + 1
    current.status, current.error, current.active_symbol = "active", None, current.symbol
    current.deployed_at, current.deployed_by = store.now_iso(), caller.username
    return _write_slot(current, revision, publish, "rollback")


def set_shadow(
    caller: Caller, account_id: str, slot: str, request: ShadowRequest, publish: Publisher
) -> SlotView:
    caller.require_any("trader")
    current = get_slot(account_id, slot)
    if (request.strategy_id is None) != (request.version is None):
        raise BadRequest("give both strategy_id and version (or neither, to stop the shadow)")
    shadow = None
    if request.strategy_id is not None and request.version is not None:
        _deployable(request.strategy_id, request.version, lifecycle.SHADOWABLE, "a shadow")
        shadow = {"strategy_id": request.strategy_id, "version": request.version}
    revision = int(current.revision)
    current.shadow = shadow
    current.revision = revision + 1
    current.deployed_at, current.deployed_by = store.now_iso(), caller.username
    return _write_slot(current, revision, publish, "shadow")


def slots_using(strategy_id: str, version: int | None = None) -> list[str]:
    """Slots ("account/slot") that run or shadow the strategy (any version, or just `version`)."""
    out = []
    for slot in store.all_slots():
        refs = [{"strategy_id": slot.strategy_id, "version": int(slot.version)}, slot.shadow or {}]
        if any(r.get("strategy_id") == strategy_id and version in (None, r.get("version")) for r in refs):
            out.append(f"{slot.account_id}/{slot.sk}")
    return out


def decision_view(item: store.DecisionItem) -> dict[str, Any]:
    return {
        "bar_id": item.bar_id, "mode": item.mode, "symbol": item.symbol, "strategy": item.strategy,
        "slot_revision": int(item.slot_revision), "at": item.at, "status": item.status,
        "target": None if item.target is None else float(item.target),
        "signal": None if item.signal is None else float(item.signal), "inputs": item.inputs, "plan": item.plan,
        "orders": item.orders, "error": item.error, "cursor": item.sk,
    }  # fmt: skip


def list_decisions(
    account_id: str, slot: str, limit: int, cursor: str | None, mode: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    get_slot(account_id, slot)
    items, next_cursor = store.decisions(account_id, slot, limit, cursor)
    views = [decision_view(i) for i in items if mode is None or i.mode == mode]
    return views, next_cursor
