"""Fault injection runs against the local cloud, then the no-loss/no-double checks (`make perf`, not CI).

1. flaky handlers: the orders, risk and broker functions fail 10% of their invocations (LOCALCLOUD_FAULT_RATE,
   honoured by the local Lambda worker: half before the handler runs, half after its work is done and only
   the answer is lost). Clients retry with the same Idempotency-Key; EventBridge retries the broker's BarClosed
   deliveries (RetryPolicy of the template).
2. killed execution environments mid-order-flow: while orders and fills flow, the orders/risk/broker worker
   processes are SIGKILLed every --kill-every seconds (Runtime.ExitError, as when a Lambda sandbox dies); fills
   booked by a killed broker reach the position through the broker's 1-minute outbox sweep.
3. throttled tables: 20% of the DynamoDB requests to the orders and accounts tables are refused with
   ProvisionedThroughputExceededException (LOCALCLOUD_THROTTLE_RATE, honoured by the local cloud).
4. a killed worker mid-sweep: a 200-configuration parameter sweep runs while its plan/chunk/finish workers are
   SIGKILLed; the sweep must succeed with every chunk counted once and every configuration ranked.

Checks after each run: every order answered 201 is stored once; distinct orders == distinct keys; every order
filled exactly its quantity once (fills carry <order id>:<bar id>); the account's position == the sum of fills.

    .venv/bin/python tests/performance/fault_runs.py [--orders 300] [--clients 8] [--write]
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from common import (
    FAKE_AWS_ENV,
    ROOT,
    LocalCloud,
    bench_arguments,
    child_environment,
    markdown_table,
    provenance,
    signed_in,
    update_section,
)

os.environ.update(
    FAKE_AWS_ENV
)  # this process signs EventBridge calls to the local cloud: fake credentials only
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

ORDER = {"symbol": "SP500", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "2500.00",
         "time_in_force": "gtc"}  # fmt: skip
LIMITS = {"max_orders_per_second": 1_000_000, "max_gross_exposure": "1e15", "max_net_exposure": "1e15",
          "max_position_quantity": "1e9"}  # fmt: skip
FAULTY = "trade2026-dev-orders,trade2026-dev-risk,trade2026-dev-broker"
THROTTLED = "trade2026-dev-orders,trade2026-dev-accounts"


class Client:
    def __init__(self, state_dir: Path) -> None:
        state, self.tokens = signed_in(state_dir)
        self.api, self.aws = state["api_url"], state["aws_endpoint"]
        self.events = boto3.client("events", endpoint_url=self.aws, region_name="us-east-1")

    def call(
        self, method: str, path: str, body: Any = None, group: str = "trader", **headers: str
    ) -> requests.Response:
        all_headers = {"Authorization": self.tokens[group], "Content-Type": "application/json", **headers}
        return requests.request(method, f"{self.api}{path}", headers=all_headers, timeout=60,
                                data=None if body is None else json.dumps(body))  # fmt: skip

    def account(self) -> str:
        for _ in range(20):
            response = self.call("POST", "/v1/accounts", {"name": "faults", "starting_cash": "1000000000"})
            if response.status_code == 201:
                account = str(response.json()["id"])
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"no account: {response.text}")
        while self.call("PUT", f"/v1/accounts/{account}/limits", LIMITS, group="admin").status_code != 200:
            time.sleep(0.5)
        return account

    def orders(self, account: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
            response = self.call("GET", f"/v1/accounts/{account}/orders{query}")
            if response.status_code != 200:
                time.sleep(0.5)
                continue
            page = response.json()
            found += page["orders"]
            cursor = page["next_cursor"]
            if not cursor:
                return found


def submit_all(client: Client, account: str, orders: int, clients: int) -> dict[str, Any]:
    """Each key submitted until answered 201 (retrying lost answers, 5xx and 409 in-progress)."""
    answers: dict[str, str] = {}
    retries = 0
    lock = threading.Lock()

    def submit(index: int) -> None:
        nonlocal retries
        key = f"fault-{index}"
        for _attempt in range(200):
            try:
                response = client.call(
                    "POST", f"/v1/accounts/{account}/orders", ORDER, **{"Idempotency-Key": key}
                )
            except requests.RequestException:
                response = None
            if response is not None and response.status_code == 201:
                with lock:
                    answers[key] = response.json()["id"]
                return
            with lock:
                retries += 1
            time.sleep(0.1)
        raise RuntimeError(f"{key}: never accepted")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(submit, range(orders)))
    return {"answers": answers, "retries": retries}


def fill_all(client: Client, account: str, orders: int) -> None:
    """Bars trading through the limit until every order is filled (10% of a bar's volume fills per bar)."""
    start = time.time_ns() + 1_000_000_000
    for bar in range(200):
        detail = {"symbol": "SP500", "start": start + bar * 60_000_000_000, "end": start + (bar + 1) * 60_000_000_000,
                  "open": 2499.0, "high": 2501.0, "low": 2480.0, "close": 2490.0, "volume": float(orders * 20),
                  "id": f"SP500:1m:{start + bar * 60_000_000_000}"}  # fmt: skip
        client.events.put_events(Entries=[{"EventBusName": "trade2026-dev", "Source": "trade2026.marketdata",
                                           "DetailType": "BarClosed", "Detail": json.dumps(detail)}])  # fmt: skip
        time.sleep(2)
        if all(o["status"] == "filled" for o in client.orders(account)):
            return


def wait_settled(client: Client, account: str, expected: int, timeout_s: float = 300) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        orders = client.orders(account)
        if (
            len(orders) >= expected and all(o["status"] == "filled" for o in orders)
        ) or time.monotonic() > deadline:
            return orders
        time.sleep(2)


def position_of(client: Client, account: str) -> Decimal:
    positions = client.call("GET", f"/v1/accounts/{account}/positions").json()
    return sum((Decimal(p["quantity"]) for p in positions.get("positions", []) if p.get("symbol") == "SP500"),
               Decimal(0))  # fmt: skip


def check(client: Client, account: str, submitted: dict[str, Any], orders: int) -> dict[str, Any]:
    stored = wait_settled(client, account, orders)
    ids = [o["id"] for o in stored]
    answered = set(submitted["answers"].values())
    filled = sum(Decimal(o.get("filled_quantity") or 0) for o in stored)
    over = sum(1 for o in stored if Decimal(o.get("filled_quantity") or 0) > Decimal(o.get("quantity", "1")))
    # A fill booked on its order by a worker killed before the position update reaches the position through
    # the broker's outbox sweep (a rate(1 minute) schedule, fired by the local cloud; 30 s settle time).
    deadline = time.monotonic() + 150
    while (held := position_of(client, account)) != filled and time.monotonic() < deadline:
        time.sleep(5)
    return {
        "keys": orders, "answered": len(answered), "stored": len(ids), "distinct": len(set(ids)),
        "missing": len(answered - set(ids)), "extra": len(set(ids) - answered),
        "filled_orders": sum(1 for o in stored if o["status"] == "filled"), "filled_qty": filled,
        "overfilled": over, "position": held, "client_retries": submitted["retries"],
    }  # fmt: skip


def worker_pids(cloud: LocalCloud, functions: set[str]) -> list[int]:
    """The cloud's Lambda worker processes of the given functions (children of the process we started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) != cloud.process.pid:
            continue
        names = {e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"AWS_LAMBDA_FUNCTION_NAME=")}
        if names & functions:
            found.append(int(entry.name))
    return found


class FaultyCloud:
    """A fresh local cloud with the S&P 500 loaded, optional environment faults, and a killer thread that
    SIGKILLs two worker processes of ``kill_functions`` every ``kill_every`` seconds while it runs."""

    def __init__(self, name: str, extra_env: dict[str, str], kill_functions: str, kill_every: float | None):
        self.tmp = tempfile.TemporaryDirectory(prefix="perf-faults-")
        saved = dict(os.environ)
        os.environ.update(extra_env)  # LocalCloud starts `trade2026 up` with this process's environment
        try:
            self.cloud = LocalCloud(Path(self.tmp.name))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.kill_functions, self.kill_every, self.killed = set(kill_functions.split(",")), kill_every, 0
        self.stop = threading.Event()

    def __enter__(self) -> FaultyCloud:
        try:
            subprocess.run(
                [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", self.tmp.name],
                cwd=ROOT, env=child_environment(), check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            self.client = Client(Path(self.tmp.name))
        except BaseException:
            self.close()
            raise
        return self

    def start_killing(self) -> None:
        if self.kill_every:
            threading.Thread(target=self._killer, daemon=True).start()

    def _killer(self) -> None:
        rng = random.Random(7)
        while not self.stop.wait(self.kill_every or 1):
            pids = worker_pids(self.cloud, self.kill_functions)
            for pid in rng.sample(pids, k=min(len(pids), 2)):
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.killed += 1
                except ProcessLookupError:
                    pass

    def log_count(self, text: str) -> int:
        return sum(
            p.read_text(errors="replace").count(text) for p in (Path(self.tmp.name) / "logs").glob("*.log")
        )

    def counters(self) -> dict[str, Any]:
        stats = requests.get(f"{self.client.aws}/_localcloud/aws-stats", timeout=10).json()
        return {
            "killed": self.killed, "injected": self.log_count("[ERROR] RuntimeError: injected fault"),
            "exit_errors": self.log_count("Runtime.ExitError"),
            "swept": self.log_count("flushed outboxes left by stopped writers"),
            "throttled": int(stats.get("dynamodb-throttled", {}).get("calls", 0)),
        }  # fmt: skip

    def close(self) -> None:
        self.stop.set()
        self.cloud.stop()
        self.tmp.cleanup()

    def __exit__(self, *_exc: object) -> None:
        self.close()


def run(
    name: str, extra_env: dict[str, str], orders: int, clients: int, kill_every: float | None
) -> dict[str, Any]:
    with FaultyCloud(name, extra_env, FAULTY, kill_every) as faulty:
        client = faulty.client
        account = client.account()
        faulty.start_killing()
        started = time.monotonic()
        submitted = submit_all(client, account, orders, clients)
        fill_all(client, account, orders)
        faulty.stop.set()
        result = check(client, account, submitted, orders)
        return {**result, **faulty.counters(), "seconds": time.monotonic() - started, "name": name}


SWEEP = {  # 200 crossovers in 20 chunks of 10
    "strategy": "ma_crossover", "symbols": ["SP500"], "fees_bps": 10, "chunk_size": 10,
    "grid": {"fast": list(range(2, 22)), "slow": list(range(30, 230, 20))},
}  # fmt: skip
SWEEP_WORKERS = "trade2026-dev-sweep-chunk,trade2026-dev-sweep-plan,trade2026-dev-sweep-finish"


def run_sweep(kill_every: float) -> dict[str, Any]:
    """A parameter sweep while its chunk workers are killed: it must finish with every configuration once."""
    with FaultyCloud("sweep", {}, SWEEP_WORKERS, kill_every) as faulty:
        client = faulty.client
        started = time.monotonic()
        answer = client.call("POST", "/v1/backtests/sweeps", SWEEP)
        if answer.status_code != 202:
            raise RuntimeError(f"sweep refused: {answer.text}")
        sweep_id = answer.json()["id"]
        faulty.start_killing()
        deadline = time.monotonic() + 900
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = client.call("GET", f"/v1/backtests/sweeps/{sweep_id}").json()
            if status.get("status") in ("SUCCEEDED", "FAILED"):
                break
            time.sleep(2)
        faulty.stop.set()
        summary = status.get("summary") or {}
        expected = len(SWEEP["grid"]["fast"]) * len(SWEEP["grid"]["slow"])  # type: ignore[index]
        ok = (status.get("status") == "SUCCEEDED" and status.get("chunks_done") == status.get("chunks_total")
              and summary.get("configs") == expected)  # fmt: skip
        return {
            **faulty.counters(), "seconds": time.monotonic() - started, "status": status.get("status"),
            "chunks": f"{status.get('chunks_done')} / {status.get('chunks_total')}",
            "configs": f"{summary.get('configs')} / {expected}", "error": status.get("error"), "ok": ok,
        }  # fmt: skip


def render(results: list[dict[str, Any]], args: Any) -> str:
    rows = []
    for r in results:
        ok = (r["missing"] == 0 and r["extra"] == 0 and r["stored"] == r["distinct"] == r["keys"]
              and r["filled_orders"] == r["keys"] and r["filled_qty"] == r["keys"] == r["position"]
              and r["overfilled"] == 0)  # fmt: skip
        r["ok"] = ok
        rows.append([r["name"], f"{r['seconds']:.0f}", r["injected"], r["throttled"], r["killed"],
                     r["exit_errors"], r["swept"], r["client_retries"], f"{r['stored']} / {r['keys']}",
                     r["distinct"], r["missing"],
                     f"{r['filled_qty']} / {r['keys']}", r["overfilled"], r["position"],
                     "yes" if ok else "NO"])  # fmt: skip
    return "\n".join(
        [
            f"{args.orders} limit buys (quantity 1, GTC) submitted by {args.clients} clients, each key retried "
            "until answered 201; then BarClosed events every 2 s until every order is filled (10% of a bar's "
            "volume per bar). "
            "Faulty functions: orders, risk, broker. Throttled tables: orders and accounts (20% of their "
            "DynamoDB requests refused with ProvisionedThroughputExceededException; botocore retries them).",
            "",
            markdown_table(
                [
                    "run",
                    "s",
                    "injected faults",
                    "throttled requests",
                    "workers killed",
                    "ExitErrors",
                    "outbox sweeps that recovered orders",
                    "client retries",
                    "orders stored / keys",
                    "distinct",
                    "answered but missing",
                    "filled qty / ordered",
                    "overfilled",
                    "position",
                    "no loss, no double",
                ],
                rows,
            ),
        ]
    )


SWEEP_COLUMNS = ["s", "workers killed", "ExitErrors", "sweep", "chunks done / total", "configurations ranked",
                 "complete, nothing doubled"]  # fmt: skip


def render_sweep(result: dict[str, Any], args: Any) -> str:
    row = [f"{result['seconds']:.0f}", result["killed"], result["exit_errors"], result["status"], result["chunks"],
           result["configs"], "yes" if result["ok"] else f"NO ({result['error']})"]  # fmt: skip
    return "\n".join(
        [
            f"A sweep of 200 crossovers in 20 chunks through Step Functions while two of its workers (plan, chunk, "
            f"finish) are SIGKILLed every {args.sweep_kill_every} s; a chunk's task is retried and must count once.",
            "",
            markdown_table(SWEEP_COLUMNS, [row]),
            "",
            "Not run: killing the whole local cloud (moto keeps its state in memory: a killed local cloud loses "
            "everything; on AWS the services are durable).",
        ]
    )


def main() -> None:
    parser = bench_arguments(__doc__ or "", default_runs=1)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--sweep-kill-every", type=float, default=5.0)
    args = parser.parse_args()
    results = [
        run("flaky handlers (10%)", {"LOCALCLOUD_FAULT_RATE": "0.1", "LOCALCLOUD_FAULT_FUNCTIONS": FAULTY},
            args.orders, args.clients, None),
        run("workers killed mid-flow", {}, args.orders, args.clients, args.kill_every),
        run("throttled tables (20%)", {"LOCALCLOUD_THROTTLE_RATE": "0.2", "LOCALCLOUD_THROTTLE_TABLES": THROTTLED},
            args.orders, args.clients, None),
    ]  # fmt: skip
    sweep = run_sweep(args.sweep_kill_every)
    text = render(results, args) + "\n\n" + render_sweep(sweep, args) + "\n\n" + provenance()
    print(text)
    if args.write:
        update_section("faults", "### Fault injection\n\n" + text)
    if not all(r["ok"] for r in [*results, sweep]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
