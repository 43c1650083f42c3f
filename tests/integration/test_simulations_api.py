"""The simulations API on the local cloud: a real portfolio simulated now, the same run through Step Functions
(identical numbers), a stored backtest simulated, and the 4xx answers."""

import subprocess
import sys
import time

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import simulation as sim

pytestmark = pytest.mark.integration
PORTFOLIO = {"symbols": ["AAPL", "JNJ", "XOM"], "weights": [0.4, 0.3, 0.3], "start": "2000-01-01"}


def ingest(cloud, source: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", source, "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def stocks20(cloud):
    ingest(cloud, "stocks20")
    return load_daily("stocks20")


def portfolio_returns(data: dict[str, np.ndarray]) -> np.ndarray:
    closes = []
    for symbol in PORTFOLIO["symbols"]:
        rows = (data["symbol"] == symbol) & (data["date"] >= np.datetime64("2000-01-01"))
        closes.append(data["close"][rows])
    c = np.column_stack(closes)
    return (c[1:] / c[:-1] - 1) @ np.asarray(PORTFOLIO["weights"])


def numbers(tree: object) -> list[float]:
    """Every number of a JSON tree, in order (to compare results with a tolerance)."""
    if isinstance(tree, dict):
        return [x for key in sorted(tree) for x in numbers(tree[key])]
    if isinstance(tree, list):
        return [x for item in tree for x in numbers(item)]
    return [float(tree)] if isinstance(tree, int | float) else []


def wait_done(cloud, token: str, run_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = cloud.get(f"/v1/simulations/{run_id}", token).json()
        if body["status"] in ("SUCCEEDED", "FAILED"):
            return body
        time.sleep(1)
    raise AssertionError(f"simulation {run_id} did not finish: {body}")


def test_a_real_portfolio_bootstrap_equals_the_engine_run_directly(cloud, trader_token, stocks20):
    # Given 3 of the real 20 stocks since 2000, When their portfolio is bootstrapped through the API
    body = {"model": "bootstrap", "portfolio": PORTFOLIO, "horizon_days": 252, "paths": 5_000, "seed": 7,
            "initial_wealth": 1_000_000, "ruin_fraction": 0.7, "mean_block": 10}  # fmt: skip
    response = cloud.post("/v1/simulations", trader_token, json=body)
    assert response.status_code == 201, response.text
    run = response.json()
    # Then the result equals the domain engine on the same returns (computed here from skfolio's data)
    returns = portfolio_returns(stocks20)
    spec = sim.SimulationSpec(model="bootstrap", horizon=252, paths=5_000, seed=7, initial_wealth=1e6,
                              ruin_fraction=0.7, log_returns=sim.to_log_returns(returns), mean_block=10)  # fmt: skip
    expected = sim.simulate(spec)
    assert run["status"] == "SUCCEEDED" and run["progress"] == 1.0
    assert run["result"]["inputs"]["sample"]["observations"] == len(returns)
    for key in ("terminal_wealth", "max_drawdown", "probability_of_ruin", "var_cvar", "fan_chart"):
        np.testing.assert_allclose(numbers(run["result"][key]), numbers(expected[key]), rtol=1e-10)
    assert len(run["result"]["fan_chart"]["days"]) == 101
    # And it is stored: listed for its owner, readable by them, missing for another user
    listed = cloud.get("/v1/simulations", trader_token).json()["simulations"]
    assert run["id"] in [s["id"] for s in listed]
    assert cloud.get(f"/v1/simulations/{run['id']}", trader_token).json()["result"] == run["result"]
    assert cloud.get(f"/v1/simulations/{run['id']}", cloud.id_token("viewer")).status_code == 404


def test_a_large_run_through_step_functions_gives_the_numbers_of_the_same_run_in_one_piece(
    cloud, trader_token
):
    # Given a regime-switching run of 5,000 paths x 5,000 days: 5 chunks in 3 tasks of the state machine
    body = {"model": "regime", "regime": {"mu": [0.1, -0.2], "sigma": [0.12, 0.35], "p_stay": [0.99, 0.95]},
            "horizon_days": 5_000, "paths": 5_000, "seed": 11, "ruin_fraction": 0.4}  # fmt: skip
    # When it runs asynchronously, and again synchronously in the API call
    started = cloud.post("/v1/simulations", trader_token, json=body | {"mode": "async"})
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "RUNNING" and started.json()["tasks_total"] == 3
    done = wait_done(cloud, trader_token, started.json()["id"])
    assert done["status"] == "SUCCEEDED", done
    assert done["tasks_done"] == 3 and done["progress"] == 1.0
    direct = cloud.post("/v1/simulations", trader_token, json=body | {"mode": "sync"})
    assert direct.status_code == 201, direct.text
    # Then both results are the same, number for number
    assert done["result"] == direct.json()["result"]
    assert done["summary"]["probability_of_ruin"] == done["result"]["probability_of_ruin"]["value"]


def test_a_stored_backtest_is_simulated_from_its_daily_returns(cloud, trader_token, stocks20):
    # Given a stored backtest of a crossover on AAPL
    backtest = cloud.post("/v1/backtests", trader_token, json={
        "strategy": "ma_crossover", "symbols": ["AAPL"], "params": {"fast": 10, "slow": 50}, "start": "2010-01-01",
    })  # fmt: skip
    assert backtest.status_code == 200, backtest.text
    equity = np.asarray(backtest.json()["series"]["equity"])
    # When it is simulated with GBM estimated from its returns
    body = {"model": "gbm", "backtest_id": backtest.json()["id"], "paths": 1_000, "horizon_days": 126}
    response = cloud.post("/v1/simulations", trader_token, json=body)
    assert response.status_code == 201, response.text
    # Then the GBM parameters are those of the backtest's daily returns
    lr = np.log(equity[1:] / equity[:-1])
    assert response.json()["result"]["inputs"]["gbm"]["sigma"] == pytest.approx(lr.std(ddof=1) * np.sqrt(252))
    # And a viewer cannot simulate it (simulations need the trader group)
    viewer = cloud.post("/v1/simulations", cloud.id_token("viewer"), json=body)
    assert viewer.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"model": "bootstrap", "returns": [0.01, -1.5, 0.0]}, 422, "above -1"),
        ({"model": "bootstrap", "portfolio": {"symbols": ["NOPE"], "weights": [1]}}, 400, "Unknown symbol"),
        (
            {"model": "bootstrap", "portfolio": {"symbols": ["AAPL", "KO"], "weights": [1]}},
            422,
            "1 weights for 2",
        ),
        (
            {
                "model": "gbm",
                "gbm": {"mu": 0.05, "sigma": 0.2},
                "paths": 100_000,
                "horizon_days": 2_520,
                "mode": "sync",
            },
            400,
            "above the synchronous budget",
        ),
        (
            {"model": "regime", "returns": [0.01, -0.01, 0.02]},
            400,
            "regime estimation needs at least 42 returns",
        ),
        ({"model": "gbm", "backtest_id": "0" * 32}, 404, "No backtest"),
        (
            {"model": "bootstrap", "portfolio": {"symbols": ["AAPL"], "weights": [1], "start": "2030-01-01"}},
            400,
            "empty date range",
        ),
    ],
)
def test_bad_simulation_requests_get_a_4xx_with_the_reason(
    cloud, trader_token, stocks20, body, status, words
):
    response = cloud.post("/v1/simulations", trader_token, json=body)
    assert response.status_code == status, response.text
    assert words in response.text


def test_a_viewer_cannot_run_simulations_and_unknown_ids_are_404(cloud, trader_token):
    body = {"model": "gbm", "gbm": {"mu": 0.05, "sigma": 0.2}, "paths": 100}
    assert cloud.post("/v1/simulations", cloud.id_token("viewer"), json=body).status_code == 403
    assert cloud.get(f"/v1/simulations/{'a' * 32}", trader_token).status_code == 404
