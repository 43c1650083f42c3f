"""Expected-return estimators (per bar; annualize by multiplying by the bars a year)."""

from __future__ import annotations

import numpy as np

from trade2026.domain.portfolio._common import as_returns
from trade2026.domain.portfolio.covariance import ewma_alpha, ewma_weights


def historical_mean(returns: np.ndarray) -> np.ndarray:
    """Arithmetic mean return of each asset."""
    return as_returns(returns).mean(axis=0)


def ewma_mean(returns: np.ndarray, *, halflife: float | None = None, span: float | None = None) -> np.ndarray:
    """Exponentially weighted mean (pandas ``ewm(adjust=True).mean()`` at the last bar)."""
    matrix = as_returns(returns)
    return ewma_weights(len(matrix), ewma_alpha(halflife=halflife, span=span)) @ matrix


def james_stein_mean(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """(means shrunk toward the grand mean, shrinkage intensity in [0, 1]) - James-Stein.

    ``c = min(1, (N - 3) * s2 / (T * sum((m_i - m)^2)))`` with ``s2`` the average variance of the assets;
    the estimate is ``m + (1 - c) * (m_i - m)`` (no shrinkage with fewer than 4 assets).
    """
    matrix = as_returns(returns)
    n_obs, n_assets = matrix.shape
    means = matrix.mean(axis=0)
    grand = float(means.mean())
    spread = float(np.sum((means - grand) ** 2))
    noise = float(matrix.var(axis=0, ddof=1).mean()) / n_obs
    intensity = 0.0 if n_assets < 4 or spread == 0 else min(1.0, (n_assets - 3) * noise / spread)
    return grand + (1.0 - intensity) * (means - grand), intensity
