"""Hybrid of signals with adaptive weights: each component is weighted by its exponentially weighted recent
out-of-sample performance (pure numpy/scipy).

Timing: a component's position p[t] (decided at bar t's close) earns p[t] * r[t+1]. Its realized P&L series is
therefore known through bar t at t's close, and the weights used for the position at t come only from P&L
realized up to t - never from the bar being decided. The performance score is an exponentially weighted
Sharpe-like ratio (EW mean / EW standard deviation of the realized P&L, half-life in bars); the weights are the
positive parts of the scores normalised to 1, a floor keeps every component alive, and when no component has
a positive score the weights are equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter


@dataclass(frozen=True)
class HybridResult:
    position: np.ndarray  # (T,) combined position
    weights: np.ndarray  # (T, K) weights used at each bar (rows sum to 1)
    scores: np.ndarray  # (T, K) EW performance scores known at each bar (NaN before any P&L)


def realized_pnl(positions: np.ndarray, returns: np.ndarray) -> np.ndarray:
    """(T, K) P&L realized at each bar: pnl[t] = positions[t-1] * returns[t] (0 at t = 0 and where NaN)."""
    p = np.asarray(positions, dtype=np.float64)
    r = np.asarray(returns, dtype=np.float64)
    if p.ndim != 2 or r.shape != (p.shape[0],):
        raise ValueError(f"positions must be (T, K) and returns (T,), got {p.shape} and {r.shape}")
    pnl = np.zeros_like(p)
    pnl[1:] = np.nan_to_num(p[:-1]) * np.nan_to_num(r[1:])[:, None]
    return pnl


def ew_mean(values: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted mean along axis 0 (pandas ``ewm(halflife, adjust=True).mean()``), causal."""
    if not halflife > 0:
        raise ValueError(f"halflife must be > 0, got {halflife}")
    x = np.asarray(values, dtype=np.float64)
    decay = 0.5 ** (1.0 / halflife)
    numerator = lfilter([1.0], [1.0, -decay], x, axis=0)
    denominator = lfilter([1.0], [1.0, -decay], np.ones_like(x), axis=0)
    return np.asarray(numerator / denominator)


def ew_scores(pnl: np.ndarray, halflife: float, min_periods: int = 5) -> np.ndarray:
    """EW mean / EW standard deviation of each column of realized P&L (NaN for the first min_periods rows)."""
    p = np.asarray(pnl, dtype=np.float64)
    mean = ew_mean(p, halflife)
    second = ew_mean(p * p, halflife)
    std = np.sqrt(np.maximum(second - mean * mean, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(std > 0, mean / std, 0.0)
    scores[: min(min_periods, len(scores))] = np.nan
    return scores


def weights_from_scores(scores: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Positive parts normalised (rows sum to 1); equal weights where none is positive or scores are NaN."""
    s = np.asarray(scores, dtype=np.float64)
    k = s.shape[-1]
    if not 0.0 <= floor <= 1.0 / k:
        raise ValueError(f"floor must be in [0, 1/{k}], got {floor}")
    positive = np.where(np.isfinite(s), np.maximum(s, 0.0), 0.0)
    total = positive.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(total > 0, positive / total, 1.0 / k)
    return floor + (1.0 - k * floor) * w


def adaptive_combine(
    positions: np.ndarray, returns: np.ndarray, halflife: float = 63.0, floor: float = 0.0,
    min_periods: int = 5,
) -> HybridResult:  # fmt: skip
    """Combine K component positions (T, K) of one asset whose bar returns are ``returns`` (T,)."""
    p = np.asarray(positions, dtype=np.float64)
    scores = ew_scores(realized_pnl(p, returns), halflife, min_periods)
    weights = weights_from_scores(scores, floor)
    return HybridResult(
        position=np.nansum(weights * np.nan_to_num(p), axis=1), weights=weights, scores=scores
    )


def latest_weights(
    positions: np.ndarray, returns: np.ndarray, halflife: float, floor: float = 0.0
) -> list[float]:
    """The weights for the last bar (what a live strategy uses), as plain floats."""
    result = adaptive_combine(positions, returns, halflife, floor)
    return [float(w) if math.isfinite(w) else 0.0 for w in result.weights[-1]]
