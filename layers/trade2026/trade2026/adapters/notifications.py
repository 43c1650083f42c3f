"""Notification preferences and the delivery log (DynamoDB via PynamoDB), and the two channels (webhook, email).

Notifications table items, hash key ``user`` (the Cognito sub):
- ``sk = "PREFS"``: the user's channels (webhooks, emails), the kinds they want, whether they are an admin
  (admins also receive ops alarms) and a muted flag;
- ``sk = "LOG#<event id>#<channel>"``: one delivery (kind, title, status, detail, ``at``), kept 30 days (TTL).
  Writing it is conditional: a redelivered event is never sent twice to the same channel. The local index
  ``by-time`` (user, at) lists them newest first.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model

from trade2026.adapters.aws import client

LOG_TTL_S = 30 * 86_400
WEBHOOK_TIMEOUT_S = 5.0
PREFS = "PREFS"


class ByTimeIndex(LocalSecondaryIndex["NotificationItem"]):
    class Meta:
        index_name = "by-time"
        projection = AllProjection()

    user = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class NotificationItem(Model):
    class Meta:
        table_name = "notifications"  # bound at start-up by bind_table()

    user = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # PREFS items
    channels = JSONAttribute(null=True)
    kinds = JSONAttribute(null=True)
    muted = BooleanAttribute(null=True)
    admin = BooleanAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    # LOG items
    kind = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    by_time = ByTimeIndex()


def bind_table(name: str) -> None:
    NotificationItem.Meta.table_name = name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def get_preferences(user: str) -> NotificationItem | None:
    try:
        return NotificationItem.get(user, PREFS)
    except NotificationItem.DoesNotExist:
        return None


def put_preferences(
    user: str, channels: list[dict[str, Any]], kinds: list[str], muted: bool, admin: bool
) -> NotificationItem:
    item = NotificationItem(
        user, PREFS, channels=channels, kinds=kinds, muted=muted, admin=admin, updated_at=_now()
    )
    item.save()
    return item


def subscribers(kind: str, admins_only: bool) -> list[NotificationItem]:
    """Every unmuted preferences item that asked for ``kind`` (a scan: broadcasts are rare events)."""
    condition = (NotificationItem.sk == PREFS) & NotificationItem.kinds.contains(kind)
    return [
        item
        for item in NotificationItem.scan(condition)
        if not item.muted and (item.admin or not admins_only)
    ]


def claim_delivery(user: str, key: str, kind: str, title: str) -> bool:
    """Record a delivery about to happen; False when this event already went to this channel."""
    item = NotificationItem(
        user, f"LOG#{key}", kind=kind, title=title, status="sending", at=_now(),
        expires_at=int(time.time()) + LOG_TTL_S,
    )  # fmt: skip
    try:
        item.save(condition=NotificationItem.sk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def finish_delivery(user: str, key: str, status: str, detail: str) -> None:
    NotificationItem(user, f"LOG#{key}").update(
        actions=[NotificationItem.status.set(status), NotificationItem.detail.set(detail[:500])]
    )


def deliveries(user: str, limit: int) -> list[NotificationItem]:
    """The user's latest deliveries, newest first."""
    return list(NotificationItem.by_time.query(user, scan_index_forward=False, limit=limit))


# ------------------------------------------------------------------------------------------------ channels
def check_webhook_url(url: str, local: bool) -> str | None:
    """Why a webhook URL is not allowed (None when it is). Locally only loopback; on AWS only public https."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL with a host"
    if local:  # never a DNS lookup locally: only literal loopback hosts
        return (
            None if _is_loopback_literal(parts.hostname) else "must be a loopback address on the local cloud"
        )
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or 443)}
    except (socket.gaierror, UnicodeError):
        return f"host {parts.hostname!r} does not resolve"
    ips = [ipaddress.ip_address(str(a).split("%", 1)[0]) for a in addresses]
    if parts.scheme != "https":
        return "must use https"
    if any(not ip.is_global for ip in ips):
        return "must resolve to public addresses only"
    return None


def _is_loopback_literal(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_webhook(url: str, payload: dict[str, Any], local: bool) -> str:
    """POST the payload as JSON; returns 'delivered (HTTP n)' or raises OSError with the reason."""
    problem = check_webhook_url(url, local)
    if problem:
        raise OSError(f"webhook URL {problem}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above (http/https only)
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        return f"delivered (HTTP {response.status})"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead past the URL check (to an internal address): it fails the delivery instead."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise OSError(f"webhook answered a redirect (HTTP {code}); redirects are not followed")


# No proxies from the environment either: the URL checked is the address contacted.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def send_email(sender: str, address: str, subject: str, text: str) -> str:
    if not sender:
        return "skipped: no sender address configured (NOTIFY_EMAIL_FROM)"
    client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [address]},
        Message={"Subject": {"Data": subject[:200]}, "Body": {"Text": {"Data": text}}},
    )
    return "sent"
