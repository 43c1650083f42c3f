"""Notifications: events to notices, webhook URL rules, preferences, delivery at most once per channel."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.dynamodb_tables import create_tables
from trade2026.adapters import notifications as store
from trade2026.auth import Caller
from trade2026.errors import BadRequest
from trade2026.services import notifications as svc


def test_each_event_kind_becomes_its_notice():
    # Given the domain events the platform publishes, Then each gives its kind, audience and counted metrics
    fill = svc.notice_from_event({"detail-type": "OrderFilled", "detail": {"id": "o:3", "account_id": "A",
                                  "order_id": "o", "symbol": "SPY", "status": "filled",
                                  "data": {"fill": {"quantity": "2", "price": "10"}}}})  # fmt: skip
    assert (
        fill
        and (fill.kind, fill.account_id, fill.id) == ("order_filled", "A", "o:3")
        and "2 @ 10" in fill.title
    )
    rejected = svc.notice_from_event({"detail-type": "OrderRejected", "detail": {"account_id": "A", "order_id": "o",
                                      "data": {"violations": [{"rule": "daily_loss_limit"}]}}})  # fmt: skip
    assert rejected and rejected.kind == "risk_rejection" and rejected.metrics == ["DailyLossLimitHit"]
    kill = svc.notice_from_event({"detail-type": "KillSwitch", "detail": {"account_id": None, "engaged": True,
                                  "reason": "daily loss limit: P&L today -5 <= -5", "at": "t"}})  # fmt: skip
    assert kill and kill.account_id is None and kill.metrics == ["KillSwitchEngaged", "DailyLossLimitHit"]
    reset = svc.notice_from_event(
        {"detail-type": "KillSwitch", "detail": {"account_id": "A", "engaged": False}}
    )
    assert reset and reset.metrics == []
    assert svc.notice_from_event({"detail-type": "ModelRegistered", "detail": {"stage": "candidate"}}) is None
    champion = svc.notice_from_event(
        {"detail-type": "ModelRegistered", "detail": {"id": "m", "stage": "champion"}}
    )
    assert champion and champion.kind == "model_promoted"
    sweep = svc.notice_from_event({"detail-type": "SweepFinished", "detail": {"id": "sweep:s1:SUCCEEDED",
                                   "sweep_id": "s1", "owner": "u1", "status": "SUCCEEDED",
                                   "summary": {"pbo": 0.125, "configs": 40}}})  # fmt: skip
    assert sweep and (sweep.kind, sweep.user, sweep.id) == ("sweep_finished", "u1", "sweep:s1:SUCCEEDED")
    assert "SUCCEEDED (PBO 0.12)" in sweep.title
    aborted = svc.notice_from_event({"detail-type": "Step Functions Execution Status Change", "id": "e",
                                     "detail": {"name": "s2", "status": "ABORTED"}},
                                    sweep_owner={"s2": "u2"}.get)  # fmt: skip
    assert aborted and (aborted.kind, aborted.user, aborted.id) == (
        "sweep_finished",
        "u2",
        "sweep:s2:ABORTED",
    )
    failed = svc.notice_from_event({"detail-type": "StrategyError", "detail": {"id": "strategy-error:A#s:b1",
                                    "strategy_id": "st", "slot": "s", "owner": "u1",
                                    "error": "ZeroDivisionError"}})  # fmt: skip
    assert (
        failed
        and (failed.kind, failed.user) == ("strategy_error", "u1")
        and "ZeroDivisionError" in failed.title
    )
    assert svc.notice_from_event({"detail-type": "BarClosed", "detail": {}}) is None
    alarm = svc.notice_from_alarm(
        json.dumps({"AlarmName": "a", "NewStateValue": "ALARM", "StateChangeTime": "t"}), "m"
    )
    assert alarm.admins_only and alarm.id == "a:t"


@pytest.mark.parametrize(
    ("url", "local", "allowed"),
    [
        ("http://127.0.0.1:9000/hook", True, True),
        ("http://localhost/hook", True, True),
        ("http://[::1]:80/x", True, True),
        ("http://example.com/hook", True, False),  # never resolved locally: no DNS lookup at all
        ("ftp://127.0.0.1/x", True, False),
        ("http://127.0.0.1:99999/x", True, False),
        ("http://10.0.0.1/hook", False, False),  # on AWS: https to public addresses only
        ("https://127.0.0.1/hook", False, False),
        ("https://8.8.8.8/hook", False, True),  # an IP literal: getaddrinfo answers without a lookup
    ],
)
def test_webhook_urls(url, local, allowed):
    assert (store.check_webhook_url(url, local) is None) == allowed


class Hook:
    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def table():
    with mock_aws():
        create_tables({"notifications": "NotificationsTable"})
        store.bind_table("notifications")
        yield


def _caller(user: str, groups: tuple[str, ...] = ("trader",)) -> Caller:
    return Caller(user_id=user, username=user, email=None, groups=frozenset(groups))


def test_events_reach_the_owner_once_and_broadcasts_reach_subscribers(table):
    # Given a trader owning account A with a loopback webhook, and an admin subscribed to alarms only
    trader_hook, admin_hook = Hook(), Hook()
    svc.save_preferences(_caller("u1"), svc.PreferencesRequest(webhooks=[trader_hook.url]), local=True)
    svc.save_preferences(_caller("adm", ("admin",)),
                         svc.PreferencesRequest(webhooks=[admin_hook.url], kinds=["alarm"]), local=True)  # fmt: skip
    owners = {"A": "u1"}
    fill = svc.notice_from_event({"detail-type": "OrderFilled", "detail": {"id": "o:3", "account_id": "A"}})
    assert fill is not None
    # When the fill is delivered twice (a redelivered event) and an alarm once
    for _ in range(2):
        svc.deliver(fill, svc.recipients(fill, owners.get), local=True, email_from="")
    alarm = svc.notice_from_alarm(json.dumps({"AlarmName": "dlq", "NewStateValue": "ALARM"}), "m1")
    svc.deliver(alarm, svc.recipients(alarm, owners.get), local=True, email_from="")
    # Then the owner got the fill once, the admin only the alarm, and the log says delivered
    assert [b["kind"] for b in trader_hook.bodies] == ["order_filled"]
    assert [b["kind"] for b in admin_hook.bodies] == ["alarm"]
    log = svc.list_deliveries(_caller("u1"), 10).deliveries
    assert [(d.kind, d.status) for d in log] == [("order_filled", "delivered")]
    # And an account nobody owns (or a muted owner) notifies nobody
    assert svc.recipients(svc.Notice("x", "order_filled", "t", {}, account_id="B"), owners.get) == []
    svc.save_preferences(
        _caller("u1"), svc.PreferencesRequest(webhooks=[trader_hook.url], muted=True), local=True
    )
    assert svc.recipients(fill, owners.get) == []


def test_a_failing_channel_is_recorded_and_does_not_stop_the_others(table):
    # Given a webhook answering 500 and an email address with no sender configured
    bad = Hook(status=500)
    svc.save_preferences(
        _caller("u2"), svc.PreferencesRequest(webhooks=[bad.url], emails=["a@b.co"]), local=True
    )
    notice = svc.Notice("k:1", "kill_switch", "Kill switch", {}, account_id="A")
    # When delivered
    done = svc.deliver(notice, svc.recipients(notice, {"A": "u2"}.get), local=True, email_from="")
    # Then the webhook failure is logged with its reason and the email is skipped with its reason
    assert [d.status for d in done] == ["failed", "skipped"]
    details = {d.detail for d in svc.list_deliveries(_caller("u2"), 10).deliveries}
    assert any("HTTP Error 500" in d for d in details) and any("NOTIFY_EMAIL_FROM" in d for d in details)


def test_bad_preferences_name_the_field(table):
    with pytest.raises(BadRequest, match=r"webhooks\[1\]"):
        svc.save_preferences(_caller("u3"), svc.PreferencesRequest(webhooks=["http://127.0.0.1/a", "http://x.io/b"]),
                             local=True)  # fmt: skip
    with pytest.raises(BadRequest, match=r"emails\[0\]"):
        svc.save_preferences(_caller("u3"), svc.PreferencesRequest(emails=["not-an-address"]), local=True)
    assert svc.get_preferences(_caller("u3")).kinds == []  # nothing saved


def test_sweep_and_strategy_notices_reach_their_owner_only(table):
    # Given two traders and an admin, all subscribed to sweep_finished and strategy_error
    hooks = {user: Hook() for user in ("u1", "u2", "adm")}
    for user, hook in hooks.items():
        groups = ("admin",) if user == "adm" else ("trader",)
        request = svc.PreferencesRequest(webhooks=[hook.url], kinds=["sweep_finished", "strategy_error"])
        svc.save_preferences(_caller(user, groups), request, local=True)
    # When u1's sweep finishes, u2's strategy fails, and a sweep whose owner is unknown is aborted
    events = [
        {"detail-type": "SweepFinished", "detail": {"sweep_id": "s1", "owner": "u1", "status": "FAILED",
                                                    "error": "no bars"}},
        {"detail-type": "StrategyError", "detail": {"id": "e1", "strategy_id": "st", "owner": "u2", "error": "boom"}},
        {"detail-type": "Step Functions Execution Status Change", "detail": {"name": "gone", "status": "ABORTED"}},
    ]  # fmt: skip
    for event in events:
        notice = svc.notice_from_event(event, sweep_owner=lambda _sweep_id: None)
        assert notice is not None
        svc.deliver(notice, svc.recipients(notice, {}.get), local=True, email_from="")
    # Then each owner got their own notice once, and nobody else got anything (not the admin either)
    assert [(b["kind"], b["event"]["sweep_id"]) for b in hooks["u1"].bodies] == [("sweep_finished", "s1")]
    assert "no bars" in hooks["u1"].bodies[0]["title"]
    assert [b["kind"] for b in hooks["u2"].bodies] == ["strategy_error"]
    assert hooks["adm"].bodies == []


def test_the_delivery_log_lists_the_latest_first(table):
    # Given a webhook, a kill-switch notice whose id sorts last, then one whose id sorts first
    hook = Hook()
    svc.save_preferences(_caller("u4"), svc.PreferencesRequest(webhooks=[hook.url]), local=True)
    for event_id in ("zz:older", "aa:newer"):
        notice = svc.Notice(event_id, "kill_switch", event_id, {}, account_id="A")
        svc.deliver(notice, svc.recipients(notice, {"A": "u4"}.get), local=True, email_from="")
    # Then the log is newest first by time, whatever the ids, and a limit keeps the latest
    log = svc.list_deliveries(_caller("u4"), 10).deliveries
    assert [d.title for d in log if d.kind == "kill_switch"] == ["aa:newer", "zz:older"]
    assert [d.title for d in svc.list_deliveries(_caller("u4"), 1).deliveries] == [log[0].title]
    # And two test notifications sent within one second are two notifications, not one
    assert svc.test_notice(_caller("u4")).id != svc.test_notice(_caller("u4")).id
