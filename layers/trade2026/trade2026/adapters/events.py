"""Domain events on the platform's EventBridge bus."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from trade2026.adapters.aws import client

SOURCE_PREFIX = "trade2026"
_MAX_ENTRIES = 10  # PutEvents limit per call
_MAX_ATTEMPTS = 3


class EventPublishError(RuntimeError):
    pass


def publish(bus_name: str, source: str, detail_type: str, details: Iterable[Mapping[str, Any]]) -> int:
    """Put one event per detail; failed entries are retried, then raised (never silently dropped).

    Each detail should carry an ``id`` so that consumers can drop the rare duplicate of a retried batch.
    """
    entries = [
        {
            "EventBusName": bus_name,
            "Source": f"{SOURCE_PREFIX}.{source}",
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), default=str),
        }
        for detail in details
    ]
    for start in range(0, len(entries), _MAX_ENTRIES):
        pending = entries[start : start + _MAX_ENTRIES]
        for _attempt in range(_MAX_ATTEMPTS):
            result = client("events").put_events(Entries=pending)
            if not result.get("FailedEntryCount"):
                break
            pending = [e for e, r in zip(pending, result["Entries"], strict=True) if r.get("ErrorCode")]
        else:
            raise EventPublishError(f"{len(pending)} {detail_type} events could not be published")
    return len(entries)
