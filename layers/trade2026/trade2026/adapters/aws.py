"""boto3 clients built once per process; AWS_ENDPOINT_URL (set by the local cloud) is honoured by boto3."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})


@cache
def client(service: str) -> Any:
    import boto3  # on first use: keeps it off the cold-start import path of functions that may not need it

    return boto3.session.Session().client(service, config=_CONFIG)
