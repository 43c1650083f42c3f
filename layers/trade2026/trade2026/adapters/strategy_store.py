"""Strategy library, deployment slots and the decisions log in one DynamoDB table (PynamoDB).

Items:
    pk = "STRAT#<id>",           sk = "META"          the strategy: name, kind, owner, latest version number
    pk = "STRAT#<id>",           sk = "V#<000001>"    a version: code, params, lifecycle state, links, history
    pk = "SLOT#<account>",       sk = "<slot>"        a deployment slot: symbol, version in force, previous,
                                                       shadow, revision (every swap is one conditional write)
    pk = "DEC#<account>#<slot>", sk = "<end ns>#<mode>#<bar id>"   one decision per (slot, bar, live|shadow):
                                                       written with attribute_not_exists (a redelivered bar
                                                       finds it and decides nothing twice)
GSIs: `listing` (entity, created_at) lists strategies; `active-symbol` (active_symbol, slot_key) is sparse:
only active slots carry active_symbol, so the runtime finds the slots trading a symbol with one Query.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

STRATEGY_ENTITY = "STRATEGY"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class ListingIndex(GlobalSecondaryIndex["StrategyItem"]):
    class Meta:
        index_name = "listing"
        projection = AllProjection()

    entity = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class StrategyItem(Model):
    class Meta:
        table_name = "strategies"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    entity = UnicodeAttribute(default=STRATEGY_ENTITY)
    created_at = UnicodeAttribute()
    owner = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    code = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    latest_version = NumberAttribute(default=0)
    listing = ListingIndex()

    @property
    def strategy_id(self) -> str:
        return self.pk.split("#", 1)[1]


class VersionItem(Model):
    class Meta:
        table_name = "strategies"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    state = UnicodeAttribute(default="draft")
    code = UnicodeAttribute()
    params = JSONAttribute()
    author = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    notes = UnicodeAttribute(default="")
    backtests = JSONAttribute(default=list)  # linked backtest ids
    sweeps = JSONAttribute(default=list)  # linked sweep ids, the most recently linked last
    models = JSONAttribute(default=list)  # linked model ids
    evidence = JSONAttribute(null=True)  # the numbers the last gate passed with
    history = JSONAttribute(default=list)  # [{from, to, at, by, numbers}]
    paper_decisions = NumberAttribute(default=0)
    revision = NumberAttribute(default=1)  # optimistic concurrency of version edits

    @property
    def strategy_id(self) -> str:
        return self.pk.split("#", 1)[1]


class ActiveSymbolIndex(GlobalSecondaryIndex["SlotItem"]):
    class Meta:
        index_name = "active-symbol"
        projection = AllProjection()

    active_symbol = UnicodeAttribute(hash_key=True)
    slot_key = UnicodeAttribute(range_key=True)


class SlotItem(Model):
    class Meta:
        table_name = "strategies"

    pk = UnicodeAttribute(hash_key=True)  # SLOT#<account>
    sk = UnicodeAttribute(range_key=True)  # slot name
    owner = UnicodeAttribute()
    owner_name = UnicodeAttribute(default="")
    symbol = UnicodeAttribute()
    strategy_id = UnicodeAttribute()
    version = NumberAttribute()
    capital = UnicodeAttribute()  # Decimal as a string
    revision = NumberAttribute(default=1)
    previous = JSONAttribute(null=True)  # {"strategy_id", "version"} the swap replaced (rollback target)
    shadow = JSONAttribute(null=True)  # {"strategy_id", "version"} run beside, never ordering
    status = UnicodeAttribute(default="active")  # active | paused
    error = JSONAttribute(null=True)  # why it was paused: {"at", "bar_id", "error"}
    active_symbol = UnicodeAttribute(null=True)
    slot_key = UnicodeAttribute()
    deployed_at = UnicodeAttribute()
    deployed_by = UnicodeAttribute()
    active_by_symbol = ActiveSymbolIndex()

    @property
    def account_id(self) -> str:
        return self.pk.split("#", 1)[1]


class DecisionItem(Model):
    class Meta:
        table_name = "strategies"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    mode = UnicodeAttribute()  # live | shadow
    bar_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    strategy = UnicodeAttribute()  # "<id>@<version>"
    slot_revision = NumberAttribute()
    at = UnicodeAttribute()
    status = UnicodeAttribute()  # decided | ordered | error
    target = NumberAttribute(null=True)
    signal = NumberAttribute(null=True)
    inputs = JSONAttribute(null=True)
    plan = JSONAttribute(null=True)  # [{"side", "quantity", "key"}] order legs
    orders = JSONAttribute(null=True)  # [{"id", "status", "side", "quantity", "rejection"}]
    error = UnicodeAttribute(null=True)


def bind_table(name: str) -> None:
    for model in (StrategyItem, VersionItem, SlotItem, DecisionItem):
        model.Meta.table_name = name


def strategy_pk(strategy_id: str) -> str:
    return f"STRAT#{strategy_id}"


def version_sk(version: int) -> str:
    return f"V#{version:06d}"


def slot_pk(account_id: str) -> str:
    return f"SLOT#{account_id}"


def decisions_pk(account_id: str, slot: str) -> str:
    return f"DEC#{account_id}#{slot}"


def decision_sk(end_ns: int, mode: str, bar_id: str) -> str:
    return f"{end_ns:020d}#{mode}#{bar_id}"


# ------------------------------------------------------------------------------------ strategies
def create_strategy(item: StrategyItem) -> None:
    item.save(condition=StrategyItem.pk.does_not_exist())


def get_strategy(strategy_id: str) -> StrategyItem | None:
    try:
        return StrategyItem.get(strategy_pk(strategy_id), "META", consistent_read=True)
    except StrategyItem.DoesNotExist:
        return None


def list_strategies(limit: int = 100) -> Iterator[StrategyItem]:
    return StrategyItem.listing.query(STRATEGY_ENTITY, scan_index_forward=False, limit=limit)


def delete_strategy(strategy_id: str) -> None:
    for item in VersionItem.query(strategy_pk(strategy_id), VersionItem.sk.startswith("V#")):
        item.delete()
    StrategyItem(strategy_pk(strategy_id), "META").delete()


def next_version(strategy_id: str) -> int:
    item = StrategyItem(strategy_pk(strategy_id), "META")
    item.update(actions=[StrategyItem.latest_version.add(1)], condition=StrategyItem.pk.exists())
    return int(item.latest_version)


# ------------------------------------------------------------------------------------ versions
def create_version(item: VersionItem) -> None:
    item.save(condition=VersionItem.sk.does_not_exist())


def get_version(strategy_id: str, version: int) -> VersionItem | None:
    try:
        return VersionItem.get(strategy_pk(strategy_id), version_sk(version), consistent_read=True)
    except VersionItem.DoesNotExist:
        return None


def versions_of(strategy_id: str) -> list[VersionItem]:
    return list(VersionItem.query(strategy_pk(strategy_id), VersionItem.sk.startswith("V#")))


def save_version(item: VersionItem, expected_revision: int) -> bool:
    """Conditional on the revision read (False when someone else changed the version meanwhile)."""
    item.revision = expected_revision + 1
    item.updated_at = now_iso()
    try:
        item.save(condition=VersionItem.revision == expected_revision)
    except PutError as exc:
        if conditional_failure(exc):
            return False
        raise
    return True


def count_paper_decision(strategy_id: str, version: int) -> None:
    VersionItem(strategy_pk(strategy_id), version_sk(version)).update(
        actions=[VersionItem.paper_decisions.add(1)], condition=VersionItem.sk.exists()
    )


# ------------------------------------------------------------------------------------ slots
def get_slot(account_id: str, slot: str) -> SlotItem | None:
    try:
        return SlotItem.get(slot_pk(account_id), slot, consistent_read=True)
    except SlotItem.DoesNotExist:
        return None


def slots_of(account_id: str) -> list[SlotItem]:
    return list(SlotItem.query(slot_pk(account_id), consistent_read=True))


def put_slot(item: SlotItem, expected_revision: int | None) -> bool:
    """The one conditional write of a deploy / swap / rollback / shadow change: a new slot must not exist,
    an existing one must still be at `expected_revision`. False if another writer won."""
    condition = (
        SlotItem.pk.does_not_exist() if expected_revision is None else SlotItem.revision == expected_revision
    )
    try:
        item.save(condition=condition)
    except PutError as exc:
        if conditional_failure(exc):
            return False
        raise
    return True


def pause_slot(account_id: str, slot: str, revision: int, error: dict[str, Any]) -> bool:
    """Pause the slot (out of the active index) with the error, unless it was swapped meanwhile."""
    item = SlotItem(slot_pk(account_id), slot)
    try:
        item.update(
            actions=[
                SlotItem.status.set("paused"),
                SlotItem.error.set(error),
                SlotItem.active_symbol.remove(),
            ],
            condition=SlotItem.revision == revision,
        )
    except UpdateError as exc:
        if conditional_failure(exc):
            return False
        raise
    return True


def active_slots(symbol: str) -> list[SlotItem]:
    return list(SlotItem.active_by_symbol.query(symbol))


def all_active_slots() -> list[SlotItem]:
    return list(SlotItem.active_by_symbol.scan())


# ------------------------------------------------------------------------------------ decisions
def record_decision(item: DecisionItem) -> bool:
    """Write once; False if this (slot, bar, mode) was already decided (a redelivered bar)."""
    try:
        item.save(condition=DecisionItem.sk.does_not_exist())
    except PutError as exc:
        if conditional_failure(exc):
            return False
        raise
    return True


def get_decision(pk: str, sk: str) -> DecisionItem | None:
    try:
        return DecisionItem.get(pk, sk, consistent_read=True)
    except DecisionItem.DoesNotExist:
        return None


def set_decision_orders(item: DecisionItem, orders: list[dict[str, Any]]) -> None:
    item.update(actions=[DecisionItem.orders.set(orders), DecisionItem.status.set("ordered")])


def decisions(
    account_id: str, slot: str, limit: int, cursor: str | None, newest_first: bool = True
) -> tuple[list[DecisionItem], str | None]:
    pk = decisions_pk(account_id, slot)
    last_key = {"pk": {"S": pk}, "sk": {"S": cursor}} if cursor else None
    page = DecisionItem.query(pk, scan_index_forward=not newest_first, limit=limit, last_evaluated_key=last_key,
                              consistent_read=True)  # fmt: skip
    items = list(page)
    next_cursor = items[-1].sk if page.last_evaluated_key and items else None
    return items, next_cursor


def all_slots() -> Iterator[SlotItem]:
    """Every slot (a filtered scan: slots are few; used by deletes and retirements, never per event)."""
    return SlotItem.scan(SlotItem.pk.startswith("SLOT#"), consistent_read=True)
