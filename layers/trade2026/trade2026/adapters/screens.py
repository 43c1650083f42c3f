"""Saved screens (DynamoDB via PynamoDB): one item per user and screen.

Screens table items: ``user`` (hash key, the Cognito sub) and ``screen_id`` (range key): name, definition
(filter, sort, limit, symbols), optional schedule, and the summary of the last scheduled run. A user's screens
are one Query on the hash key, so a user never reads another user's items.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.models import Model

MAX_SCREENS_PER_USER = 100


class ScreenModel(Model):
    class Meta:
        table_name = "screens"  # bound at start-up by bind_table()

    user = UnicodeAttribute(hash_key=True)
    screen_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    definition = JSONAttribute()
    schedule = UnicodeAttribute(null=True)  # "daily" or None
    created_at = UnicodeAttribute()
    last_run = JSONAttribute(null=True)


def bind_table(name: str) -> None:
    ScreenModel.Meta.table_name = name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def create(
    user: str, screen_id: str, name: str, definition: dict[str, Any], schedule: str | None
) -> ScreenModel:
    item = ScreenModel(
        user, screen_id, name=name, definition=definition, schedule=schedule, created_at=_now()
    )
    item.save(condition=ScreenModel.screen_id.does_not_exist())  # fresh uuids: a clash is a bug
    return item


def get(user: str, screen_id: str) -> ScreenModel | None:
    try:
        return ScreenModel.get(user, screen_id)
    except ScreenModel.DoesNotExist:
        return None


def list_for(user: str) -> list[ScreenModel]:
    return list(ScreenModel.query(user, limit=MAX_SCREENS_PER_USER))


def count_for(user: str) -> int:
    return ScreenModel.count(user)


def delete(user: str, screen_id: str) -> bool:
    item = get(user, screen_id)
    if item is None:
        return False
    item.delete()
    return True


def scheduled() -> Iterator[ScreenModel]:
    """Every screen that has a schedule (a scan with a filter: the scheduled job runs once a day)."""
    return ScreenModel.scan(ScreenModel.schedule.exists())


def record_run(item: ScreenModel, summary: dict[str, Any]) -> None:
    item.update(actions=[ScreenModel.last_run.set(summary)])
