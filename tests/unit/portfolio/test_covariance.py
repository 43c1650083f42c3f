"""Covariance estimators against scikit-learn, PyPortfolioOpt and Riskfolio-Lib (López de Prado's method)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import risk_models
from riskfolio.src.AuxFunctions import denoiseCov
from sklearn.covariance import LedoitWolf

from trade2026.domain.portfolio import PortfolioError, cov_to_corr
from trade2026.domain.portfolio import covariance as cv
from trade2026.domain.portfolio import expected_returns as er


def test_ledoit_wolf_equals_scikit_learn_on_the_real_20_stocks(stocks20: pd.DataFrame) -> None:
    # Given the daily returns of 20 real stocks
    returns = stocks20.to_numpy()
    # When both estimators shrink them
    ours = cv.ledoit_wolf(returns)
    reference = LedoitWolf().fit(returns)
    # Then the shrinkage intensity and the matrix are scikit-learn's
    assert ours.shrinkage == pytest.approx(reference.shrinkage_, rel=1e-12)
    np.testing.assert_allclose(ours.covariance, reference.covariance_, rtol=1e-12, atol=1e-18)


def test_ledoit_wolf_equals_scikit_learn_when_there_are_fewer_days_than_stocks(
    stocks20: pd.DataFrame,
) -> None:
    # Given 15 days of 20 stocks (the sample covariance is singular)
    returns = stocks20.to_numpy()[-15:]
    # Then shrinkage still equals scikit-learn's and the result is positive definite
    reference = LedoitWolf().fit(returns)
    ours = cv.ledoit_wolf(returns)
    np.testing.assert_allclose(ours.covariance, reference.covariance_, rtol=1e-12, atol=1e-18)
    assert np.linalg.eigvalsh(ours.covariance)[0] > 0


def test_sample_and_ewma_covariance_equal_pypfopt(stocks20: pd.DataFrame) -> None:
    # Given real returns, When the sample and exponentially weighted (span 180) covariances are estimated
    returns = stocks20.to_numpy()
    # Then they equal PyPortfolioOpt's (annualized by 252 there)
    sample = risk_models.sample_cov(stocks20, returns_data=True, frequency=1).to_numpy()
    np.testing.assert_allclose(cv.sample_covariance(returns), sample, rtol=1e-12)
    ewma = risk_models.exp_cov(stocks20, returns_data=True, span=180, frequency=1).to_numpy()
    np.testing.assert_allclose(cv.ewma_covariance(returns, span=180), ewma, rtol=1e-10)


def test_ewma_mean_equals_pandas_and_james_stein_shrinks_toward_the_grand_mean(
    stocks20: pd.DataFrame,
) -> None:
    returns = stocks20.to_numpy()
    # Then the EWMA mean is pandas' ewm(halflife=60).mean() at the last bar
    np.testing.assert_allclose(
        er.ewma_mean(returns, halflife=60), stocks20.ewm(halflife=60).mean().iloc[-1].to_numpy(), rtol=1e-10
    )
    # And James-Stein moves every mean toward the grand mean by the same fraction in [0, 1]
    shrunk, intensity = er.james_stein_mean(returns)
    means = returns.mean(axis=0)
    assert 0 < intensity <= 1
    np.testing.assert_allclose(shrunk - means.mean(), (1 - intensity) * (means - means.mean()), atol=1e-15)


def planted_returns(n_obs: int, n_assets: int, factors: int, seed: int = 7) -> np.ndarray:
    """Returns with ``factors`` strong planted factors plus idiosyncratic noise (seeded)."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(n_assets, factors)) * np.array([3.0, 2.0, 1.5, 1.2, 1.0][:factors])
    return rng.normal(size=(n_obs, factors)) @ loadings.T + rng.normal(size=(n_obs, n_assets))


@pytest.mark.parametrize("factors", [1, 3, 5])
def test_denoising_clips_the_noise_eigenvalues_like_the_reference_method(factors: int) -> None:
    # Given 1,000 days of 100 assets driven by `factors` planted factors plus noise
    returns = planted_returns(1000, 100, factors)
    cov = np.cov(returns, rowvar=False)
    # When the covariance is denoised by the constant residual eigenvalue method
    ours = cv.denoise(cov, len(returns))
    # Then exactly the planted factors stand above the fitted Marchenko-Pastur edge
    assert ours.spectrum.n_factors == factors
    # And the matrix equals Riskfolio-Lib's implementation of López de Prado's method (denoiseCov "fixed")
    reference = denoiseCov(cov, len(returns) / 100, kind="fixed", bWidth=0.01)
    np.testing.assert_allclose(ours.covariance, reference, rtol=1e-9, atol=1e-12)
    # And the clipping shows in the spectrum: the trace (N) is kept, the signal eigenvalues stay above the edge,
    # and the smallest eigenvalue rises far above the sample's (the noise no longer looks like low-risk bets)
    original, clean = ours.spectrum.eigenvalues, ours.denoised_eigenvalues
    assert clean.sum() == pytest.approx(100.0)
    assert np.all(clean[:factors] > ours.spectrum.lambda_plus)
    assert clean[-1] > 3 * original[-1]
    assert ours.spectrum.lambda_plus == pytest.approx(ours.spectrum.noise_variance * (1 + 0.1**0.5) ** 2)


def test_detoning_removes_the_market_component_and_keeps_a_unit_diagonal() -> None:
    # Given one strong market factor, When it is denoised and detoned
    returns = planted_returns(1000, 50, 3)
    result = cv.denoise(np.cov(returns, rowvar=False), 1000, detone=True)
    # Then the correlation has a unit diagonal and rank N - 1 (the market direction is gone)
    np.testing.assert_allclose(np.diag(result.correlation), 1.0)
    assert np.linalg.matrix_rank(result.correlation, tol=1e-10) == 49


def test_bad_estimator_inputs_are_errors_with_the_reason() -> None:
    with pytest.raises(PortfolioError, match="exactly one of halflife or span"):
        cv.ewma_covariance(np.zeros((10, 2)) + 0.01, halflife=5, span=10)
    with pytest.raises(PortfolioError, match="3 observations are fewer than needed for 5 assets"):
        cv.sample_covariance(np.ones((3, 5)))
    with pytest.raises(PortfolioError, match="zero variance"):
        cov_to_corr(np.diag([1.0, 0.0]))
