"""PRISM physics signals of returns: entropy, turbulence, pressure, critical slowing down, percolation.

Pure numpy, vectorized over time. Every signal is causal: its value at t uses observations up to t only, and it is
NaN until its window is full. Inputs are (T,) series or (T, N) cross-sections of returns (rows = days).

- `rolling_shannon_entropy`: entropy (nats) of the returns of the trailing window binned into `bins` equal-width
  bins spanning the window's range; `normalized` divides by log(bins) (a uniform histogram gives 1).
- `permutation_entropy` / `rolling_permutation_entropy`: Bandt & Pompe ordinal-pattern entropy of order m and delay
  tau, normalized by log(m!): 0 for a monotone series, ~1 for white noise. Ties rank by position.
- `turbulence`: Kritzman & Li (2010) d_t = (r_t - mu)' S^-1 (r_t - mu) with mu, S the mean and covariance of the
  `window` days before t (its square root is the Mahalanobis distance).
- `pressure`: sum(sign(r) * volume) / sum(volume) over the trailing window: an order-flow imbalance proxy in
  [-1, 1]. Without volume there is no pressure: the function raises `MissingVolume`.
- `early_warnings`: rolling variance and lag-1 autocorrelation and the Kendall tau of each over the trailing
  `trend_window` values (critical slowing down: both trend up before a transition).
- `percolation`: the correlation network of the trailing window (edges where |rho| >= threshold); the size of its
  largest connected component divided by N.
- `regime_score`: a risk-on exposure in [0, 1] from turbulence, entropy and percolation (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BATCH = 512  # dates per batch for (B, window, N) work


class PhysicsError(ValueError):
    """Inconsistent inputs (the message names the parameter and the numbers)."""


class MissingVolume(PhysicsError):
    """The data has no volume: pressure cannot be computed."""


def _series(x: np.ndarray, name: str = "returns") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise PhysicsError(f"{name} must be one series, got shape {a.shape}")
    return a


def _check_window(window: int, length: int, minimum: int = 2, name: str = "window") -> None:
    if window < minimum:
        raise PhysicsError(f"{name} must be at least {minimum}, got {window}")
    if window > length:
        raise PhysicsError(f"{name} {window} is longer than the history ({length} observations)")


def _pad(values: np.ndarray, length: int) -> np.ndarray:
    """Left-pad with NaN to `length` rows (the first window-1 values are undefined)."""
    out = np.full((length, *values.shape[1:]), np.nan)
    out[length - len(values) :] = values
    return out


# ---------------------------------------------------------------------- entropy
def rolling_shannon_entropy(
    returns: np.ndarray, window: int, bins: int = 10, normalized: bool = False
) -> np.ndarray:
    x = _series(returns)
    _check_window(window, len(x))
    if bins < 2:
        raise PhysicsError(f"bins must be at least 2, got {bins}")
    w = sliding_window_view(x, window)
    lo = w.min(axis=1, keepdims=True)
    span = w.max(axis=1, keepdims=True) - lo
    safe = np.where(span > 0, span, 1.0)
    idx = np.clip(((w - lo) / safe * bins).astype(np.int64), 0, bins - 1)
    rows = len(w)
    counts = np.bincount((idx + np.arange(rows)[:, None] * bins).ravel(), minlength=rows * bins)
    p = counts.reshape(rows, bins) / window
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    h[span[:, 0] == 0] = 0.0  # a constant window: one bin
    if normalized:
        h /= math.log(bins)
    return _pad(h, len(x))


def _pattern_codes(x: np.ndarray, order: int, delay: int) -> np.ndarray:
    """Index 0..m!-1 of the ordinal pattern of each embedding vector (x_t, x_{t+tau}, ..., x_{t+(m-1)tau})."""
    n = len(x) - (order - 1) * delay
    if n < 1:
        raise PhysicsError(f"order {order} and delay {delay} need more than {len(x)} observations")
    emb = np.stack([x[i * delay : i * delay + n] for i in range(order)], axis=1)
    ranks = np.argsort(np.argsort(emb, axis=1, kind="stable"), axis=1, kind="stable")
    # Lehmer code: a bijection of the m! permutations onto 0..m!-1
    code = np.zeros(n, dtype=np.int64)
    for i in range(order):
        smaller_after = (ranks[:, i + 1 :] < ranks[:, i : i + 1]).sum(axis=1)
        code += smaller_after * math.factorial(order - 1 - i)
    return code


def permutation_entropy(x: np.ndarray, order: int = 3, delay: int = 1) -> float:
    """Normalized permutation entropy of a whole series."""
    if not 2 <= order <= 8:
        raise PhysicsError(f"order must be in 2..8, got {order}")
    if delay < 1:
        raise PhysicsError(f"delay must be at least 1, got {delay}")
    codes = _pattern_codes(_series(x, "x"), order, delay)
    p = np.bincount(codes, minlength=math.factorial(order)) / len(codes)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(math.factorial(order)))


def rolling_permutation_entropy(x: np.ndarray, window: int, order: int = 3, delay: int = 1) -> np.ndarray:
    """Normalized permutation entropy of the patterns ending in the trailing `window` observations."""
    a = _series(x, "x")
    if not 2 <= order <= 8:
        raise PhysicsError(f"order must be in 2..8, got {order}")
    if delay < 1:
        raise PhysicsError(f"delay must be at least 1, got {delay}")
    span = (order - 1) * delay
    _check_window(window, len(a), minimum=span + 2)
    codes = _pattern_codes(a, order, delay)  # pattern k ends at observation k + span
    n_codes = math.factorial(order)
    per = window - span  # patterns inside a window
    onehot = np.zeros((len(codes) + 1, n_codes), dtype=np.int32)
    onehot[np.arange(1, len(codes) + 1), codes] = 1
    cum = np.cumsum(onehot, axis=0)
    counts = cum[per:] - cum[:-per]  # windows of `per` consecutive patterns
    p = counts / per
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1) / math.log(n_codes)
    return _pad(h, len(a))


# ---------------------------------------------------------------------- turbulence
def _matrix(returns: np.ndarray, min_assets: int = 2) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < min_assets:
        raise PhysicsError(
            f"need a (days, assets) matrix with at least {min_assets} assets, got shape {r.shape}"
        )
    if not np.all(np.isfinite(r)):
        raise PhysicsError("returns contain NaN or infinite values")
    return r


def _window_moments(r: np.ndarray, window: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """Mean (B, N) and covariance (B, N, N) of the windows r[t-window:t] for t in rows (ddof=1)."""
    w = sliding_window_view(r[rows.start - window : rows.stop - 1], window, axis=0)  # (B, N, window)
    mean = w.mean(axis=2)
    centred = w - mean[:, :, None]
    cov = np.matmul(centred, centred.transpose(0, 2, 1)) / (window - 1)  # batched BLAS
    return mean, cov


def turbulence(returns: np.ndarray, window: int = 252) -> np.ndarray:
    """Kritzman-Li turbulence of each day against the `window` days before it (NaN for the first `window`)."""
    r = _matrix(returns)
    t_len, n = r.shape
    if window <= n:
        raise PhysicsError(
            f"window {window} must exceed the number of assets {n} (the covariance must invert)"
        )
    _check_window(window + 1, t_len, name="window + 1")
    out = np.full(t_len, np.nan)
    for start in range(window, t_len, BATCH):
        rows = slice(start, min(start + BATCH, t_len))
        mean, cov = _window_moments(r, window, rows)
        dev = r[rows] - mean
        try:
            sol = np.linalg.solve(cov, dev[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            sol = np.einsum("bij,bj->bi", np.linalg.pinv(cov), dev)
        out[rows] = np.einsum("bi,bi->b", dev, sol)
    return out


# ---------------------------------------------------------------------- pressure
def pressure(returns: np.ndarray, volume: np.ndarray | None, window: int = 20) -> np.ndarray:
    r = _series(returns)
    if volume is None:
        raise MissingVolume("no volume in the data: pressure (signed volume) needs volume")
    v = _series(volume, "volume")
    if v.shape != r.shape:
        raise PhysicsError(f"volume has {len(v)} values, returns {len(r)}")
    if not np.any(np.isfinite(v)):
        raise MissingVolume("no volume in the data: pressure (signed volume) needs volume")
    _check_window(window, len(r), minimum=1)
    v = np.where(np.isfinite(v), v, 0.0)
    signed = np.sign(np.nan_to_num(r)) * v
    cs = np.concatenate([[0.0], np.cumsum(signed)])
    cv = np.concatenate([[0.0], np.cumsum(v)])
    num = cs[window:] - cs[:-window]
    den = cv[window:] - cv[:-window]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(den > 0, num / den, np.nan)
    return _pad(p, len(r))


# ---------------------------------------------------------------------- early warnings
def rolling_variance(x: np.ndarray, window: int) -> np.ndarray:
    a = _series(x, "x")
    _check_window(window, len(a))
    return _pad(sliding_window_view(a, window).var(axis=1, ddof=1), len(a))


def rolling_autocorrelation(x: np.ndarray, window: int) -> np.ndarray:
    """Lag-1 autocorrelation (Pearson correlation of x[t-1], x[t]) of the trailing window."""
    a = _series(x, "x")
    _check_window(window, len(a), minimum=3)
    w = sliding_window_view(a, window)
    lead, lag = w[:, 1:], w[:, :-1]
    lead = lead - lead.mean(axis=1, keepdims=True)
    lag = lag - lag.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (lead * lag).sum(axis=1) / np.sqrt((lead**2).sum(axis=1) * (lag**2).sum(axis=1))
    return _pad(rho, len(a))


def rolling_kendall_tau(x: np.ndarray, window: int) -> np.ndarray:
    """Kendall tau (tau-b: ties in x handled) between the trailing `window` values and time; NaN where any is NaN."""
    a = _series(x, "x")
    _check_window(window, len(a), minimum=3)
    n = len(a)
    concordant = np.zeros(n - window + 1)
    tied = np.zeros(n - window + 1)
    for d in range(1, window):
        s = np.sign(a[d:] - a[:-d])  # pair (i, i + d)
        z = (s == 0).astype(np.float64)
        cs = np.concatenate([[0.0], np.cumsum(np.nan_to_num(s))])
        cz = np.concatenate([[0.0], np.cumsum(z)])
        # the window ending at t = window-1+k holds pairs i = k .. k + window - 1 - d
        k = np.arange(n - window + 1)
        concordant += cs[k + window - d] - cs[k]
        tied += cz[k + window - d] - cz[k]
    pairs = window * (window - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = concordant / np.sqrt(pairs * (pairs - tied))
    bad = sliding_window_view(~np.isfinite(a), window).any(axis=1)
    tau[bad] = np.nan
    return _pad(tau, n)


@dataclass(frozen=True)
class EarlyWarnings:
    variance: np.ndarray
    autocorrelation: np.ndarray
    variance_trend: np.ndarray  # Kendall tau of the variance over the trend window
    autocorrelation_trend: np.ndarray
    indicator: np.ndarray  # mean of the two trends: > 0 rising (critical slowing down), in [-1, 1]


def early_warnings(x: np.ndarray, window: int = 60, trend_window: int = 60) -> EarlyWarnings:
    a = _series(x, "x")
    _check_window(window + trend_window - 1, len(a), name="window + trend_window - 1")
    var = rolling_variance(a, window)
    ac1 = rolling_autocorrelation(a, window)
    var_trend = rolling_kendall_tau(var, trend_window)
    ac_trend = rolling_kendall_tau(ac1, trend_window)
    return EarlyWarnings(var, ac1, var_trend, ac_trend, (var_trend + ac_trend) / 2)


# ---------------------------------------------------------------------- percolation
def largest_component_fraction(adjacency: np.ndarray) -> np.ndarray:
    """Largest connected component / N of each graph in a (B, N, N) boolean stack (label propagation)."""
    adj = np.asarray(adjacency, dtype=bool)
    b, n, _ = adj.shape
    labels = np.broadcast_to(np.arange(n), (b, n)).copy()
    big = n
    for _ in range(n):
        neighbour = np.where(adj, labels[:, None, :], big).min(axis=2)
        new = np.minimum(labels, neighbour)
        if np.array_equal(new, labels):
            break
        labels = new
    sizes = (labels[:, :, None] == np.arange(n)).sum(axis=1)
    return sizes.max(axis=1) / n


def percolation(returns: np.ndarray, window: int = 60, threshold: float = 0.5) -> np.ndarray:
    """Largest connected component / N of the |correlation| >= threshold network of the trailing window (incl. t)."""
    r = _matrix(returns)
    t_len, n = r.shape
    if not 0 < threshold <= 1:
        raise PhysicsError(f"threshold must be in (0, 1], got {threshold}")
    _check_window(window, t_len, minimum=3)
    out = np.full(t_len, np.nan)
    for start in range(window - 1, t_len, BATCH):
        stop = min(start + BATCH, t_len)
        _mean, cov = _window_moments(r, window, slice(start + 1, stop + 1))
        sd = np.sqrt(np.einsum("bii->bi", cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / (sd[:, :, None] * sd[:, None, :])
        adj = np.abs(np.nan_to_num(corr)) >= threshold
        adj[:, np.arange(n), np.arange(n)] = False
        out[start:stop] = largest_component_fraction(adj)
    return out


# ---------------------------------------------------------------------- the alpha helper
def rolling_rank(x: np.ndarray, lookback: int) -> np.ndarray:
    """Fraction of the trailing `lookback` values (incl. t) at or below x_t: a causal percentile in (0, 1]."""
    a = _series(x, "x")
    out = np.full(len(a), np.nan)
    if lookback > len(a):
        return out
    w = sliding_window_view(a, lookback)
    valid = np.isfinite(w).sum(axis=1)
    below = (w <= w[:, -1:]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rank = np.where(np.isfinite(w[:, -1]) & (valid > 0), below / valid, np.nan)
    out[lookback - 1 :] = rank
    return out


def regime_score(turbulence: np.ndarray, entropy: np.ndarray, percolation: np.ndarray,
                 lookback: int = 252) -> np.ndarray:  # fmt: skip
    """Risk-on exposure in [0, 1] (1 = fully invested) from three stress readings.

    Each input is turned into its causal percentile over the trailing `lookback` days; stress is the mean of
    the percentiles of turbulence (unusual cross-section), percolation (one correlated cluster: diversification
    gone) and of 1 - entropy (ordered, herding returns); exposure = 1 - stress. NaN until all three are defined.
    """
    ranks = [rolling_rank(turbulence, lookback), rolling_rank(percolation, lookback),
             1.0 - rolling_rank(entropy, lookback)]  # fmt: skip
    stress = np.mean(ranks, axis=0)
    return np.clip(1.0 - stress, 0.0, 1.0)
