"""The portfolio service over the real 20 stocks: responses, the rebalanced backtest, and every bad input -> 4xx."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from trade2026.domain.backtest import BacktestConfig, backtest_weights
from trade2026.errors import BadRequest
from trade2026.services import portfolio

SYMBOLS = ["AAPL", "AMD", "BAC", "JNJ", "JPM", "KO", "MSFT", "PG", "WMT", "XOM"]
RANGE = {"start": "2015-01-01", "end": "2022-12-31"}


def optimize(readers: Any, **fields: Any) -> dict[str, Any]:
    request = portfolio.OptimizeRequest(**({"symbols": SYMBOLS} | RANGE | fields))
    return portfolio.run_optimize(request, readers(request.start, request.end)).model_dump()


def test_max_sharpe_reports_weights_risk_contributions_and_a_monthly_backtest(
    stocks20_reader: Any, stocks20_prices: pd.DataFrame
) -> None:
    # Given ten real stocks 2015-2022, When the max-Sharpe portfolio is requested with 2% risk-free rate
    body = optimize(stocks20_reader, method="max_sharpe", risk_free_rate=0.02, backtest={"fees_bps": 5})
    weights = np.array([body["weights"][s] for s in SYMBOLS])
    # Then the weights are long-only and sum to 1, the risk contributions sum to the volatility
    assert weights.sum() == pytest.approx(1.0) and weights.min() >= 0
    assert sum(body["risk_contributions"].values()) == pytest.approx(body["volatility"], rel=1e-9)
    assert sum(body["variance_shares"].values()) == pytest.approx(1.0)
    assert body["sharpe"] == pytest.approx((body["expected_return"] - 0.02) / body["volatility"])
    # And the backtest is the research engine rebalancing these weights on each month's first session
    window = stocks20_prices.loc["2015-01-01":"2022-12-31", SYMBOLS]
    target = np.full(window.shape, np.nan)
    months = window.index.to_period("M")
    firsts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    target[firsts] = weights
    expected = backtest_weights(window.to_numpy(), target, BacktestConfig(fees_bps=5.0))
    assert body["backtest"]["rebalances"] == len(firsts) == 96
    assert body["backtest"]["metrics"]["final_equity"] == pytest.approx(float(expected.equity[-1]), rel=1e-9)
    assert body["backtest"]["series"]["dates"][0] == str(window.index[0].date())


@pytest.mark.parametrize("method", ["hrp", "herc", "risk_parity", "min_cvar", "min_volatility"])
def test_every_method_returns_a_fully_invested_portfolio(stocks20_reader: Any, method: str) -> None:
    body = optimize(stocks20_reader, method=method, linkage="ward" if method == "herc" else "single")
    assert sum(body["weights"].values()) == pytest.approx(1.0)
    assert body["backtest"]["metrics"]["final_equity"] > 0
    if method == "risk_parity":
        contributions = np.array(list(body["risk_contributions"].values()))
        np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-8)


def test_frontier_groups_and_costs_through_the_service(stocks20_reader: Any) -> None:
    body = optimize(
        stocks20_reader, method="efficient_frontier", frontier_points=5, weight_bounds=(0, 0.3),
        asset_groups={"AAPL": "tech", "AMD": "tech", "MSFT": "tech"}, group_bounds={"tech": (0.0, 0.4)},
        current_weights=dict.fromkeys(SYMBOLS, 0.1), transaction_cost_bps=50,
    )  # fmt: skip
    assert len(body["frontier"]) == 5
    assert body["weights"]["AAPL"] + body["weights"]["AMD"] + body["weights"]["MSFT"] <= 0.4 + 1e-9
    assert body["trades"]["cost"] == pytest.approx(body["trades"]["turnover"] * 0.005)


def test_covariance_endpoint_reports_the_spectrum(
    stocks20_reader: Any, stocks20_prices: pd.DataFrame
) -> None:
    from sklearn.covariance import LedoitWolf

    request = portfolio.CovarianceRequest(symbols=SYMBOLS, method="ledoit_wolf", **RANGE)
    body = portfolio.run_covariance(request, stocks20_reader(request.start, request.end)).model_dump()
    returns = stocks20_prices.loc["2015-01-01":"2022-12-31", SYMBOLS].pct_change().dropna().to_numpy()
    np.testing.assert_allclose(
        np.array(body["covariance"]), LedoitWolf().fit(returns).covariance_ * 252, rtol=1e-9
    )
    spectrum = body["spectrum"]
    assert spectrum["eigenvalues"] == sorted(spectrum["eigenvalues"], reverse=True)
    assert sum(spectrum["sample_eigenvalues"]) == pytest.approx(10.0)
    assert spectrum["n_factors"] == sum(v > spectrum["lambda_plus"] for v in spectrum["sample_eigenvalues"])


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"weight_bounds": (0.0, 0.05)}, "upper bounds sum to 0.5 < 1"),
        ({"weight_bounds": (0.2, 1.0)}, "lower bounds sum to 2 > 1"),
        (
            {
                "asset_groups": {"AAPL": "tech", "MSFT": "tech"},
                "group_bounds": {"tech": (0.5, 1.0)},
                "weight_bounds": (0.0, 0.2),
            },
            "group tech: its assets' upper bounds sum to 0.4 < the group's lower bound 0.5",
        ),
        (
            {"method": "efficient_return", "target_return": 3.0},
            "target_return 3 is above the maximum attainable",
        ),
        ({"method": "efficient_return"}, "needs target_return"),
        ({"method": "efficient_risk", "target_volatility": 0.01}, "below the minimum attainable volatility"),
        ({"start": "2022-12-19"}, "observations are fewer than needed for 10 assets"),
        ({"symbols": ["AAPL", "NOPE"]}, "Unknown symbol 'NOPE'"),
        ({"covariance": {"method": "denoised", "detone": True}}, "covariance matrix is singular"),
        ({"method": "hrp", "weight_bounds": (0.0, 0.5)}, "method hrp is long-only"),
        ({"max_turnover": 0.1}, "need current_weights"),
        ({"asset_bounds": {"TSLA": (0, 1)}}, "asset_bounds name symbols not in the request: TSLA"),
        ({"start": "2030-01-01"}, "empty date range"),
    ],
)
def test_bad_requests_are_400_with_the_reason(
    stocks20_reader: Any, fields: dict[str, Any], words: str
) -> None:
    with pytest.raises(BadRequest, match=words.replace("(", r"\(")):
        optimize(stocks20_reader, **fields)


def test_a_singular_covariance_from_a_duplicated_stock_is_a_400(stocks20_reader: Any) -> None:
    # Given a reader where "AAPL2" is AAPL again (two identical return series)
    def readers(start: str, end: str) -> Any:
        read = stocks20_reader(start, end)
        return lambda symbol: read("AAPL" if symbol == "AAPL2" else symbol)

    with pytest.raises(BadRequest, match="singular"):
        optimize(readers, symbols=[*SYMBOLS, "AAPL2"], method="min_volatility")


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"method": "astrology"}, "method"), ({"symbols": ["AAPL"]}, "symbols"), ({"cvar_alpha": 1.0}, "cvar_alpha"),
     ({"symbols": ["AAPL", "AAPL"]}, "symbols repeat")],
)  # fmt: skip
def test_invalid_fields_fail_validation_naming_the_field(fields: dict[str, Any], field: str) -> None:
    # (the API maps pydantic validation errors to 422 with the field's location)
    with pytest.raises(ValidationError, match=field):
        portfolio.OptimizeRequest(**({"symbols": SYMBOLS} | fields))
