"""Fractional differentiation with a fixed-width window (FFD) and the ADF test that picks the minimum d.

López de Prado, "Advances in Financial Machine Learning", ch. 5: the weights of (1 - B)^d are
w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k; the fixed-width variant keeps the weights whose magnitude is at
least `threshold`, so every output row uses the same window of past values (no expanding memory).
The output at t uses x[t - width + 1 .. t] only: it is point-in-time.

The augmented Dickey-Fuller test is an OLS regression of dx_t on x_{t-1}, a constant (and trend) and p lagged
differences; p chosen by AIC over 0..maxlag on a common sample (Schwert's rule for maxlag), then refit on the
longest sample, as statsmodels' ``adfuller`` does. p-values from MacKinnon (1994), critical values from
MacKinnon (2010) (response surfaces in 1/nobs); the tables below are those papers' coefficients for N = 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy.stats import norm

__all__ = ["AdfResult", "MinDResult", "adf_test", "ffd", "ffd_weights", "frac_diff_weights", "min_ffd_d"]

# MacKinnon (1994), N = 1: p = Phi(poly(tau)); small-p polynomial left of tau_star, large-p right of it.
_TAU_STAR = {"n": -1.04, "c": -1.61, "ct": -2.89}
_TAU_MIN = {"n": -19.04, "c": -18.83, "ct": -16.18}
_TAU_MAX = {"n": math.inf, "c": 2.74, "ct": 0.7}
_SMALL_P = {
    "n": (0.6344, 1.2378, 3.2496e-2),
    "c": (2.1659, 1.4412, 3.8269e-2),
    "ct": (3.2512, 1.6047, 4.9588e-2),
}
_LARGE_P = {
    "n": (0.4797, 9.3557e-1, -0.6999e-1, 3.3066e-2),
    "c": (1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2),
    "ct": (2.5261, 6.1654e-1, -3.7956e-1, -6.0285e-2),
}
# MacKinnon (2010), N = 1: critical value = b0 + b1/T + b2/T^2 + b3/T^3 at 1 %, 5 %, 10 %.
_CRIT_2010 = {
    "n": ((-2.56574, -2.2358, -3.627, 0.0), (-1.94100, -0.2686, -3.365, 31.223), (-1.61682, 0.2656, -2.714, 25.364)),
    "c": ((-3.43035, -6.5393, -16.786, -79.433), (-2.86154, -2.8903, -4.234, -40.040),
          (-2.56677, -1.5384, -2.809, 0.0)),
    "ct": ((-3.95877, -9.0531, -28.428, -134.155), (-3.41049, -4.3904, -9.036, -45.374),
           (-3.12705, -2.5856, -3.925, -22.380)),
}  # fmt: skip


def frac_diff_weights(d: float, size: int) -> np.ndarray:
    """The first `size` weights of (1 - B)^d: w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    k = np.arange(1, size, dtype=np.float64)
    return np.concatenate([[1.0], np.cumprod(-(d - k + 1.0) / k)])


