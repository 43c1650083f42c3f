"""EventBridge schedules in the local cloud: rules with a ``rate(...)`` expression fire their targets.

moto stores scheduled rules but never fires them. Rate schedules are what keep the platform healthy between
requests (the broker's outbox sweep every minute), so the local cloud fires them as EventBridge would: the
first time one period after the rule is seen, then every period, with the usual "Scheduled Event" envelope
(or the target's Input). Cron schedules (the after-the-close jobs) are left to be run by hand locally:
firing them on this machine's clock would expire or rebalance things in the middle of a session.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from localcloud.eventbridge import _installed

_log = logging.getLogger(__name__)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def rate_seconds(expression: str) -> int | None:
    """The period of a ``rate(...)`` expression in seconds; None for cron and anything else."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule: dict[str, Any], moment: float) -> dict[str, Any]:
    arn = rule["Arn"]
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": arn.split(":")[4], "region": arn.split(":")[3],
        "time": datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [arn],
        "detail": {},
    }  # fmt: skip


class RateScheduler:
    """Fires enabled rate-scheduled rules of every event bus; ``tick_s`` is how often rules are looked at."""

    def __init__(self, events: Any, tick_s: float = 5.0) -> None:
        self.events = events
        self.tick_s = tick_s
        self.next_fire: dict[str, float] = {}  # rule ARN -> when it fires next
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eventbridge-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick(time.time())
            except Exception:  # the emulator keeps running; the next tick tries again
                _log.exception("scheduler tick failed")

    def tick(self, now: float) -> list[str]:
        """Fire the rules that are due at ``now``; returns their names."""
        fired = []
        for rule in self._rate_rules():
            period = rate_seconds(rule["ScheduleExpression"])
            assert period is not None
            due = self.next_fire.setdefault(rule["Arn"], now + period)
            if due > now:
                continue
            self.next_fire[rule["Arn"]] = now + period
            self._fire(rule, now)
            fired.append(rule["Name"])
        return fired

    def _rate_rules(self) -> list[dict[str, Any]]:
        rules = []
        for bus in self.events.list_event_buses()["EventBuses"]:
            for page in self.events.get_paginator("list_rules").paginate(EventBusName=bus["Name"]):
                rules += [
                    r for r in page["Rules"]
                    if r.get("State") == "ENABLED" and rate_seconds(r.get("ScheduleExpression") or "")
                ]  # fmt: skip
        return rules

    def _fire(self, rule: dict[str, Any], now: float) -> None:
        delivery = _installed.get("delivery")
        if delivery is None:
            return
        targets = self.events.list_targets_by_rule(Rule=rule["Name"], EventBusName=rule["EventBusName"])
        event = scheduled_event(rule, now)
        for target in targets["Targets"]:
            delivery.deliver(SimpleNamespace(name=rule["Name"], arn=rule["Arn"]), target, event, True)
