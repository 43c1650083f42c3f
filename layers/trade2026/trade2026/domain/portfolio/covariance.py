"""Covariance estimators: sample, EWMA, Ledoit-Wolf shrinkage, Marchenko-Pastur denoising and detoning.

All take per-bar returns ``(T, N)`` and return per-bar covariances (annualize by multiplying by the number of
bars a year). Ledoit-Wolf is scikit-learn's estimator (centered data, ``1/T`` sample covariance, shrinkage to
``mu * I``); denoising is López de Prado's constant residual eigenvalue method (Machine Learning for Asset
Managers, ch. 2): fit the Marchenko-Pastur density to the correlation eigenvalues (Gaussian KDE, bandwidth
0.01, noise variance by L-BFGS-B from 0.5), keep the eigenvalues above the edge ``lambda+`` and replace the
others by their average, then rescale to a unit diagonal (equal to Riskfolio-Lib's ``denoiseCov(kind="fixed")``).
Detoning removes the largest principal component(s) of the denoised correlation itself and rescales to a unit
diagonal, so the result stays positive semidefinite (rank N - k); it is for clustering, not for inversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from trade2026.domain.portfolio._common import PortfolioError, as_returns, cov_to_corr

DEFAULT_BANDWIDTH = 0.01
MP_POINTS = 1000


def sample_covariance(returns: np.ndarray, ddof: int = 1) -> np.ndarray:
    matrix = as_returns(returns)
    return np.atleast_2d(np.cov(matrix, rowvar=False, ddof=ddof))


def ewma_alpha(*, halflife: float | None = None, span: float | None = None) -> float:
    """Smoothing factor of pandas' ``ewm``: ``2 / (span + 1)`` or ``1 - exp(-ln 2 / halflife)``."""
    if (halflife is None) == (span is None):
        raise PortfolioError("give exactly one of halflife or span for EWMA")
    if span is not None:
        if span < 1:
            raise PortfolioError(f"span must be >= 1, got {span}")
        return 2.0 / (span + 1.0)
    assert halflife is not None
    if halflife <= 0:
        raise PortfolioError(f"halflife must be > 0, got {halflife}")
    return 1.0 - float(np.exp(-np.log(2.0) / halflife))


def ewma_weights(n_obs: int, alpha: float) -> np.ndarray:
    """Weights of pandas' ``ewm(adjust=True).mean()`` at the last bar, oldest first, summing to 1."""
    weights = (1.0 - alpha) ** np.arange(n_obs - 1, -1, -1, dtype=np.float64)
    return weights / weights.sum()


def ewma_covariance(
    returns: np.ndarray, *, halflife: float | None = None, span: float | None = None
) -> np.ndarray:
    """Exponentially weighted covariance of deviations from the sample mean (PyPortfolioOpt's ``exp_cov``)."""
    matrix = as_returns(returns)
    weights = ewma_weights(len(matrix), ewma_alpha(halflife=halflife, span=span))
    centered = matrix - matrix.mean(axis=0)
    return (centered * weights[:, None]).T @ centered


@dataclass(frozen=True)
class Shrunk:
    covariance: np.ndarray
    shrinkage: float


def ledoit_wolf(returns: np.ndarray) -> Shrunk:
    """Ledoit-Wolf shrinkage to a scaled identity, exactly scikit-learn's ``LedoitWolf().fit(returns)``."""
    matrix = as_returns(returns, min_extra=-(10**9))  # shrinkage is defined for any T >= 1
    n_obs, n_assets = matrix.shape
    x = matrix - matrix.mean(axis=0)
    emp_cov = x.T @ x / n_obs
    x2 = x**2
    emp_cov_trace = x2.sum(axis=0) / n_obs
    mu = emp_cov_trace.sum() / n_assets
    beta_ = float(np.sum(x2.T @ x2))
    delta_ = float(np.sum((x.T @ x) ** 2)) / n_obs**2
    beta = (beta_ / n_obs - delta_) / (n_assets * n_obs)
    delta = (delta_ - 2.0 * mu * emp_cov_trace.sum() + n_assets * mu**2) / n_assets
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    shrunk = (1.0 - shrinkage) * emp_cov
    shrunk.flat[:: n_assets + 1] += shrinkage * mu
    return Shrunk(shrunk, float(shrinkage))


# ---------------------------------------------------------------------------- random matrix theory
def mp_edges(variance: float, q: float) -> tuple[float, float]:
    """(lambda-, lambda+) of the Marchenko-Pastur law with noise variance ``variance`` and ``q = T / N``."""
    root = (1.0 / q) ** 0.5
    return variance * (1.0 - root) ** 2, variance * (1.0 + root) ** 2


