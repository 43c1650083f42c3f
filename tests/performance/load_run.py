"""Load run: 1,000 simulated users against the local gateway for a bounded time (`make perf`, not CI).

Each simulated user opens a paper account, then loops until the run ends: think (exponential, mean --think
seconds), then one action drawn from a mix of reads (account, orders, positions, quote, symbols, health) and
order submissions (limit orders far from the market, each with its own Idempotency-Key). At most
--concurrency requests are in flight (the local cloud runs on this one machine); every user stays active for
the whole run. Reported: p50/p99 per route (client side), error rate per route, and the no-loss check:
for every user, the orders the API listed == the submissions answered 201, all distinct.

    .venv/bin/python tests/performance/load_run.py [--users 1000] [--seconds 120] [--concurrency 48] [--write]
"""

from __future__ import annotations

import heapq
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
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
MIX = [("submit_order", 30), ("get_account", 15), ("list_orders", 20), ("positions", 10), ("quote", 10),
       ("symbols", 10), ("health", 5)]  # fmt: skip


@dataclass
class User:
    index: int
    account: str = ""
    accepted: set[str] = field(default_factory=set)
    submissions: int = 0


class Api:
    def __init__(self, state_dir: Path) -> None:
        state, self.tokens = signed_in(state_dir)
        self.url = state["api_url"]
        self._local = threading.local()
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session  # type: ignore[no-any-return]

    def call(self, route: str, method: str, path: str, body: Any = None, group: str = "trader",
             **headers: str) -> requests.Response | None:  # fmt: skip
        all_headers = {"Authorization": self.tokens[group], "Content-Type": "application/json", **headers}
        started = time.perf_counter()
        try:
            response = self.session().request(method, f"{self.url}{path}", headers=all_headers, timeout=60,
                                              data=None if body is None else json.dumps(body))  # fmt: skip
            status = response.status_code
        except requests.RequestException:
            response, status = None, 0
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[route].append(elapsed)
            self.statuses[route][status] += 1
        return response


def open_account(api: Api, user: User) -> None:
    response = api.call("open_account", "POST", "/v1/accounts", {"name": f"load-{user.index}"})
    if response is None or response.status_code != 201:
        raise RuntimeError(f"user {user.index}: no account: {response and response.text[:200]}")
    user.account = response.json()["id"]
    api.call("put_limits", "PUT", f"/v1/accounts/{user.account}/limits", LIMITS, group="admin")


def act(api: Api, user: User, action: str) -> None:
    account = f"/v1/accounts/{user.account}"
    if action == "submit_order":
        user.submissions += 1
        key = f"{user.index}-{user.submissions}"
        order = {**ORDER, "client_order_id": key}
        response = api.call(action, "POST", f"{account}/orders", order, **{"Idempotency-Key": key})
        for _retry in range(10):  # a lost answer or a 409 in-progress: the same key again, as a client should
            if response is not None and response.status_code in (201, 422):
                break
            time.sleep(1)
            response = api.call(action, "POST", f"{account}/orders", order, **{"Idempotency-Key": key})
        if response is not None and response.status_code in (201, 422) and "id" in response.json():
            user.accepted.add(response.json()["id"])
    elif action == "get_account":
        api.call(action, "GET", account)
    elif action == "list_orders":
        api.call(action, "GET", f"{account}/orders?limit=50")
    elif action == "positions":
        api.call(action, "GET", f"{account}/positions")
    elif action == "quote":
        api.call(action, "GET", "/v1/marketdata/quotes/SP500")
    elif action == "symbols":
        api.call(action, "GET", "/v1/marketdata/symbols")
    else:
        api.call(action, "GET", "/v1/health")


