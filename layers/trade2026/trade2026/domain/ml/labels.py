"""Labels: fixed horizon and triple barrier (López de Prado ch. 3).

A label of the sample at bar t0 covers the bars (t0, t1]: its information ends at t1, which purging and the
uniqueness weights need. A sample whose horizon runs past the last bar gets no label (NaN): a truncated window
would label the end of the data differently from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

__all__ = ["Labels", "ewma_volatility", "fixed_horizon", "triple_barrier"]


@dataclass(frozen=True)
class Labels:
    """One row per labelled sample (events with a full horizon only)."""

    t0: np.ndarray  # int: bar of the sample (features observed at its close)
    t1: np.ndarray  # int: bar at which the label is known (barrier touch or vertical barrier)
    ret: np.ndarray  # return from t0's close to t1's close (times side when a side is given)
    label: np.ndarray  # float: -1/0/1, or 0/1 for meta-labels
    barrier: np.ndarray  # int: 1 upper (profit take), -1 lower (stop loss), 0 vertical / fixed horizon

    def __len__(self) -> int:
        return len(self.t0)


def _check_close(close: ArrayLike, horizon: int) -> np.ndarray:
    prices = np.asarray(close, dtype=np.float64)
    if prices.ndim != 1:
        raise ValueError("labels are computed one series at a time (close must be 1-D)")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 bar, got {horizon}")
    if horizon >= len(prices):
        raise ValueError(f"label horizon of {horizon} bars is longer than the data ({len(prices)} bars)")
    return prices


def fixed_horizon(close: ArrayLike, horizon: int, threshold: float = 0.0) -> Labels:
    """Sign of the `horizon`-bar return, 0 inside +/- threshold."""
    prices = _check_close(close, horizon)
    t0 = np.arange(len(prices) - horizon)
    t1 = t0 + horizon
    ret = prices[t1] / prices[t0] - 1.0
    label = np.where(ret > threshold, 1.0, np.where(ret < -threshold, -1.0, 0.0))
    keep = np.isfinite(ret)
    return Labels(t0[keep], t1[keep], ret[keep], label[keep], np.zeros(int(keep.sum()), dtype=np.int64))


def ewma_volatility(close: ArrayLike, span: int = 50) -> np.ndarray:
    """Exponentially weighted volatility of one-bar returns (RiskMetrics recursion, alpha = 2/(span+1)).

    vol[t] uses returns up to t only; NaN for bar 0 and until `span` returns were seen.
    """
    prices = np.asarray(close, dtype=np.float64)
    if span < 2:
        raise ValueError(f"span must be at least 2, got {span}")
    returns = np.full(prices.shape, np.nan)
    returns[1:] = prices[1:] / prices[:-1] - 1.0
    alpha = 2.0 / (span + 1.0)
    variance = np.full(prices.shape, np.nan)
    current = np.nan
    seen = 0
    for t in range(1, len(prices)):
        r = returns[t]
        if not np.isfinite(r):
            continue
        current = r * r if seen == 0 else (1.0 - alpha) * current + alpha * r * r
        seen += 1
        if seen >= span:
            variance[t] = current
    return np.sqrt(variance)


def triple_barrier(
    close: ArrayLike,
    volatility: ArrayLike,
    horizon: int,
    profit_take: float = 1.0,
    stop_loss: float = 1.0,
    events: ArrayLike | None = None,
    side: ArrayLike | None = None,
    min_return: float = 0.0,
) -> Labels:
    """First barrier touched after each event: profit take at +profit_take * vol[t0], stop loss at
    -stop_loss * vol[t0] (a multiplier of 0 removes that barrier), vertical barrier `horizon` bars later.

    The label is the sign of the return at the touch (0 for an exact zero); with `side` (+1 long, -1 short,
    0 no bet: dropped) the returns are the side's and the label is the meta-label 1 (the bet made money) or 0.
    Events whose volatility is not known, below `min_return`, or without a full horizon are dropped.
    """
    prices = _check_close(close, horizon)
    vol = np.asarray(volatility, dtype=np.float64)
    if vol.shape != prices.shape:
        raise ValueError("volatility must have one value per bar")
    if profit_take < 0 or stop_loss < 0:
        raise ValueError("barrier multipliers must be >= 0")
    last = len(prices) - 1 - horizon
    t0 = np.arange(last + 1) if events is None else np.asarray(events, dtype=np.int64)
    t0 = t0[(t0 >= 0) & (t0 <= last)]
    sides = np.ones(len(prices)) if side is None else np.asarray(side, dtype=np.float64)
    keep = np.isfinite(vol[t0]) & (vol[t0] > min_return) & np.isfinite(sides[t0]) & (sides[t0] != 0)
    t0 = t0[keep]
    windows = sliding_window_view(prices, horizon + 1)[t0]  # (n, horizon + 1): close[t0 .. t0 + horizon]
    path = (windows[:, 1:] / windows[:, :1] - 1.0) * sides[t0, None]
    width = vol[t0, None]
    upper = path >= profit_take * width if profit_take > 0 else np.zeros(path.shape, dtype=bool)
    lower = path <= -stop_loss * width if stop_loss > 0 else np.zeros(path.shape, dtype=bool)
    touched = upper | lower
    any_touch = touched.any(axis=1)
    first = np.where(any_touch, touched.argmax(axis=1), horizon - 1)
    rows = np.arange(len(t0))
    ret = path[rows, first]
    barrier = np.where(any_touch, np.where(upper[rows, first], 1, -1), 0).astype(np.int64)
    label = (ret > 0).astype(np.float64) if side is not None else np.sign(ret)
    return Labels(t0, t0 + first + 1, ret, label, barrier)