def mp_pdf(variance: float, q: float, points: int = MP_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues, density) of the Marchenko-Pastur law on ``points`` values between its edges."""
    low, high = mp_edges(variance, q)
    values = np.linspace(low, high, points)
    with np.errstate(invalid="ignore", divide="ignore"):
        pdf = (
            q / (2.0 * np.pi * variance * values) * np.sqrt(np.maximum((high - values) * (values - low), 0.0))
        )
    return values, np.nan_to_num(pdf)


def gaussian_kde(observations: np.ndarray, points: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian kernel density of ``observations`` at ``points`` (scikit-learn's KernelDensity)."""
    z = (points[:, None] - observations[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(observations) * bandwidth * np.sqrt(2.0 * np.pi))


def fit_noise_variance(eigenvalues: np.ndarray, q: float, bandwidth: float = DEFAULT_BANDWIDTH) -> float:
    """Noise variance whose Marchenko-Pastur density best fits the KDE of the eigenvalues (least squares)."""

    def sse(x: np.ndarray) -> float:
        values, theory = mp_pdf(float(x[0]), q)
        return float(np.sum((gaussian_kde(eigenvalues, values, bandwidth) - theory) ** 2))

    fit = optimize.minimize(sse, np.array([0.5]), bounds=((1e-5, 1 - 1e-5),))
    return float(fit.x[0]) if fit.success else 1.0


@dataclass(frozen=True)
class Spectrum:
    """The correlation spectrum and its Marchenko-Pastur fit (eigenvalues in decreasing order)."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    q: float
    noise_variance: float
    lambda_minus: float
    lambda_plus: float
    n_factors: int


def spectrum(corr: np.ndarray, n_obs: int, bandwidth: float = DEFAULT_BANDWIDTH) -> Spectrum:
    n_assets = corr.shape[0]
    if n_obs < 2:
        raise PortfolioError(f"the Marchenko-Pastur fit needs observations, got {n_obs}")
    values, vectors = np.linalg.eigh(corr)
    order = values.argsort()[::-1]
    values, vectors = values[order], vectors[:, order]
    q = n_obs / n_assets
    variance = fit_noise_variance(values, q, bandwidth)
    low, high = mp_edges(variance, q)
    n_factors = int(n_assets - np.searchsorted(values[::-1], high))
    return Spectrum(values, vectors, q, variance, low, high, n_factors)


def constant_residual_corr(spec: Spectrum) -> np.ndarray:
    """Eigenvalues past the signal factors replaced by their mean (trace kept), rescaled to unit diagonal."""
    values = spec.eigenvalues.copy()
    n = len(values)
    if spec.n_factors < n:
        values[spec.n_factors :] = values[spec.n_factors :].sum() / float(n - spec.n_factors)
    corr = (spec.eigenvectors * values) @ spec.eigenvectors.T
    return _unit_diagonal(corr)


def detone_corr(corr: np.ndarray, market_components: int = 1) -> np.ndarray:
    """Remove the ``market_components`` largest principal components of ``corr`` (the market), rescaled to unit
    diagonal. The components are those of ``corr`` itself (after denoising), so the result stays positive
    semidefinite with rank N - k: fine for clustering (HRP/HERC), not for methods that invert it.
    """
    if not 1 <= market_components < corr.shape[0]:
        raise PortfolioError(
            f"market_components must be between 1 and {corr.shape[0] - 1}, got {market_components}"
        )
    values, vectors = np.linalg.eigh(corr)
    top = vectors[:, -market_components:]
    return _unit_diagonal(corr - (top * values[-market_components:]) @ top.T)


def _unit_diagonal(matrix: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.diag(matrix))
    corr = matrix / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    return (corr + corr.T) / 2.0


@dataclass(frozen=True)
class Denoised:
    covariance: np.ndarray
    correlation: np.ndarray
    spectrum: Spectrum
    denoised_eigenvalues: np.ndarray


def denoise(
    cov: np.ndarray,
    n_obs: int,
    *,
    bandwidth: float = DEFAULT_BANDWIDTH,
    detone: bool = False,
    market_components: int = 1,
) -> Denoised:
    """Marchenko-Pastur denoised (optionally detoned) covariance of ``n_obs`` observations of ``cov``."""
    corr, std = cov_to_corr(np.asarray(cov, dtype=np.float64))
    spec = spectrum(corr, n_obs, bandwidth)
    clean = constant_residual_corr(spec)
    if detone:
        clean = detone_corr(clean, market_components)
    values = np.sort(np.linalg.eigvalsh(clean))[::-1]
    return Denoised(clean * np.outer(std, std), clean, spec, values)
