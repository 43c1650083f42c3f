"""Optimizers against the reference libraries on the real 20 stocks (skfolio's S&P 500 data set).

HRP: PyPortfolioOpt's HRPOpt and skfolio's HierarchicalRiskParity configured alike (same linkage; skfolio's
default optimal leaf ordering switched off to compare with PyPortfolioOpt, and on to compare with ours on);
mean-variance: PyPortfolioOpt's EfficientFrontier (cvxpy); risk parity: closed form and Riskfolio-Lib;
HERC and min-CVaR: skfolio.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pypfopt import EfficientFrontier, HRPOpt
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.optimization import (
    HierarchicalEqualRiskContribution,
    HierarchicalRiskParity,
    MeanRisk,
    ObjectiveFunction,
)
from skfolio.seriation import HierarchicalSeriation

from trade2026.domain.portfolio import Constraints, Group, cvar, hrp, mean_variance, risk_parity, risk_report

YEAR = 252


@pytest.fixture(scope="module")
def moments(stocks20: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    return stocks20.mean() * YEAR, stocks20.cov() * YEAR


@pytest.mark.parametrize("linkage", ["single", "ward", "average", "complete"])
def test_hrp_equals_skfolio_and_pypfopt_with_the_same_linkage(stocks20: pd.DataFrame, linkage: str) -> None:
    # Given the real returns, When HRP runs with this linkage in all three implementations
    ours, _ = hrp.hrp(np.cov(stocks20.to_numpy(), rowvar=False), linkage)
    pypfopt = pd.Series(HRPOpt(stocks20).optimize(linkage)).reindex(stocks20.columns).to_numpy()
    clustering = HierarchicalClustering(linkage_method=LinkageMethod(linkage))
    skfolio = HierarchicalRiskParity(
        seriation_estimator=HierarchicalSeriation(
            hierarchical_clustering_estimator=clustering, optimal_ordering=False
        )
    ).fit(stocks20.to_numpy())
    # Then the weights agree to 1e-8 (in fact to rounding)
    np.testing.assert_allclose(ours, pypfopt, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours, skfolio.weights_, rtol=0, atol=1e-8)
    assert ours.sum() == pytest.approx(1.0) and np.all(ours > 0)


def test_hrp_with_optimal_leaf_ordering_equals_skfolio_default_seriation(stocks20: pd.DataFrame) -> None:
    ours, _ = hrp.hrp(np.cov(stocks20.to_numpy(), rowvar=False), "ward", optimal_ordering=True)
    skfolio = HierarchicalRiskParity(
        seriation_estimator=HierarchicalSeriation(
            hierarchical_clustering_estimator=HierarchicalClustering(linkage_method=LinkageMethod.WARD)
        )
    ).fit(stocks20.to_numpy())
    np.testing.assert_allclose(ours, skfolio.weights_, rtol=0, atol=1e-8)


@pytest.mark.parametrize("linkage", ["ward", "single"])
def test_herc_equals_skfolio(stocks20: pd.DataFrame, linkage: str) -> None:
    # Given skfolio's HERC (variance risk measure, its gap-statistic number of clusters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = HierarchicalEqualRiskContribution(
            hierarchical_clustering_estimator=HierarchicalClustering(linkage_method=LinkageMethod(linkage))
        ).fit(stocks20.to_numpy())
    ours, _, labels = hrp.herc(np.cov(stocks20.to_numpy(), rowvar=False), linkage)
    # Then the clusters and the weights are the same
    assert labels.max() + 1 == reference.hierarchical_clustering_estimator_.n_clusters_
    np.testing.assert_allclose(ours, reference.weights_, rtol=0, atol=1e-8)


@pytest.mark.parametrize("risk_free_rate", [0.0, 0.02])
def test_max_sharpe_equals_pypfopt(moments: tuple[pd.Series, pd.DataFrame], risk_free_rate: float) -> None:
    mu, cov = moments
    reference = EfficientFrontier(mu, cov).max_sharpe(risk_free_rate=risk_free_rate)
    ours = mean_variance.max_sharpe(mu.to_numpy(), cov.to_numpy(), Constraints.long_only(20), risk_free_rate)
    np.testing.assert_allclose(ours, pd.Series(reference).to_numpy(), rtol=0, atol=1e-5)


def test_min_volatility_equals_pypfopt(moments: tuple[pd.Series, pd.DataFrame]) -> None:
    mu, cov = moments
    reference = EfficientFrontier(mu, cov).min_volatility()
    ours = mean_variance.min_volatility(cov.to_numpy(), Constraints.long_only(20))
    np.testing.assert_allclose(ours, pd.Series(reference).to_numpy(), rtol=0, atol=1e-5)


def test_bounded_and_grouped_max_sharpe_and_efficient_return_equal_pypfopt(
    moments: tuple[pd.Series, pd.DataFrame],
) -> None:
    # Given weights in [0, 0.15] and the first five stocks held to at most 30% together
    mu, cov = moments
    tech = np.arange(20) < 5
    cons = Constraints(np.zeros(20), np.full(20, 0.15), (Group("g", tech, 0.0, 0.3),))
    mapper = {name: ("g" if tech[i] else "other") for i, name in enumerate(mu.index)}
    frontier = EfficientFrontier(mu, cov, weight_bounds=(0, 0.15))
    frontier.add_sector_constraints(mapper, {"g": 0.0}, {"g": 0.3})
    reference = pd.Series(frontier.max_sharpe(risk_free_rate=0.01)).to_numpy()
    ours = mean_variance.max_sharpe(mu.to_numpy(), cov.to_numpy(), cons, 0.01)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5)
    assert ours[tech].sum() <= 0.3 + 1e-12 and ours.max() <= 0.15 + 1e-12
    # And the efficient portfolio for a 20% return equals PyPortfolioOpt's
    frontier = EfficientFrontier(mu, cov, weight_bounds=(0, 0.15))
    frontier.add_sector_constraints(mapper, {"g": 0.0}, {"g": 0.3})
    reference = pd.Series(frontier.efficient_return(0.20)).to_numpy()
    ours = mean_variance.efficient_return(mu.to_numpy(), cov.to_numpy(), cons, 0.20)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5)


def test_efficient_risk_reaches_the_target_and_matches_pypfopt(
    moments: tuple[pd.Series, pd.DataFrame],
) -> None:
    mu, cov = moments
    reference = pd.Series(EfficientFrontier(mu, cov).efficient_risk(0.22)).to_numpy()
    ours = mean_variance.efficient_risk(mu.to_numpy(), cov.to_numpy(), Constraints.long_only(20), 0.22)
    assert np.sqrt(ours @ cov.to_numpy() @ ours) == pytest.approx(0.22, abs=1e-7)
    assert mu.to_numpy() @ ours == pytest.approx(mu.to_numpy() @ reference, abs=1e-6)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-4)


def test_frontier_is_increasing_and_its_tangency_beats_every_point(
    moments: tuple[pd.Series, pd.DataFrame],
) -> None:
    mu, cov = moments
    points = mean_variance.efficient_frontier(mu.to_numpy(), cov.to_numpy(), Constraints.long_only(20), 6)
    returns = [p.expected_return for p in points]
    vols = [p.volatility for p in points]
    assert np.all(np.diff(returns) > 0) and np.all(np.diff(vols) > 0)
    best = mean_variance.max_sharpe(mu.to_numpy(), cov.to_numpy(), Constraints.long_only(20))
    tangency = risk_report(best, mu.to_numpy(), cov.to_numpy()).sharpe
    assert all(r / v <= tangency + 1e-9 for r, v in zip(returns, vols, strict=True))


def test_equal_risk_contribution_has_the_closed_form_on_a_diagonal_covariance() -> None:
    # Given uncorrelated assets, Then ERC weights are proportional to 1 / volatility
    vols = np.array([0.1, 0.2, 0.4, 0.8])
    weights = risk_parity.risk_budget_weights(np.diag(vols**2))
    np.testing.assert_allclose(weights, (1 / vols) / (1 / vols).sum(), rtol=1e-12)
    # And with budgets b, w_i is proportional to sqrt(b_i) / vol_i
    budgets = np.array([0.4, 0.3, 0.2, 0.1])
    weights = risk_parity.risk_budget_weights(np.diag(vols**2), budgets)
    np.testing.assert_allclose(
        weights, (np.sqrt(budgets) / vols) / (np.sqrt(budgets) / vols).sum(), rtol=1e-12
    )


def test_equal_risk_contribution_on_real_stocks_matches_riskfolio(stocks20: pd.DataFrame) -> None:
    import riskfolio as rp

    cov = stocks20.cov().to_numpy()
    ours = risk_parity.risk_budget_weights(cov)
    contributions = ours * (cov @ ours)
    np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-10)
    portfolio = rp.Portfolio(returns=stocks20)
    portfolio.assets_stats(method_mu="hist", method_cov="hist")
    reference = (
        portfolio.rp_optimization(model="Classic", rm="MV", rf=0, b=None, hist=True).to_numpy().ravel()
    )
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5)  # riskfolio's conic solver tolerance


def test_min_cvar_equals_skfolio(stocks20: pd.DataFrame) -> None:
    returns = stocks20.to_numpy()
    ours = cvar.min_cvar(returns, Constraints.long_only(20), 0.95)
    reference = MeanRisk(
        risk_measure=RiskMeasure.CVAR, objective_function=ObjectiveFunction.MINIMIZE_RISK, cvar_beta=0.95
    ).fit(returns)
    assert ours.cvar == pytest.approx(cvar.portfolio_cvar(returns, ours.weights, 0.95), rel=1e-9)
    assert ours.cvar == pytest.approx(cvar.portfolio_cvar(returns, reference.weights_, 0.95), rel=1e-6)
    np.testing.assert_allclose(ours.weights, reference.weights_, rtol=0, atol=1e-5)
