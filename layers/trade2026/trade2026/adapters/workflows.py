"""Step Functions executions started by the ML API (training runs, batch prediction jobs)."""

from __future__ import annotations

import json
from typing import Any

from trade2026.adapters.aws import client


def start(state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    """Start an execution named `name` (the job's id: a second start of the same job is refused by AWS)."""
    response = client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
    )
    return str(response["executionArn"])
