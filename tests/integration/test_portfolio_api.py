"""The portfolio API on the local cloud over the real 20 stocks: HRP equals PyPortfolioOpt, viewers may run
analytics, covariance with its spectrum, and bad input answered with a 4xx that says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ["AAPL", "AMD", "BAC", "JNJ", "JPM", "KO", "MSFT", "PG", "WMT", "XOM"]
RANGE = {"start": "2015-01-01", "end": "2022-12-31"}


@pytest.fixture(scope="module")
def returns(cloud: Any) -> pd.DataFrame:
    """The 20 stocks loaded with the CLI; returns skfolio's closes of the ten used here, as daily returns."""
    from skfolio.datasets import load_sp500_dataset

    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "stocks20", "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    prices = load_sp500_dataset()[SYMBOLS].loc[RANGE["start"] : RANGE["end"]].dropna()
    return prices.pct_change().dropna()


def test_a_viewer_gets_hrp_weights_equal_to_pypfopt_with_a_backtest(
    cloud: Any, returns: pd.DataFrame
) -> None:
    from pypfopt import HRPOpt

    # Given the stocks in the platform, When a viewer asks for HRP (single linkage)
    response = cloud.post(
        "/v1/portfolio/optimize", cloud.id_token("viewer"),
        json={"symbols": SYMBOLS, "method": "hrp", "linkage": "single", **RANGE},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    # Then the weights equal PyPortfolioOpt's on skfolio's prices, and the rebalanced backtest is there
    reference = HRPOpt(returns).optimize("single")
    np.testing.assert_allclose(
        [body["weights"][s] for s in SYMBOLS], [reference[s] for s in SYMBOLS], atol=1e-8
    )
    assert sum(body["risk_contributions"].values()) == pytest.approx(body["volatility"], rel=1e-9)
    assert body["backtest"]["rebalances"] == 96
    assert body["backtest"]["series"]["dates"][0] == "2015-01-02"


def test_covariance_with_its_marchenko_pastur_spectrum(
    cloud: Any, trader_token: str, returns: pd.DataFrame
) -> None:
    from sklearn.covariance import LedoitWolf

    response = cloud.post(
        "/v1/portfolio/covariance", trader_token, json={"symbols": SYMBOLS, "method": "ledoit_wolf", **RANGE}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = LedoitWolf().fit(returns.to_numpy()).covariance_ * 252
    np.testing.assert_allclose(np.array(body["covariance"]), expected, rtol=1e-9)
    assert body["spectrum"]["n_factors"] >= 1 and body["spectrum"]["lambda_plus"] > 0


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"weight_bounds": [0, 0.05]}, 400, "upper bounds sum to 0.5 < 1"),
        ({"method": "efficient_return", "target_return": 3.0}, 400, "above the maximum attainable"),
        ({"start": "2022-12-19"}, 400, "observations are fewer than needed for 10 assets"),
        ({"symbols": ["AAPL", "NOPE"]}, 400, "Unknown symbol"),
        ({"covariance": {"method": "denoised", "detone": True}}, 400, "singular"),
        ({"method": "astrology"}, 422, "method"),
    ],
)
def test_bad_input_is_a_4xx_with_the_reason(
    cloud: Any, trader_token: str, returns: pd.DataFrame, change: dict[str, Any], status: int, words: str
) -> None:
    body = {"symbols": SYMBOLS, "method": "min_volatility", **RANGE} | change
    response = cloud.post("/v1/portfolio/optimize", trader_token, json=body)
    assert response.status_code == status, response.text
    assert words in response.text


def test_signed_out_callers_are_refused(cloud: Any) -> None:
    response = cloud.post("/v1/portfolio/optimize", None, json={"symbols": SYMBOLS})
    assert response.status_code == 401
