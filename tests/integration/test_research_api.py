"""The research API on the local cloud: single backtests, sweeps through Step Functions, PBO, bad requests."""

import subprocess
import sys
import time

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.backtest import BacktestConfig, backtest_signals
from trade2026.domain.strategies import run_strategy

pytestmark = pytest.mark.integration
BACKTEST = {
    "strategy": "ma_crossover",
    "symbols": ["SP500"],
    "params": {"fast": 10, "slow": 50},
    "fees_bps": 10,
}


@pytest.fixture(scope="module")
def sp500(cloud):
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500", "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return load_daily("sp500")


def test_a_backtest_through_the_api_equals_the_engine_on_the_package_data(cloud, trader_token, sp500):
    # Given the S&P 500 loaded through the CLI, When a crossover is backtested through the API
    response = cloud.post("/v1/backtests", trader_token, json=BACKTEST)
    assert response.status_code == 200, response.text
    body = response.json()
    # Then its equity equals the domain engine run directly on arch's closes with the same settings
    close = sp500["close"]
    signals = run_strategy("ma_crossover", close, {"fast": 10, "slow": 50})
    expected = backtest_signals(close, signals.entries, signals.exits, BacktestConfig(fees_bps=10.0))
    assert body["metrics"]["final_equity"] == pytest.approx(float(expected.equity[-1]), rel=1e-9)
    assert body["trades_total"] == len(expected.trades.pnl)
    assert len(body["series"]["equity"]) == 5031
    assert body["series"]["dates"][0] == "1999-01-04"
    # And it is stored: the owner reads it back, another user does not see it
    stored = cloud.get(f"/v1/backtests/{body['id']}", trader_token)
    assert stored.status_code == 200
    assert stored.json()["metrics"] == body["metrics"]
    assert cloud.get(f"/v1/backtests/{body['id']}", cloud.id_token("viewer")).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"strategy": "astrology"}, 400, "unknown strategy"),
        ({"params": {"fast": 10, "slow": 6000}}, 400, "window longer than the data"),
        ({"start": "2030-01-01", "end": "2030-12-31"}, 400, "empty date range"),
        ({"start": "2018-12-31", "end": "2018-01-01"}, 400, "start is after end"),
        ({"fees_bps": -1}, 422, "fees_bps"),
        ({"symbols": ["NOPE"]}, 400, "Unknown symbol"),
        ({"params": {"fast": 50, "slow": 10}}, 400, "must be <"),
    ],
)
def test_bad_backtest_requests_get_a_4xx_with_the_reason(cloud, trader_token, sp500, change, status, words):
    response = cloud.post("/v1/backtests", trader_token, json=BACKTEST | change)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


def test_a_viewer_cannot_start_backtests(cloud, sp500):
    response = cloud.post("/v1/backtests", cloud.id_token("viewer"), json=BACKTEST)
    assert response.status_code == 403
    assert "trader" in response.json()["message"]


def test_a_500_configuration_sweep_runs_through_step_functions_and_shows_its_pbo(cloud, trader_token, sp500):
    # Given a 25 x 20 grid of crossovers (500 configurations) in chunks of 50
    sweep = {
        "strategy": "ma_crossover", "symbols": ["SP500"], "fees_bps": 10, "chunk_size": 50,
        "grid": {"fast": list(range(2, 27)), "slow": list(range(30, 230, 10))},
    }  # fmt: skip
    started = cloud.post("/v1/backtests/sweeps", trader_token, json=sweep)
    assert started.status_code == 202, started.text
    sweep_id = started.json()["id"]
    assert started.json()["chunks_total"] == 10
    # When the state machine has run every chunk
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = cloud.get(f"/v1/backtests/sweeps/{sweep_id}", trader_token).json()
        if status["status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(1)
    # Then it succeeded with every chunk counted once, a ranking, a deflated Sharpe and a PBO
    assert status["status"] == "SUCCEEDED", status
    assert status["chunks_done"] == 10
    summary = status["summary"]
    assert summary["configs"] == 500
    sharpes = [row["metrics"]["sharpe"] for row in summary["best"]]
    assert sharpes == sorted(sharpes, reverse=True)
    assert 0 <= summary["deflated_sharpe"]["dsr"] <= 1
    pbo = cloud.get(f"/v1/backtests/sweeps/{sweep_id}/pbo", trader_token).json()
    assert pbo["n_splits"] == 12870
    assert 0 <= pbo["pbo"] <= 1
    assert pbo["pbo"] == summary["pbo"]
    assert sum(pbo["logit_histogram"]["counts"]) == 12870


def test_a_sweep_with_an_invalid_configuration_is_refused_before_it_starts(cloud, trader_token, sp500):
    sweep = {"strategy": "ma_crossover", "symbols": ["SP500"], "grid": {"fast": [5, 100], "slow": [50]}}
    response = cloud.post("/v1/backtests/sweeps", trader_token, json=sweep)
    assert response.status_code == 400
    assert "fast (100) must be < slow (50)" in response.json()["message"]


def test_pbo_of_an_unknown_sweep_is_404(cloud, trader_token):
    assert cloud.get(f"/v1/backtests/sweeps/{'0' * 32}/pbo", trader_token).status_code == 404


def test_the_sweep_state_machine_uses_a_distributed_map(repo_root):
    import json

    definition = json.loads((repo_root / "statemachines" / "backtest_sweep.asl.json").read_text())
    processor = definition["States"]["RunChunks"]["ItemProcessor"]["ProcessorConfig"]
    assert processor["Mode"] == "DISTRIBUTED"
    assert np.isfinite(definition["States"]["RunChunks"]["MaxConcurrency"])


def test_the_strategy_catalogue_lists_every_built_in_strategy(cloud, trader_token):
    names = {s["name"] for s in cloud.get("/v1/backtests/strategies", trader_token).json()["strategies"]}
    assert names == {"ma_crossover", "rsi_mean_reversion", "bollinger_breakout", "ts_momentum",
                     "cross_sectional_momentum"}  # fmt: skip


def test_walk_forward_stitches_out_of_sample_years_chosen_in_sample(cloud, trader_token, sp500):
    # Given 3-year training and 1-year test windows over 1999-2018
    request = {
        "strategy": "ma_crossover", "symbols": ["SP500"], "fees_bps": 10,
        "grid": {"fast": [5, 10, 20], "slow": [50, 100, 200]}, "train_bars": 756, "test_bars": 252,
    }  # fmt: skip
    response = cloud.post("/v1/backtests/walkforward", trader_token, json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    folds = body["folds"]
    # Then folds roll by a year, every test window starts after its training window, and the stitched
    # out-of-sample series covers exactly the test windows
    assert len(folds) == (5031 - 756) // 252
    for fold in folds:
        assert fold["train"][1] < fold["test"][0]
        assert fold["chosen"]["fast"] < fold["chosen"]["slow"]
    assert len(body["oos_series"]["dates"]) == 252 * len(folds)
    assert body["oos_series"]["dates"][0] == folds[0]["test"][0]
    # And a window longer than the data is a clear 400
    too_long = cloud.post("/v1/backtests/walkforward", trader_token, json=request | {"train_bars": 6000})
    assert too_long.status_code == 400
    assert "fold" in too_long.json()["message"] or "longer" in too_long.json()["message"]
