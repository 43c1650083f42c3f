"""Errors and small helpers shared by the portfolio optimizers (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


class PortfolioError(ValueError):
    """Bad input to an optimizer or estimator; the message names the field and the numbers."""


class InfeasibleError(PortfolioError):
    """The constraints admit no portfolio (or the target cannot be reached)."""


class SingularCovarianceError(PortfolioError):
    """The method needs a positive definite covariance and this one is (numerically) singular."""


def as_returns(returns: npt.ArrayLike, *, min_extra: int = 1) -> np.ndarray:
    """(T, N) float array of per-bar returns; needs more observations than assets and finite values."""
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise PortfolioError(f"returns must be a (T, N) matrix, got shape {matrix.shape}")
    n_obs, n_assets = matrix.shape
    if n_assets < 2:
        raise PortfolioError(f"a portfolio needs at least 2 assets, got {n_assets}")
    if n_obs < n_assets + min_extra:
        raise PortfolioError(
            f"{n_obs} observations are fewer than needed for {n_assets} assets "
            f"(at least {n_assets + min_extra}): widen the date range or use fewer symbols"
        )
    if not np.all(np.isfinite(matrix)):
        raise PortfolioError("returns contain NaN or infinite values")
    return matrix


def check_positive_definite(cov: np.ndarray, *, rcond: float = 1e-12) -> None:
    """Raise SingularCovarianceError when the smallest eigenvalue is tiny relative to the largest."""
    eigenvalues = np.linalg.eigvalsh(cov)
    largest, smallest = float(eigenvalues[-1]), float(eigenvalues[0])
    if largest <= 0 or smallest <= rcond * largest:
        raise SingularCovarianceError(
            f"the covariance matrix is singular (smallest eigenvalue {smallest:.3g}, largest {largest:.3g}): "
            "this method needs a positive definite one - use ledoit_wolf or denoised covariance, more "
            "observations, or drop duplicated assets"
        )


@dataclass(frozen=True)
class RiskReport:
    """Expected return, volatility and Sharpe of weights, and each asset's contribution to the volatility."""

    expected_return: float
    volatility: float
    sharpe: float
    risk_contributions: np.ndarray  # w_i (S w)_i / vol: sums to the volatility
    variance_shares: np.ndarray  # w_i (S w)_i / w'S w: sums to 1


def risk_report(
    weights: np.ndarray, mu: np.ndarray, cov: np.ndarray, risk_free_rate: float = 0.0
) -> RiskReport:
    marginal = cov @ weights
    variance = float(weights @ marginal)
    vol = float(np.sqrt(max(variance, 0.0)))
    ret = float(weights @ mu)
    contributions = weights * marginal
    return RiskReport(
        expected_return=ret,
        volatility=vol,
        sharpe=(ret - risk_free_rate) / vol if vol > 0 else float("nan"),
        risk_contributions=contributions / vol if vol > 0 else np.zeros_like(weights),
        variance_shares=contributions / variance if variance > 0 else np.zeros_like(weights),
    )


def cov_to_corr(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(correlation, standard deviations) of a covariance matrix; the diagonal is exactly 1."""
    std = np.sqrt(np.diag(cov))
    if np.any(std <= 0):
        raise SingularCovarianceError("an asset has zero variance: its returns are constant")
    corr = cov / np.outer(std, std)
    np.clip(corr, -1.0, 1.0, out=corr)
    np.fill_diagonal(corr, 1.0)
    return corr, std
