"""What the local cloud adds around moto's WSGI app.

1. Atomic DynamoDB requests: moto serves requests on many threads and its DynamoDB backend has no locks, so
   two concurrent conditional writes could both pass their condition (measured: 16 threads applying fills
   to one position lost updates). DynamoDB evaluates a condition and writes atomically; so does the local
   cloud, by serializing DynamoDB requests.
2. Time spent inside the emulated AWS APIs, per service: benchmarks report which share of a request's
   latency is the emulator's (moto) rather than the platform's own code.

3. Throttling on demand (tests/performance/fault_runs.py): with LOCALCLOUD_THROTTLE_RATE=p, that share of the
   DynamoDB requests naming one of the tables in LOCALCLOUD_THROTTLE_TABLES (comma-separated) is refused with
   ProvisionedThroughputExceededException, as an under-provisioned or hot table would; counted as
   "dynamodb-throttled".

GET http://<aws endpoint>/_localcloud/aws-stats returns {"<service>": {"calls": n, "seconds": s}, ...};
DELETE on the same path resets the counters.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

STATS_PATH = "/_localcloud/aws-stats"
_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/")
_lock = threading.Lock()
_dynamodb_lock = threading.Lock()
_stats: dict[str, list[float]] = {}


def _service(environ: dict[str, Any]) -> str:
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else "other"


_THROTTLED = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded (LOCALCLOUD_THROTTLE_RATE)",
}).encode()  # fmt: skip


def _throttle(environ: dict[str, Any]) -> bool:
    """Whether to refuse this DynamoDB request (it names a throttled table and the dice say so)."""
    rate = float(os.environ.get("LOCALCLOUD_THROTTLE_RATE") or 0)
    tables = [t for t in os.environ.get("LOCALCLOUD_THROTTLE_TABLES", "").split(",") if t]
    if rate <= 0 or not tables:
        return False
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    named = any(f'"{table}"'.encode() in body for table in tables)
    return named and random.random() < rate  # noqa: S311 - fault injection, not cryptography


def _count(service: str, elapsed: float) -> None:
    with _lock:
        entry = _stats.setdefault(service, [0.0, 0.0])
        entry[0] += 1
        entry[1] += elapsed


def snapshot() -> dict[str, dict[str, float]]:
    with _lock:
        return {name: {"calls": int(v[0]), "seconds": v[1]} for name, v in sorted(_stats.items())}


def install_aws_stats() -> None:
    """Wrap moto's WSGI dispatcher once (idempotent): atomic DynamoDB requests, time per service."""
    from moto.server import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_trade2026_stats", False):
        return
    original: Callable[..., Iterable[bytes]] = DomainDispatcherApplication.__call__

    def timed(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            if environ.get("REQUEST_METHOD") == "DELETE":
                with _lock:
                    _stats.clear()
            body = json.dumps(snapshot()).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        service = _service(environ)
        if service == "dynamodb" and _throttle(environ):
            _count("dynamodb-throttled", 0.0)
            headers = [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("Content-Length", str(len(_THROTTLED))),
            ]
            start_response("400 Bad Request", headers)
            return [_THROTTLED]
        started = time.perf_counter()
        try:
            if service == "dynamodb":
                with _dynamodb_lock:
                    return list(original(self, environ, start_response))
            return list(original(self, environ, start_response))  # the whole body, so the time is complete
        finally:
            _count(service, time.perf_counter() - started)

    DomainDispatcherApplication.__call__ = timed  # type: ignore[method-assign]
    DomainDispatcherApplication._trade2026_stats = True  # type: ignore[attr-defined]
