"""Bar-to-order latency through the local cloud: a `BarClosed` put on the EventBridge bus -> rule -> strategy
runtime Lambda (worker process) -> slot read, decision recorded, order through the OMS (idempotency record,
synchronous risk Lambda, order + events) -> order stored. Measured from just before PutEvents to the order's
`created_at` (same machine clock), one bar at a time, on a fresh `trade2026 up --no-demo-data` with the S&P 500
daily bars loaded. Before every bar the slot is swapped to the other of two versions (both 10% of the capital)
and its capital raised by 100k, so that every bar buys ~4 more shares (a sell could be refused by risk while the
previous buy is still open); the paper broker fills those orders on the next events. No peer library exists
for this path.

    .venv/bin/python benchmarks/bench_strategy_runtime.py [--bars 200] [--write]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from bench_orders import Client, percentile
from common import (
    FAKE_AWS_ENV,
    ROOT,
    LocalCloud,
    bench_arguments,
    child_environment,
    markdown_table,
    provenance,
    update_section,
)

SYMBOL = "SP500"


def _call(client: Client, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{client.api}{path}", headers=client.headers(), timeout=60,
                                data=None if body is None else json.dumps(body))  # fmt: skip
    response.raise_for_status()
    return response.json() if response.content else None


def _setup(client: Client, cloud: LocalCloud) -> tuple[str, str]:
    """A strategy with two paper versions (through the gates, with a passing sweep record) and a slot."""
    state = json.loads((cloud.state_dir / "state.json").read_text())
    refs = {lid: r["ref"] for stack in state["stacks"].values() for lid, r in stack["resources"].items()}
    token = client.tokens["trader"]
    payload = token.split(".")[1]
    import base64

    owner = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
    dynamodb = boto3.client("dynamodb", endpoint_url=client.aws, region_name="us-east-1")
    sid = _call(
        client, "POST", "/v1/strategies", {"name": "bench", "code": "hold", "params": {"target": 0.1}}
    )["id"]
    _call(client, "POST", f"/v1/strategies/{sid}/versions", {"params": {"target": 0.1}})
    for version in (1, 2):
        run_id = f"{version:032x}"
        dynamodb.put_item(TableName=refs["BacktestsTable"], Item={
            "pk": {"S": f"SWEEP#{run_id}"}, "sk": {"S": "META"}, "kind": {"S": "sweep"}, "owner": {"S": owner},
            "created_at": {"S": "2026-01-01T00:00:00Z"}, "status": {"S": "SUCCEEDED"}, "request": {"S": "{}"},
            "summary": {"S": json.dumps({"pbo": 0.1, "deflated_sharpe": {"dsr": 0.99}})},  # as FinishSweep stores it
        })  # fmt: skip
        _call(client, "POST", f"/v1/strategies/{sid}/versions/{version}/links", {"sweeps": [run_id]})
        for to in ("backtested", "validated", "paper"):
            _call(client, "POST", f"/v1/strategies/{sid}/versions/{version}/transition", {"to": to})
    account = client.account()
    _call(client, "PUT", f"/v1/accounts/{account}/slots/main",
          {"strategy_id": sid, "version": 1, "symbol": SYMBOL, "capital": 100000})  # fmt: skip
    return account, sid


def run(client: Client, cloud: LocalCloud, bars: int) -> dict[str, Any]:
    account, sid = _setup(client, cloud)
    state = json.loads((cloud.state_dir / "state.json").read_text())
    bus = next(
        r["ref"] for s in state["stacks"].values() for lid, r in s["resources"].items() if lid == "EventBus"
    )
    events = boto3.client("events", endpoint_url=client.aws, region_name="us-east-1")
    latencies: list[float] = []
    seen: set[str] = set()
    base = time.time_ns() // 60_000_000_000 * 60_000_000_000
    started = time.perf_counter()
    for index in range(bars):
        version = 1 + index % 2
        if index:
            body = {"strategy_id": sid, "version": version, "capital": 100_000 * (index + 1)}
            _call(client, "PUT", f"/v1/accounts/{account}/slots/main", body)
        start = base + index * 60_000_000_000
        detail = {"symbol": SYMBOL, "start": start, "end": start + 60_000_000_000, "open": 2506.0, "high": 2507.0,
                  "low": 2505.0, "close": 2506.85, "volume": 1e7, "id": f"{SYMBOL}:1m:{start}"}  # fmt: skip
        sent = time.time()
        events.put_events(Entries=[{"EventBusName": bus, "Source": "trade2026.marketdata", "DetailType": "BarClosed",
                                    "Detail": json.dumps(detail)}])  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            orders = _call(client, "GET", f"/v1/accounts/{account}/orders?limit=5")["orders"]
            fresh = [o for o in orders if o["id"] not in seen and o["strategy"] == f"{sid}@{version}"]
            if fresh:
                seen.update(o["id"] for o in fresh)
                created = min(datetime.fromisoformat(o["created_at"]).timestamp() for o in fresh)
                latencies.append(created - sent)
                break
            if time.monotonic() > deadline:
                log = _call(client, "GET", f"/v1/accounts/{account}/slots/main/decisions?limit=3")
                raise RuntimeError(f"bar {index}: no order within 60 s; decisions: {json.dumps(log)[:3000]}")
            time.sleep(0.01)
    return {
        "cold": latencies[0],
        "latencies": sorted(latencies[1:]),
        "bars": bars,
        "wall": time.perf_counter() - started,
    }


def render(result: dict[str, Any]) -> str:
    values = result["latencies"]
    rows = [
        ["first bar, cold runtime worker (ms)", f"{result['cold'] * 1000:.0f}"],
        ["p50, warm (ms)", f"{percentile(values, 0.5) * 1000:.0f}"],
        ["p99, warm (ms)", f"{percentile(values, 0.99) * 1000:.0f}"],
        ["min / max, warm (ms)", f"{values[0] * 1000:.0f} / {values[-1] * 1000:.0f}"],
        ["bars (one order each)", str(result["bars"])],
    ]
    return "\n".join([
        f"Bar-to-order latency through the local cloud, {result['bars']} BarClosed events one at a time "
        "(PutEvents -> rule -> strategy runtime -> OMS with risk -> order stored; before every bar the slot was "
        "swapped to its other version and its capital raised, so that every bar buys):",
        "",
        markdown_table(["measure", "value"], rows),
    ])  # fmt: skip


def main() -> None:
    parser = bench_arguments(__doc__ or "", default_runs=1)
    parser.add_argument("--bars", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(FAKE_AWS_ENV)  # this process's own boto3 clients talk to the local cloud only
    with tempfile.TemporaryDirectory(prefix="bench-strategy-runtime-") as tmp:
        cloud = LocalCloud(Path(tmp))
        try:
            subprocess.run(
                [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", tmp],
                cwd=ROOT, env=child_environment(), check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            result = run(Client(cloud), cloud, args.bars)
        finally:
            cloud.stop()
    text = render(result) + "\n\n" + provenance()
    print(text)
    if args.write:
        update_section("strategy_runtime", text)


if __name__ == "__main__":
    main()
