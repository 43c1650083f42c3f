"""Meta-labeling (López de Prado ch. 3.6, 10): a primary model picks the side, a secondary model learns
whether to act on it, and its probability sizes the bet.

Meta-labels come from `labels.triple_barrier(..., side=primary_side)`: 1 when the primary's bet made money.
Acting on every primary signal has recall 1 and precision = the primary's hit rate; the meta model trades
some recall for precision. `compare` reports both on the same held-out samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from trade2026.domain.ml.metrics import precision_recall_f1

__all__ = ["bet_size", "compare", "crossover_side"]


def crossover_side(close: ArrayLike, fast: int = 20, slow: int = 50) -> np.ndarray:
    """A simple primary model: +1 when the fast moving average is above the slow one, else -1 (NaN warm-up).

    Uses closes up to t only.
    """
    prices = np.asarray(close, dtype=np.float64)
    if not 1 <= fast < slow:
        raise ValueError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
    cumulative = np.concatenate([[0.0], np.cumsum(prices)])

    def moving_average(window: int) -> np.ndarray:
        out = np.full(len(prices), np.nan)
        out[window - 1 :] = (cumulative[window:] - cumulative[:-window]) / window
        return out

    fast_ma, slow_ma = moving_average(fast), moving_average(slow)
    side = np.where(fast_ma > slow_ma, 1.0, -1.0)
    side[np.isnan(slow_ma)] = np.nan
    return side


def bet_size(probability: ArrayLike, side: ArrayLike | None = None, step: float = 0.0) -> np.ndarray:
    """Size in [-1, 1] from the meta probability p that the bet wins: 2 * Phi(z) - 1, z = (p - 1/2)/sqrt(p(1-p)).

    p <= 1/2 gives 0 (do not act); `step` > 0 rounds the size to multiples of step (less turnover).
    """
    p = np.clip(np.asarray(probability, dtype=np.float64), 1e-12, 1 - 1e-12)
    z = (p - 0.5) / np.sqrt(p * (1.0 - p))
    size = np.maximum(2.0 * norm.cdf(z) - 1.0, 0.0)
    if step > 0:
        size = np.round(size / step) * step
    return size if side is None else size * np.asarray(side, dtype=np.float64)


def compare(meta_label: ArrayLike, probability: ArrayLike, threshold: float = 0.5) -> dict[str, Any]:
    """Precision/recall/F1 of acting on every primary signal versus acting only when the meta model says so."""
    y = np.asarray(meta_label, dtype=np.float64)
    act = (np.asarray(probability, dtype=np.float64) > threshold).astype(np.float64)
    primary = precision_recall_f1(y, np.ones(len(y)))
    meta = precision_recall_f1(y, act)
    return {
        "n": len(y),
        "primary": dict(zip(("precision", "recall", "f1"), primary, strict=True)),
        "meta": dict(zip(("precision", "recall", "f1"), meta, strict=True)) | {"acted": int(act.sum())},
    }