def ffd_weights(d: float, threshold: float = 1e-4, max_width: int = 10_000) -> np.ndarray:
    """Weights of the fixed-width window: every w_k with |w_k| >= threshold (w_0 = 1 always kept)."""
    if not 0.0 <= d <= 2.0:
        raise ValueError(f"d must be between 0 and 2, got {d}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    weights = [1.0]
    k = 1
    while k < max_width:
        weight = -weights[-1] * (d - k + 1.0) / k
        if abs(weight) < threshold:
            break
        weights.append(weight)
        k += 1
    return np.asarray(weights)


def ffd(values: ArrayLike, d: float, threshold: float = 1e-4, max_width: int = 10_000) -> np.ndarray:
    """Fractionally differentiated series (FFD): out[t] = sum_k w_k x[t-k]; NaN until a full window.

    Works column by column on a (T, N) array. A window holding a NaN gives NaN.
    """
    x = np.asarray(values, dtype=np.float64)
    weights = ffd_weights(d, threshold, max_width)
    width = len(weights)
    out = np.full(x.shape, np.nan)
    if x.shape[0] < width:
        return out
    windows = sliding_window_view(x, width, axis=0)  # (T - width + 1, [N,] width), oldest first
    out[width - 1 :] = windows @ weights[::-1]
    return out


@dataclass(frozen=True)
class AdfResult:
    statistic: float
    pvalue: float
    used_lag: int
    nobs: int
    critical_values: dict[str, float]
    regression: str

    def rejects_unit_root(self, level: str = "5%") -> bool:
        return self.statistic < self.critical_values[level]


def _mackinnon_p(stat: float, regression: str) -> float:
    if stat > _TAU_MAX[regression]:
        return 1.0
    if stat < _TAU_MIN[regression]:
        return 0.0
    coefficients = _SMALL_P[regression] if stat <= _TAU_STAR[regression] else _LARGE_P[regression]
    return float(norm.cdf(sum(c * stat**power for power, c in enumerate(coefficients))))


def _mackinnon_crit(regression: str, nobs: int) -> dict[str, float]:
    levels = ("1%", "5%", "10%")
    return {
        level: float(sum(b / nobs**power for power, b in enumerate(row)))
        for level, row in zip(levels, _CRIT_2010[regression], strict=True)
    }


def _design(
    x: np.ndarray, lags: int, regression: str, nobs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """dx_t on [trend terms, x_{t-1}, dx_{t-1..t-lags}]; the last `nobs` rows (all usable rows if None)."""
    dx = np.diff(x)
    usable = len(dx) - lags
    rows = usable if nobs is None else nobs
    end = len(dx)
    start = end - rows
    columns = [x[start:end]]  # level x_{t-1} for dx_t = x_t - x_{t-1}; dx index i is x[i+1]-x[i]
    columns += [dx[start - k : end - k] for k in range(1, lags + 1)]
    trend: list[np.ndarray] = []
    if regression in ("c", "ct"):
        trend.append(np.ones(rows))
    if regression == "ct":
        trend.append(np.arange(1, rows + 1, dtype=np.float64))
    return dx[start:end], np.column_stack([*trend, *columns])


def _normal_equations(design: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Column scales, the scaled Gram matrix, the scaled X'y and y'y (small: one pass over the data)."""
    scale = np.sqrt(np.einsum("ij,ij->j", design, design))
    scale[scale == 0] = 1.0
    scaled = design / scale
    return scale, scaled.T @ scaled, scaled.T @ y, float(y @ y)


def _ols(y: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Coefficients, standard errors, residual sum of squares (normal equations on unit-norm columns:
    only k x k solves, no large factorization)."""
    scale, gram, xty, _ = _normal_equations(design, y)
    inverse = np.linalg.inv(gram)
    coefficients = inverse @ xty
    residuals = y - (design / scale) @ coefficients
    ssr = float(residuals @ residuals)
    dof = len(y) - design.shape[1]
    errors = np.sqrt(np.diag(inverse) * ssr / dof) / scale
    return coefficients / scale, errors, ssr


def adf_test(
    values: ArrayLike, max_lag: int | None = None, regression: str = "c", autolag: str | None = "aic"
) -> AdfResult:
    """Augmented Dickey-Fuller test of a unit root (H0) against stationarity."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("the ADF test needs one finite series (drop the NaN warm-up first)")
    if regression not in _CRIT_2010:
        raise ValueError(f"regression must be one of n, c, ct; got {regression!r}")
    if np.ptp(x) == 0:
        raise ValueError("the series is constant")
    n_trend = len(regression) if regression != "n" else 0
    limit = len(x) // 2 - n_trend - 1
    if max_lag is None:
        max_lag = min(limit, math.ceil(12.0 * (len(x) / 100.0) ** 0.25))
        if max_lag < 0:
            raise ValueError(f"{len(x)} observations are too few for the ADF test")
    elif max_lag > limit:
        raise ValueError(f"max_lag must be at most {limit} for {len(x)} observations, got {max_lag}")
    lag = max_lag
    if autolag is not None:
        if autolag != "aic":
            raise ValueError(f"autolag must be 'aic' or None, got {autolag!r}")
        # Every nested model's residual sum of squares on the common sample from one Gram matrix.
        common = len(x) - 1 - max_lag
        y, design = _design(x, max_lag, regression, nobs=common)
        _, gram, xty, total = _normal_equations(design, y)
        best: tuple[float, int] | None = None
        for candidate in range(max_lag + 1):
            k = n_trend + 1 + candidate  # trend terms, level, `candidate` lagged differences
            ssr = total - float(xty[:k] @ np.linalg.solve(gram[:k, :k], xty[:k]))
            aic = common * math.log(ssr / common) + 2 * k
            if best is None or (aic, candidate) < best:
                best = (aic, candidate)
        assert best is not None
        lag = best[1]
    y, design = _design(x, lag, regression)
    coefficients, errors, _ = _ols(y, design)
    level = n_trend  # the level column follows the trend terms
    statistic = float(coefficients[level] / errors[level])
    return AdfResult(
        statistic=statistic,
        pvalue=_mackinnon_p(statistic, regression),
        used_lag=lag,
        nobs=len(y),
        critical_values=_mackinnon_crit(regression, len(y)),
        regression=regression,
    )


@dataclass(frozen=True)
class MinDResult:
    d: float | None  # the smallest d on the grid whose FFD series passes ADF at the level; None if none does
    level: str
    tested: list[dict[str, float]]  # d, statistic, pvalue, critical value, correlation with the input


def min_ffd_d(
    values: ArrayLike,
    grid: Sequence[float] = tuple(np.round(np.arange(0.0, 1.01, 0.1), 2)),
    threshold: float = 1e-4,
    level: str = "5%",
    max_lag: int | None = 1,
) -> MinDResult:
    """The minimum d whose FFD of `values` (usually log prices) rejects a unit root: stationary, most memory."""
    x = np.asarray(values, dtype=np.float64)
    tested: list[dict[str, float]] = []
    found: float | None = None
    for d in grid:
        series = ffd(x, float(d), threshold)
        finite = series[np.isfinite(series)]
        if len(finite) < 20:
            continue
        result = adf_test(finite, max_lag=max_lag, autolag=None)
        correlation = float(np.corrcoef(finite, x[-len(finite) :])[0, 1])
        tested.append(
            {"d": float(d), "statistic": result.statistic, "pvalue": result.pvalue,
             "critical_value": result.critical_values[level], "correlation": correlation}
        )  # fmt: skip
        if found is None and result.rejects_unit_root(level):
            found = float(d)
    return MinDResult(found, level, tested)
