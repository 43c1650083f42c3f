"""Notifications: per-user preferences, and turning domain events and ops alarms into deliveries.

Kinds and who receives them:
- ``order_filled``, ``risk_rejection`` (OrderFilled, OrderRejected) and an account's ``kill_switch``: the
  account's owner only (``trading_store.get_account(id).owner``);
- ``sweep_finished`` (SweepFinished, published by the sweep's last step with its ``owner``; or the sweep state
  machine's TIMED_OUT/ABORTED status change, whose owner is the sweep record's) and ``strategy_error``
  (StrategyError, published by the strategy runtime with the slot's ``owner``): that owner only;
- the global ``kill_switch`` and ``model_promoted`` (ModelRegistered with stage champion, or ModelPromoted):
  every user who subscribed to the kind;
- ``alarm`` (a CloudWatch alarm notification from the ops SNS topic): subscribed admins only.

Each (event id, channel) is delivered at most once: the delivery log entry is claimed before sending.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import notifications as store
from trade2026.auth import Caller
from trade2026.errors import BadRequest

Kind = Literal[
    "order_filled",
    "risk_rejection",
    "kill_switch",
    "sweep_finished",
    "model_promoted",
    "strategy_error",
    "alarm",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
MAX_CHANNELS = 5


class PreferencesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhooks: list[str] = Field(default_factory=list, max_length=MAX_CHANNELS, description="http(s) URLs")
    emails: list[str] = Field(default_factory=list, max_length=MAX_CHANNELS)
    kinds: list[Kind] = Field(default_factory=lambda: list(KINDS), description="what to be notified about")
    muted: bool = False


class PreferencesView(PreferencesRequest):
    model_config = ConfigDict(extra="ignore")

    updated_at: str | None = None


class DeliveryView(BaseModel):
    event: str
    kind: str
    title: str
    status: str
    detail: str
    at: str


class DeliveryList(BaseModel):
    deliveries: list[DeliveryView]


@dataclass
class Notice:
    """One thing to tell people about."""

    id: str
    kind: str
    title: str
    body: dict[str, Any]
    account_id: str | None = None  # deliver to this account's owner only
    user: str | None = None  # deliver to this user only (their Cognito sub)
    private: bool = False  # a private notice whose owner is unknown goes to nobody, never to every subscriber
    admins_only: bool = False
    metrics: list[str] = field(default_factory=list)  # custom metrics this event counts towards


# ------------------------------------------------------------------------------------------ preferences
def _email_ok(address: str) -> bool:
    local, _, domain = address.partition("@")
    return bool(local) and "." in domain and " " not in address and len(address) <= 254


def save_preferences(caller: Caller, request: PreferencesRequest, local: bool) -> PreferencesView:
    for index, url in enumerate(request.webhooks):
        problem = store.check_webhook_url(url, local)
        if problem:
            raise BadRequest(f"webhooks[{index}] {url!r}: {problem}")
    for index, address in enumerate(request.emails):
        if not _email_ok(address):
            raise BadRequest(f"emails[{index}] {address!r} is not an email address")
    channels = [{"type": "webhook", "url": u} for u in dict.fromkeys(request.webhooks)]
    channels += [{"type": "email", "address": a} for a in dict.fromkeys(request.emails)]
    item = store.put_preferences(
        caller.user_id, channels, sorted(set(request.kinds)), request.muted, caller.is_admin
    )
    return _view(item)


def get_preferences(caller: Caller) -> PreferencesView:
    item = store.get_preferences(caller.user_id)
    return PreferencesView(kinds=[]) if item is None else _view(item)


def _view(item: store.NotificationItem) -> PreferencesView:
    channels = item.channels or []
    return PreferencesView(
        webhooks=[c["url"] for c in channels if c["type"] == "webhook"],
        emails=[c["address"] for c in channels if c["type"] == "email"],
        kinds=list(item.kinds or []),
        muted=bool(item.muted),
        updated_at=item.updated_at,
    )


def list_deliveries(caller: Caller, limit: int) -> DeliveryList:
    return DeliveryList(
        deliveries=[
            DeliveryView(
                event=i.sk.removeprefix("LOG#"),
                kind=i.kind or "",
                title=i.title or "",
                status=i.status or "",
                detail=i.detail or "",
                at=i.at or "",
            )
            for i in store.deliveries(caller.user_id, limit)
        ]
    )


# ------------------------------------------------------------------------------------- events -> notices
def _violations(detail: dict[str, Any]) -> list[str]:
    data = detail.get("data") or {}
    return [str(v.get("rule", v)) if isinstance(v, dict) else str(v) for v in data.get("violations") or []]


def _order_notice(detail_type: str, detail: dict[str, Any]) -> Notice:
    account, symbol, order = detail.get("account_id"), detail.get("symbol"), detail.get("order_id")
    if detail_type == "OrderFilled":
        fill = (detail.get("data") or {}).get("fill") or {}
        title = f"Order {order} {detail.get('status', 'filled').lower()}: {symbol}"
        if fill:
            title += f" {fill.get('quantity', '')} @ {fill.get('price', '')}"
        return Notice(
            str(detail.get("id", order)), "order_filled", title, detail, account, metrics=["OrderFills"]
        )
    rules = _violations(detail)
    title = f"Order {order} on {symbol} rejected by risk: {', '.join(rules) or 'see details'}"
    hit = ["DailyLossLimitHit"] if "daily_loss_limit" in rules else []
    return Notice(str(detail.get("id", order)), "risk_rejection", title, detail, account, metrics=hit)


def _kill_notice(detail: dict[str, Any]) -> Notice:
    account = detail.get("account_id")
    engaged = bool(detail.get("engaged"))
    scope = f"account {account}" if account else "GLOBAL"
    title = f"Kill switch {'ENGAGED' if engaged else 'reset'} ({scope}): {detail.get('reason', '')}"
    counted = ["KillSwitchEngaged"] if engaged else []
    if engaged and str(detail.get("reason", "")).startswith("daily loss limit"):
        counted.append("DailyLossLimitHit")
    event_id = str(detail.get("id") or f"{account or 'global'}:{detail.get('at')}")
    return Notice(event_id, "kill_switch", title, detail, account, metrics=counted)


def _sweep_notice(detail: dict[str, Any]) -> Notice:
    sweep_id, status = detail.get("sweep_id", ""), detail.get("status", "")
    title = f"Sweep {sweep_id} finished: {status}"
    summary = detail.get("summary") or {}
    if summary.get("pbo") is not None:
        title += f" (PBO {float(summary['pbo']):.2f})"
    if detail.get("error"):
        title += f" - {str(detail['error'])[:200]}"
    event_id = str(detail.get("id") or f"sweep:{sweep_id}:{status}")
    return Notice(event_id, "sweep_finished", title, detail, user=detail.get("owner"), private=True)


def _sfn_notice(event: dict[str, Any], sweep_owner: Callable[[str], str | None]) -> Notice:
    """A sweep execution that ended without reaching its last step (timed out, aborted): its owner is told."""
    detail = event.get("detail") or {}
    sweep_id = str(detail.get("name", ""))  # the sweep's execution is named after the sweep
    notice = _sweep_notice(
        {**detail, "sweep_id": sweep_id, "id": f"sweep:{sweep_id}:{detail.get('status', '')}"}
    )
    notice.user = sweep_owner(sweep_id) if sweep_id else None
    return notice


def _strategy_notice(event: dict[str, Any], detail: dict[str, Any]) -> Notice:
    strategy = detail.get("strategy_id", detail.get("strategy", ""))
    where = f" in slot {detail['slot']}" if detail.get("slot") else ""
    title = f"Strategy {strategy}{where} error (slot paused): {detail.get('error', '')}"[:300]
    event_id = str(detail.get("id", event.get("id", "")))
    return Notice(event_id, "strategy_error", title, detail, user=detail.get("owner"), private=True)


def notice_from_event(
    event: dict[str, Any], sweep_owner: Callable[[str], str | None] = lambda _sweep_id: None
) -> Notice | None:
    """The notice an EventBridge event gives (None for events nobody is told about)."""
    detail_type = event.get("detail-type", "")
    detail = event.get("detail") or {}
    if detail_type in ("OrderFilled", "OrderRejected"):
        return _order_notice(detail_type, detail)
    if detail_type == "KillSwitch":
        return _kill_notice(detail)
    if detail_type in ("ModelRegistered", "ModelPromoted"):
        if detail_type == "ModelRegistered" and detail.get("stage") != "champion":
            return None
        title = f"Model {detail.get('family', '')} v{detail.get('version', '')} promoted to champion"
        return Notice(str(detail.get("id", detail.get("model_id", ""))), "model_promoted", title, detail)
    if detail_type == "SweepFinished":
        return _sweep_notice(detail)
    if detail_type == "Step Functions Execution Status Change":
        return _sfn_notice(event, sweep_owner)
    if detail_type == "StrategyError":
        return _strategy_notice(event, detail)
    return None


def notice_from_alarm(message: str, message_id: str) -> Notice:
    """A CloudWatch alarm notification (the SNS message JSON)."""
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = {"AlarmName": "unknown", "NewStateValue": "?", "NewStateReason": message[:300]}
    title = f"{alarm.get('NewStateValue')}: {alarm.get('AlarmName')} - {alarm.get('NewStateReason', '')}"
    event_id = f"{alarm.get('AlarmName')}:{alarm.get('StateChangeTime', message_id)}"
    return Notice(event_id, "alarm", title[:300], alarm, admins_only=True)


# ---------------------------------------------------------------------------------------------- delivery
@dataclass
class Delivery:
    user: str
    channel: str
    status: str


def recipients(notice: Notice, owner_of: Callable[[str], str | None]) -> list[store.NotificationItem]:
    """Who is told: the account's owner, the notice's user, or (broadcast kinds) every subscriber."""
    if notice.account_id or notice.user or notice.private:
        owner = owner_of(notice.account_id) if notice.account_id else notice.user
        prefs = store.get_preferences(owner) if owner else None
        wanted = prefs is not None and not prefs.muted and notice.kind in (prefs.kinds or [])
        return [prefs] if wanted and prefs is not None else []
    return store.subscribers(notice.kind, notice.admins_only)


def deliver(
    notice: Notice, people: Iterable[store.NotificationItem], local: bool, email_from: str
) -> list[Delivery]:
    payload = {"id": notice.id, "kind": notice.kind, "title": notice.title, "event": notice.body}
    done = []
    for person in people:
        for index, channel in enumerate(person.channels or []):
            key = f"{notice.id}#{index}"
            if not store.claim_delivery(person.user, key, notice.kind, notice.title):
                continue  # this event already went to this channel (a redelivered event)
            try:
                if channel["type"] == "webhook":
                    status = store.post_webhook(channel["url"], payload, local)
                else:
                    status = store.send_email(
                        email_from, channel["address"], notice.title, json.dumps(payload)
                    )
                outcome = "skipped" if status.startswith("skipped") else "delivered"
            except Exception as error:  # one bad channel must not stop the others
                status, outcome = f"failed: {type(error).__name__}: {error}", "failed"
            store.finish_delivery(person.user, key, outcome, status)
            done.append(Delivery(person.user, channel["type"], outcome))
    return done


def test_notice(caller: Caller) -> Notice:
    return Notice(
        f"test:{caller.user_id}:{store._now()}",
        "test",
        "Test notification from Trade2026",
        {"by": caller.username},
    )
