"""Sample weights for overlapping labels (López de Prado ch. 4).

A label spans the bars (t0, t1]. Concurrency c_t counts the labels spanning bar t; a label's average
uniqueness is the mean of 1/c_t over its bars; return attribution weighs a label by |sum r_t / c_t|.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["average_uniqueness", "concurrency", "return_attribution_weights", "time_decay"]


def _spans(t0: ArrayLike, t1: ArrayLike, n_bars: int) -> tuple[np.ndarray, np.ndarray]:
    start = np.asarray(t0, dtype=np.int64)
    end = np.asarray(t1, dtype=np.int64)
    if start.shape != end.shape:
        raise ValueError("t0 and t1 must have the same length")
    if len(start) and (np.any(end <= start) or start.min() < 0 or end.max() >= n_bars):
        raise ValueError("every label needs 0 <= t0 < t1 < n_bars")
    return start, end


def concurrency(t0: ArrayLike, t1: ArrayLike, n_bars: int) -> np.ndarray:
    """c_t: how many labels span bar t (t0 < t <= t1)."""
    start, end = _spans(t0, t1, n_bars)
    delta = np.zeros(n_bars + 1, dtype=np.int64)
    np.add.at(delta, start + 1, 1)
    np.add.at(delta, end + 1, -1)
    return np.cumsum(delta[:n_bars])


def _span_sums(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """sum of values[t0+1 .. t1] for each label."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    return cumulative[end + 1] - cumulative[start + 1]


def average_uniqueness(t0: ArrayLike, t1: ArrayLike, n_bars: int) -> np.ndarray:
    """Mean of 1/c_t over each label's bars: 1 for a label overlapping nothing, 1/k for k identical labels."""
    start, end = _spans(t0, t1, n_bars)
    counts = concurrency(start, end, n_bars)
    inverse = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    return _span_sums(inverse, start, end) / (end - start)


def return_attribution_weights(t0: ArrayLike, t1: ArrayLike, close: ArrayLike) -> np.ndarray:
    """|sum over the label's bars of log return / c_t|, scaled so the weights sum to the number of labels."""
    prices = np.asarray(close, dtype=np.float64)
    start, end = _spans(t0, t1, len(prices))
    counts = concurrency(start, end, len(prices))
    log_returns = np.zeros(len(prices))
    log_returns[1:] = np.diff(np.log(prices))
    attributed = np.where(counts > 0, log_returns / np.maximum(counts, 1), 0.0)
    weights = np.abs(_span_sums(attributed, start, end))
    total = weights.sum()
    return weights * len(weights) / total if total > 0 else np.ones(len(weights))


def time_decay(uniqueness: ArrayLike, oldest_weight: float = 1.0) -> np.ndarray:
    """Linear decay over cumulative uniqueness (samples in time order): the newest gets 1, the oldest
    `oldest_weight` (in [0, 1]; a negative value zeroes that fraction of the oldest samples)."""
    u = np.asarray(uniqueness, dtype=np.float64)
    if len(u) == 0:
        return u
    cumulative = np.cumsum(u)
    total = cumulative[-1]
    slope = (1.0 - oldest_weight) / total if oldest_weight >= 0 else 1.0 / ((oldest_weight + 1.0) * total)
    intercept = 1.0 - slope * total
    return np.maximum(intercept + slope * cumulative, 0.0)
