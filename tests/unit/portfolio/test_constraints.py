"""Constraints: turnover, transaction costs, groups; contradictions are errors that say what conflicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trade2026.domain.portfolio import (
    Constraints,
    Group,
    InfeasibleError,
    SingularCovarianceError,
    mean_variance,
)

YEAR = 252


@pytest.fixture(scope="module")
def moments(stocks20: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return stocks20.mean().to_numpy() * YEAR, stocks20.cov().to_numpy() * YEAR


def test_a_turnover_limit_caps_the_trade_from_the_current_weights(
    moments: tuple[np.ndarray, np.ndarray],
) -> None:
    # Given an equal-weight book and at most 20% turnover
    mu, cov = moments
    current = np.full(20, 0.05)
    free = mean_variance.max_sharpe(mu, cov, Constraints.long_only(20))
    capped = mean_variance.max_sharpe(mu, cov, Constraints(np.zeros(20), np.ones(20), (), current, 0.2))
    # Then the unconstrained optimum trades much more, the capped one exactly the limit, and its Sharpe lies between
    assert np.abs(free - current).sum() > 0.5
    assert np.abs(capped - current).sum() == pytest.approx(0.2, abs=1e-9)

    def sharpe(w: np.ndarray) -> float:
        return float(mu @ w / np.sqrt(w @ cov @ w))

    assert sharpe(current) < sharpe(capped) < sharpe(free)


def test_transaction_costs_shrink_the_trade(moments: tuple[np.ndarray, np.ndarray]) -> None:
    mu, cov = moments
    current = np.full(20, 0.05)
    trades = []
    for cost in (0.0, 0.05, 0.5):
        cons = Constraints(np.zeros(20), np.ones(20), (), current, None, cost)
        weights = (
            mean_variance.max_sharpe(mu, cov, cons)
            if cost
            else mean_variance.max_sharpe(mu, cov, Constraints.long_only(20))
        )
        trades.append(np.abs(weights - current).sum())
    # Then higher costs trade less; prohibitive costs keep (almost) the current book
    assert trades[0] > trades[1] > trades[2]
    assert trades[2] < 0.05


@pytest.mark.parametrize(
    ("cons", "words"),
    [
        (Constraints(np.full(20, 0.06), np.ones(20)), "lower bounds sum to 1.2 > 1"),
        (Constraints(np.zeros(20), np.full(20, 0.04)), "upper bounds sum to 0.8 < 1"),
        (
            Constraints(np.zeros(20), np.ones(20), (Group("tech", np.arange(20) < 2, 0.5, 0.4),)),
            "lower 0.5 is above",
        ),
        (
            Constraints(np.zeros(20), np.full(20, 0.1), (Group("tech", np.arange(20) < 3, 0.5, 1.0),)),
            "group tech: its assets' upper bounds sum to 0.3 < the group's lower bound 0.5",
        ),
        (
            Constraints(
                np.zeros(20),
                np.ones(20),
                (Group("a", np.arange(20) < 10, 0.8, 1.0), Group("b", np.arange(20) >= 10, 0.8, 1.0)),
            ),
            "infeasible together",
        ),
        (Constraints(np.zeros(20), np.ones(20), (), np.full(20, 0.05), 0.0), None),  # feasible: stay put
    ],
)
def test_contradictory_constraints_are_reported(moments: tuple[np.ndarray, np.ndarray], cons: Constraints,
                                                words: str | None) -> None:  # fmt: skip
    _mu, cov = moments
    if words is None:
        np.testing.assert_allclose(mean_variance.min_volatility(cov, cons), 0.05, atol=1e-9)
        return
    with pytest.raises(InfeasibleError, match=words.replace("(", r"\(")):
        mean_variance.min_volatility(cov, cons)


def test_unreachable_targets_are_reported(moments: tuple[np.ndarray, np.ndarray]) -> None:
    mu, cov = moments
    with pytest.raises(
        InfeasibleError, match="target_return 5 is above the maximum attainable expected return"
    ):
        mean_variance.efficient_return(mu, cov, Constraints.long_only(20), 5.0)
    with pytest.raises(
        InfeasibleError, match=r"target_volatility 0\.01 is below the minimum attainable volatility"
    ):
        mean_variance.efficient_risk(mu, cov, Constraints.long_only(20), 0.01)
    with pytest.raises(InfeasibleError, match=r"exceeds the risk-free rate 0\.9"):
        mean_variance.max_sharpe(mu, cov, Constraints.long_only(20), 0.9)


def test_a_singular_covariance_is_reported_for_methods_that_need_an_inverse(
    moments: tuple[np.ndarray, np.ndarray],
) -> None:
    # Given the same stock twice (a singular covariance)
    _mu, cov = moments
    twice = np.r_[np.c_[cov, cov[:, :1]], np.c_[cov[:1], cov[:1, :1]]]
    with pytest.raises(SingularCovarianceError, match="singular"):
        mean_variance.min_volatility(twice, Constraints.long_only(21))
