"""Messages to SQS queues (the dead-letter queue of rejected records)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from trade2026.adapters.aws import client

_MAX_BATCH = 10


class QueueSendError(RuntimeError):
    pass


def send_all(queue_url: str, messages: Sequence[Mapping[str, Any]]) -> int:
    """Send every message (JSON); failures are retried once then raised, so nothing is dropped silently."""
    for start in range(0, len(messages), _MAX_BATCH):
        chunk = messages[start : start + _MAX_BATCH]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"), default=str)}
            for i, m in enumerate(chunk)
        ]
        for _attempt in range(2):
            failed = client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
            if not failed:
                break
            failed_ids = {f["Id"] for f in failed}
            entries = [e for e in entries if e["Id"] in failed_ids]
        else:
            raise QueueSendError(f"{len(entries)} messages could not be sent to {queue_url}")
    return len(messages)
