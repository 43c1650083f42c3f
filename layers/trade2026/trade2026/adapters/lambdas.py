"""Synchronous calls to another of the platform's functions (e.g. orders -> pre-trade risk)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trade2026.adapters.aws import client
from trade2026.errors import ServiceUnavailable


def invoke_json(function_name: str, payload: Mapping[str, Any]) -> Any:
    """RequestResponse invoke; a function error becomes a 503 (the caller may retry) naming the function."""
    response = client("lambda").invoke(
        FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
    )
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error = body.get("errorMessage", "unknown error") if isinstance(body, dict) else body
        raise ServiceUnavailable(f"{function_name} failed: {error}")
    return body
