"""Order submission through the local API gateway: latency at 8 concurrent clients, and idempotency at scale.

Latency: N limit orders (default 10,000) submitted by 8 concurrent clients (keep-alive sessions), each with its
own Idempotency-Key, to POST /v1/accounts/{id}/orders of a fresh `trade2026 up --no-demo-data` with the S&P 500
daily bars loaded (the reference price). Every request goes gateway -> orders Lambda (worker process) ->
idempotency record, risk Lambda (its own worker: account, positions, open-order sums, marks, order-rate counter),
order + events, EventBridge -> 201. p50/p99 measured at the client; the share inside the emulated AWS APIs
is moto's own time per service (localcloud.awsstats; the lambda row is the whole risk invocation, which
includes its own DynamoDB calls). The seed platform's SLA was p50 < 50 ms, p99 < 200 ms; the target here is half.
Idempotency: 1,000 keys x 10 submissions each, interleaved over 16 clients: exactly 1,000 orders must exist.

    .venv/bin/python benchmarks/bench_orders.py [--orders 10000] [--clients 8] [--keys 1000] [--write]
    .venv/bin/python benchmarks/bench_orders.py --orders 1000 --clients 1 --keys 0 --section orders_one_client --write
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from common import (
    ROOT,
    LocalCloud,
    bench_arguments,
    child_environment,
    markdown_table,
    provenance,
    signed_in,
    update_section,
)

ORDER = {"symbol": "SP500", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "2500.00"}
LIMITS = {"max_orders_per_second": 1_000_000, "max_gross_exposure": "1e15", "max_net_exposure": "1e15",
          "max_position_quantity": "1e9"}  # fmt: skip


class Client:
    def __init__(self, cloud: LocalCloud) -> None:
        state, self.tokens = signed_in(cloud.state_dir)
        self.api, self.aws = state["api_url"], state["aws_endpoint"]

    def headers(self, group: str = "trader", **extra: str) -> dict[str, str]:
        return {"Authorization": self.tokens[group], "Content-Type": "application/json", **extra}

    def account(self) -> str:
        body = json.dumps({"name": "bench", "starting_cash": "1000000000000"})
        account = requests.post(
            f"{self.api}/v1/accounts", headers=self.headers(), data=body, timeout=60
        ).json()["id"]
        put = requests.put(f"{self.api}/v1/accounts/{account}/limits", headers=self.headers("admin"),
                           data=json.dumps(LIMITS), timeout=60)  # fmt: skip
        put.raise_for_status()
        return str(account)

    def count_orders(self, account: str) -> int:
        total, cursor = 0, None
        while True:
            query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
            page = requests.get(
                f"{self.api}/v1/accounts/{account}/orders{query}", headers=self.headers(), timeout=60
            ).json()
            total += len(page["orders"])
            cursor = page["next_cursor"]
            if not cursor:
                return total


def send_retrying(
    session: requests.Session, method: str, url: str, headers: dict[str, str], body: str | None,
    latencies: list[float],
) -> tuple[requests.Response | None, int]:  # fmt: skip
    """A request retried (same headers, so the same Idempotency-Key) on a 5xx (a timed-out worker) or a dropped
    connection, as clients do; each attempt's latency is kept. Returns the last answer and the failed attempts."""
    response: requests.Response | None = None
    for attempt in range(5):
        started = time.perf_counter()
        try:
            response = session.request(method, url, headers=headers, data=body, timeout=60)
        except requests.ConnectionError:
            response = None
        latencies.append(time.perf_counter() - started)
        if response is not None and response.status_code < 500:
            return response, attempt
        time.sleep(0.5 * 2**attempt)  # back off: the gateway or a worker is overloaded
    return response, 5


def latency_run(client: Client, orders: int, clients: int) -> dict[str, Any]:
    """Each client trades its own account and cancels its orders 20 submissions later (untimed), as a trader
    working limit orders would: an account keeps at most ~20 open orders (risk reads their sums, not the orders)."""
    accounts = [client.account() for _ in range(clients)]
    body = json.dumps(ORDER)
    for i in range(20):  # warm every worker of the pools first
        requests.post(f"{client.api}/v1/accounts/{accounts[0]}/orders",
                      headers=client.headers(**{"Idempotency-Key": f"warm{i}"}), data=body, timeout=60)  # fmt: skip
    requests.delete(f"{client.aws}/_localcloud/aws-stats", timeout=10)

    errors = 0

    def trader(number: int) -> list[float]:
        nonlocal errors
        session, account, latencies, working = requests.Session(), accounts[number], [], []
        url = f"{client.api}/v1/accounts/{account}/orders"
        for index in range(number, orders, clients):
            headers = client.headers(**{"Idempotency-Key": f"o{index}"})
            response, failed = send_retrying(session, "POST", url, headers, body, latencies)
            errors += failed
            if response is None or response.status_code != 201:
                detail = "no answer" if response is None else f"{response.status_code} {response.text[:300]}"
                raise RuntimeError(f"order {index}: {detail}")
            working.append(response.json()["id"])
            if len(working) > 20:
                send_retrying(session, "DELETE", f"{url}/{working.pop(0)}", client.headers(), None, [])
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(t for per_client in pool.map(trader, range(clients)) for t in per_client)
    wall = time.perf_counter() - started
    aws = requests.get(f"{client.aws}/_localcloud/aws-stats", timeout=10).json()
    stored = sum(client.count_orders(a) for a in accounts) - 20
    return {"latencies": latencies, "wall": wall, "aws": aws, "orders": orders, "stored": stored,
            "errors": errors}  # fmt: skip


