"""Classification metrics in numpy (sklearn.metrics is the oracle in the tests): AUC, log-loss,
precision/recall/F1, accuracy and accuracy by class, confusion matrix, AUC over backtest paths. Optional
sample weights."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "accuracy",
    "accuracy_by_class",
    "classification_summary",
    "confusion_matrix",
    "log_loss",
    "path_auc_summary",
    "precision_recall_f1",
    "roc_auc",
]


def _weights(sample_weight: ArrayLike | None, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n,):
        raise ValueError(f"sample_weight must have {n} values, got shape {weights.shape}")
    return weights


def roc_auc(y_true: ArrayLike, score: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """Area under the ROC curve (ties count one half); binary labels 0/1."""
    y = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    w = _weights(sample_weight, len(y))
    positive = w * (y == 1)
    negative = w * (y != 1)
    if positive.sum() == 0 or negative.sum() == 0:
        raise ValueError("AUC needs both classes in y_true")
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s) - 1]
    tp = np.cumsum(positive[order])[last_of_tie]
    fp = np.cumsum(negative[order])[last_of_tie]
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def log_loss(y_true: ArrayLike, probability: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """Mean binary cross-entropy; probabilities clipped to [eps, 1 - eps] (float64 eps)."""
    y = np.asarray(y_true, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(probability, dtype=np.float64), eps, 1.0 - eps)
    w = _weights(sample_weight, len(y))
    losses = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
    return float(np.sum(w * losses) / np.sum(w))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None) -> np.ndarray:
    """Rows: true class, columns: predicted class, in the order of `labels` (sorted union if None)."""
    y = np.asarray(y_true)
    p = np.asarray(y_pred)
    classes = np.unique(np.concatenate([y, p])) if labels is None else np.asarray(labels)
    index = {value: i for i, value in enumerate(classes.tolist())}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for truth, guess in zip(y.tolist(), p.tolist(), strict=True):
        if truth in index and guess in index:
            matrix[index[truth], index[guess]] += 1
    return matrix


def precision_recall_f1(
    y_true: ArrayLike, y_pred: ArrayLike, positive: Any = 1, sample_weight: ArrayLike | None = None
) -> tuple[float, float, float]:
    """Binary precision, recall and F1 of the `positive` class; 0 where undefined (sklearn zero_division=0)."""
    y = np.asarray(y_true) == positive
    p = np.asarray(y_pred) == positive
    w = _weights(sample_weight, len(y))
    tp = float(np.sum(w * (y & p)))
    fp = float(np.sum(w * (~y & p)))
    fn = float(np.sum(w * (y & ~p)))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    return precision, recall, f1


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    y = np.asarray(y_true)
    w = _weights(sample_weight, len(y))
    return float(np.sum(w * (y == np.asarray(y_pred))) / np.sum(w))


def accuracy_by_class(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """For each true class, the share of its samples predicted right (its recall)."""
    y = np.asarray(y_true)
    p = np.asarray(y_pred)
    return {str(c.item() if hasattr(c, "item") else c): float(np.mean(p[y == c] == c)) for c in np.unique(y)}


def classification_summary(
    y_true: ArrayLike, probability: ArrayLike, threshold: float = 0.5, sample_weight: ArrayLike | None = None
) -> dict[str, Any]:
    """Everything the registry stores about a binary classifier on one data set."""
    y = np.asarray(y_true, dtype=np.float64)
    prob = np.asarray(probability, dtype=np.float64)
    predicted = (prob > threshold).astype(np.float64)
    precision, recall, f1 = precision_recall_f1(y, predicted)
    both = 0 < y.sum() < len(y)
    return {
        "n": len(y),
        "positive_rate": float(y.mean()) if len(y) else None,
        "auc": roc_auc(y, prob, sample_weight) if both else None,
        "log_loss": log_loss(y, prob, sample_weight) if len(y) else None,
        "accuracy": accuracy(y, predicted) if len(y) else None,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy_by_class": accuracy_by_class(y.astype(np.int64), predicted.astype(np.int64)),
    }


def path_auc_summary(y_true: ArrayLike, path_predictions: ArrayLike) -> dict[str, Any]:
    """AUC of each backtest path (rows of `path_predictions`, e.g. from CombinatorialPurgedCV), their mean and
    standard deviation (ddof 0); paths whose samples hold a single class have no AUC and are left out."""
    y = np.asarray(y_true, dtype=np.float64)
    paths = np.atleast_2d(np.asarray(path_predictions, dtype=np.float64))
    if paths.shape[1] != len(y):
        raise ValueError(f"{paths.shape[1]} predictions per path for {len(y)} samples")
    both = 0 < y.sum() < len(y)
    aucs = [roc_auc(y, path) for path in paths] if both else []
    return {
        "n_paths": int(paths.shape[0]),
        "path_auc": aucs,
        "auc_mean": float(np.mean(aucs)) if aucs else None,
        "auc_std": float(np.std(aucs)) if aucs else None,
        "auc_min": float(np.min(aucs)) if aucs else None,
        "auc_max": float(np.max(aucs)) if aucs else None,
    }
