"""The physics API on the local cloud with the real 20 stocks: the signals equal the domain's, and the 4xx answers."""

import subprocess
import sys

import numpy as np
import pytest

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import physics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stocks20(cloud):
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", "stocks20", "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return load_daily("stocks20")


def test_signals_of_the_real_20_stocks_equal_the_domain_on_the_package_data(cloud, trader_token, stocks20):
    # Given the 20 stocks loaded through the CLI
    symbols = sorted(set(stocks20["symbol"].tolist()))
    body = {"symbols": symbols, "start": "2000-01-01", "max_points": 400, "percolation_threshold": 0.4}
    # When their physics signals are requested
    response = cloud.post("/v1/physics/signals", trader_token, json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    # Then the cross-sectional signals on the last day equal the domain's on skfolio's closes
    rows = stocks20["date"] >= np.datetime64("2000-01-01")
    closes = np.column_stack([stocks20["close"][rows & (stocks20["symbol"] == s)] for s in symbols])
    r = closes[1:] / closes[:-1] - 1
    assert out["returns_used"] == len(r) and len(out["dates"]) == 400
    assert out["cross_section"]["turbulence"][-1] == pytest.approx(physics.turbulence(r, 252)[-1], rel=1e-6)
    assert out["cross_section"]["percolation"][-1] == pytest.approx(physics.percolation(r, 60, 0.4)[-1])
    aapl = physics.rolling_permutation_entropy(r[:, symbols.index("AAPL")], 63, 3, 1)
    assert out["symbols"]["AAPL"]["permutation_entropy"][-1] == pytest.approx(aapl[-1], abs=1e-8)
    # And the close-only data set has no pressure, with the reason
    assert out["symbols"]["AAPL"]["pressure"] is None and "volume" in out["symbols"]["AAPL"]["pressure_note"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"symbols": ["KO"], "start": "2020-01-01", "end": "2020-03-31"}, 400, "the windows need"),
        ({"symbols": ["NOPE"]}, 400, "Unknown symbol"),
        ({"symbols": ["KO", "PEP"], "percolation_threshold": 1.5}, 422, "percolation_threshold"),
        ({"symbols": ["KO", "KO"]}, 422, "unique"),
    ],
)
def test_bad_physics_requests_get_a_4xx_with_the_reason(cloud, trader_token, stocks20, body, status, words):
    response = cloud.post("/v1/physics/signals", trader_token, json=body)
    assert response.status_code == status, response.text
    assert words in response.text