def idempotency_run(client: Client, keys: int, retries: int = 10, clients: int = 16) -> dict[str, Any]:
    """Every key submitted `retries` times, interleaved over `clients`; keys spread over 8 accounts."""
    accounts = [client.account() for _ in range(8)]
    body = json.dumps(ORDER)
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=clients))
    attempts = [key for _round in range(retries) for key in range(keys)]
    conflicts = 0

    def submit(key: int) -> str:
        nonlocal conflicts
        url = f"{client.api}/v1/accounts/{accounts[key % len(accounts)]}/orders"
        for _try in range(100):
            try:
                response = session.post(
                    url, headers=client.headers(**{"Idempotency-Key": f"k{key}"}), data=body, timeout=60
                )
            except requests.ConnectionError:  # dropped: retried with the same key like a 5xx
                conflicts += 1
                continue
            if response.status_code == 201:
                return str(response.json()["id"])
            if response.status_code != 409 and response.status_code < 500:
                raise RuntimeError(f"k{key}: {response.status_code} {response.text[:300]}")
            conflicts += 1
            time.sleep(0.05)
        raise RuntimeError(f"k{key}: still in progress after 100 tries")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        ids = list(pool.map(submit, attempts))
    ids_per_key: dict[int, set[str]] = {}
    for key, order_id in zip(attempts, ids, strict=True):
        ids_per_key.setdefault(key, set()).add(order_id)
    return {
        "keys": keys, "submissions": len(attempts), "seconds": time.perf_counter() - started,
        "stored": sum(client.count_orders(a) for a in accounts), "distinct_ids": len(set(ids)),
        "keys_with_one_id": sum(1 for v in ids_per_key.values() if len(v) == 1), "in_progress_409": conflicts,
    }  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def render(lat: dict[str, Any], idem: dict[str, Any] | None, clients: int) -> str:
    values = lat["latencies"]
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    busy = sum(v["seconds"] for v in lat["aws"].values())
    per_order = {name: v["seconds"] / lat["orders"] for name, v in lat["aws"].items()}
    rows = [
        ["p50 (ms)", f"{p50 * 1000:.1f}", "25", "yes" if p50 < 0.025 else "NO"],
        ["p99 (ms)", f"{p99 * 1000:.1f}", "100", "yes" if p99 < 0.100 else "NO"],
        ["mean (ms)", f"{statistics.fmean(values) * 1000:.1f}", "", ""],
        ["throughput (orders/s)", f"{lat['orders'] / lat['wall']:.0f}", "", ""],
        ["orders stored / submitted", f"{lat['stored']} / {lat['orders']}", "", ""],
        [
            "5xx answers, retried with the same key",
            f"{lat['errors']}",
            "0",
            "yes" if not lat["errors"] else "NO",
        ],
        ["worker timeouts (10 s) in the local cloud's logs", f"{lat.get('timeouts', 0)}", "", ""],
    ]
    lines = [
        f"{lat['orders']:,} limit orders, {clients} concurrent client{'s' if clients > 1 else ''} (one account each, "
        "each order with its own Idempotency-Key, each client cancelling its orders 20 submissions later, untimed), "
        "through the local API gateway (client-side times of the submissions):",
        "",
        markdown_table(["measure", "value", "target", "met"], rows),
        "",
        "Time inside the emulated AWS APIs (moto), per order (the lambda row is the synchronous risk "
        "invocation, which contains the risk function's own DynamoDB calls):",
        "",
        markdown_table(
            ["service", "calls per order", "ms per order"],
            [
                [name, f"{lat['aws'][name]['calls'] / lat['orders']:.1f}", f"{per_order[name] * 1000:.1f}"]
                for name in sorted(per_order)
            ],
        ),
        "",
        f"Summed over the run, moto was busy {busy:.1f} s of {lat['wall']:.1f} s wall time with {clients} "
        f"client{'s' if clients > 1 else ''} in flight (its DynamoDB requests are serialized, as DynamoDB's "
        "conditional writes are atomic).",
    ]
    if idem:
        ok = idem["stored"] == idem["keys"] == idem["distinct_ids"] == idem["keys_with_one_id"]
        lines += [
            "",
            f"Idempotency: {idem['keys']:,} keys over 8 accounts x 10 submissions ({idem['submissions']:,} requests, "
            "16 clients, "
            f"{idem['seconds']:.0f} s): {idem['stored']:,} orders stored, {idem['distinct_ids']:,} distinct order ids, "
            f"{idem['keys_with_one_id']:,} keys answered with one id every time, {idem['in_progress_409']:,} "
            f"409 'in progress' answers retried. Exactly once: {'yes' if ok else 'NO'}.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = bench_arguments(__doc__ or "", default_runs=1)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keys", type=int, default=1_000, help="idempotency keys (0 skips that run)")
    parser.add_argument("--section", default="orders", help="docs/benchmarks.md section --write replaces")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        cloud = LocalCloud(Path(tmp))
        try:
            subprocess.run(
                [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", tmp],
                cwd=ROOT, env=child_environment(), check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            client = Client(cloud)
            idem = idempotency_run(client, args.keys) if args.keys else None
            lat = latency_run(client, args.orders, args.clients)
            logs = "".join(p.read_text(errors="replace") for p in (Path(tmp) / "logs").glob("*.log"))
            lat["timeouts"] = logs.count("Task timed out after")
        finally:
            cloud.stop()
    text = render(lat, idem, args.clients) + "\n\n" + provenance()
    print(text)
    if args.write:
        update_section(args.section, text)


if __name__ == "__main__":
    main()