def stored_orders(api: Api, user: User) -> list[tuple[str, str]]:
    """(order id, client order id = its Idempotency-Key) of every order of the user's account."""
    ids: list[tuple[str, str]] = []
    cursor = None
    while True:
        query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
        response = api.call("verify", "GET", f"/v1/accounts/{user.account}/orders{query}")
        assert response is not None and response.status_code == 200, response and response.text
        page = response.json()
        ids += [(o["id"], str(o.get("client_order_id"))) for o in page["orders"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def run(api: Api, users: int, seconds: float, concurrency: int, think_s: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    people = [User(i) for i in range(users)]
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda u: open_account(api, u), people))
    actions, weights = zip(*MIX, strict=True)
    # Every user's next action time, in one heap; workers take the earliest due action.
    started = time.monotonic()
    heap = [(started + rng.expovariate(1 / think_s), u.index) for u in people]
    heapq.heapify(heap)
    heap_lock = threading.Lock()
    end = started + seconds

    def worker() -> None:
        local_rng = random.Random(rng.random())
        while True:
            with heap_lock:
                due, index = heapq.heappop(heap)
            if due >= end:
                return
            time.sleep(max(due - time.monotonic(), 0))
            act(api, people[index], local_rng.choices(actions, weights)[0])
            with heap_lock:
                heapq.heappush(heap, (time.monotonic() + local_rng.expovariate(1 / think_s), index))

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    wall = time.monotonic() - started
    lost = doubled = 0
    with ThreadPoolExecutor(8) as pool:
        stored = list(pool.map(lambda u: stored_orders(api, u), people))
    for user, orders in zip(people, stored, strict=True):
        lost += len(user.accepted - {order_id for order_id, _key in orders})
        keys = [key for _order_id, key in orders]
        doubled += len(keys) - len(set(keys))  # two orders from one Idempotency-Key
    return {"users": users, "wall": wall, "lost": lost, "doubled": doubled,
            "submitted": sum(u.submissions for u in people), "stored": sum(len(s) for s in stored)}  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def render(api: Api, result: dict[str, Any], args: Any) -> str:
    rows = []
    total = errors = 0
    for route in sorted(api.latency):
        if route == "verify":
            continue
        values = api.latency[route]
        statuses = api.statuses[route]
        failed = sum(n for s, n in statuses.items() if s == 0 or s >= 500)
        total, errors = total + len(values), errors + failed
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        rows.append(
            [route, len(values), f"{p50:.0f}", f"{p99:.0f}", f"{100 * failed / len(values):.2f}%", codes]
        )
    ok = result["lost"] == 0 and result["doubled"] == 0
    setup = len(api.latency["open_account"]) + len(api.latency["put_limits"])
    return "\n".join(
        [
            f"{result['users']:,} simulated users (each its own paper account), {args.seconds:.0f} s of think time "
            f"(exponential, mean {args.think:.0f} s) and actions (30% order submissions, 70% reads), at most "
            f"{args.concurrency} requests in flight, against `trade2026 up --no-demo-data` with the S&P 500 daily bars "
            f"loaded. {total:,} requests: {setup:,} to set the users up (open_account, put_limits), then "
            f"{total - setup:,} in the {result['wall']:.0f} s of the mixed phase "
            f"({(total - setup) / result['wall']:.1f} req/s; requests in flight finish after the last scheduled "
            f"action); server errors and connection failures: {errors} ({100 * errors / max(total, 1):.2f}%).",
            "",
            markdown_table(["route", "requests", "p50 (ms)", "p99 (ms)", "5xx+failed", "statuses"], rows),
            "",
            f"No loss, no doubles: {result['submitted']:,} order submissions answered, "
            f"{result['stored']:,} orders stored; "
            f"{result['lost']} answered orders missing, {result['doubled']} extra or repeated. "
            f"Check passed: {'yes' if ok else 'NO'}.",
        ]
    )


def main() -> None:
    parser = bench_arguments(__doc__ or "", default_runs=1)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--think", type=float, default=10.0, help="mean think time per user (s)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perf-load-") as tmp:
        cloud = LocalCloud(Path(tmp))
        try:
            subprocess.run(
                [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", tmp],
                cwd=ROOT, env=child_environment(), check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            api = Api(Path(tmp))
            result = run(api, args.users, args.seconds, args.concurrency, args.think, args.seed)
        finally:
            cloud.stop()
    text = render(api, result, args) + "\n\n" + provenance()
    print(text)
    if args.write:
        update_section("load", "### Load: 1,000 simulated users\n\n" + text)
    if result["lost"] or result["doubled"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
