"""Walk-forward analysis: rolling and anchored train/test windows and a pure optimize-then-test driver.

Windows are half-open bar index ranges ``[start, stop)``. In every fold the test window starts at or after
``train_stop + gap``: a test bar is never a training bar, and ``gap`` bars between them keep labels or
indicators that look a few bars ahead from leaking (purging). Folds come in time order and their test
windows do not overlap when ``step >= test_size`` (the default), so their out-of-sample returns stitch
into one series.

The driver is pure: the caller passes ``evaluate(params, train) -> score`` (higher is better) and
``run(params, test) -> per-bar returns of the test bars``. Both receive a ``slice`` of bar indices and close
over the data themselves; ``run`` may read bars BEFORE ``test.start`` (indicator warm-up uses the past, which
is no look-ahead) but returns exactly one return per test bar.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

P = TypeVar("P")
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: train on bars [train_start, train_stop), test on [test_start, test_stop)."""

    index: int
    train_start: int
    train_stop: int
    test_start: int
    test_stop: int

    @property
    def train(self) -> slice:
        return slice(self.train_start, self.train_stop)

    @property
    def test(self) -> slice:
        return slice(self.test_start, self.test_stop)


def rolling_folds(
    n_bars: int, train_size: int, test_size: int, *, step: int | None = None, gap: int = 0
) -> list[Fold]:
    """Fixed-length training windows that roll forward by ``step`` bars (default ``test_size``).

    Fold k trains on [k*step, k*step + train_size) and tests on the ``test_size`` bars starting ``gap`` bars
    after the training window; only folds whose test window fits in ``n_bars`` are returned.
    """
    _check_sizes(n_bars, train_size, test_size, step, gap)
    stride = test_size if step is None else step
    folds = []
    for index, start in enumerate(range(0, n_bars, stride)):
        test_start = start + train_size + gap
        if test_start + test_size > n_bars:
            break
        folds.append(Fold(index, start, start + train_size, test_start, test_start + test_size))
    return folds


def anchored_folds(
    n_bars: int, min_train_size: int, test_size: int, *, step: int | None = None, gap: int = 0
) -> list[Fold]:
    """Expanding training windows anchored at bar 0: fold k trains on [0, min_train_size + k*step)."""
    _check_sizes(n_bars, min_train_size, test_size, step, gap)
    stride = test_size if step is None else step
    folds = []
    for index, train_stop in enumerate(range(min_train_size, n_bars, stride)):
        test_start = train_stop + gap
        if test_start + test_size > n_bars:
            break
        folds.append(Fold(index, 0, train_stop, test_start, test_start + test_size))
    return folds


def _check_sizes(n_bars: int, train_size: int, test_size: int, step: int | None, gap: int) -> None:
    if train_size < 1 or test_size < 1:
        raise ValueError("train and test windows need at least one bar")
    if step is not None and step < 1:
        raise ValueError("step must be at least 1 bar")
    if gap < 0:
        raise ValueError("gap must be >= 0")
    if train_size + gap + test_size > n_bars:
        raise ValueError(
            f"one fold needs {train_size + gap + test_size} bars (train {train_size} + gap {gap} + "
            f"test {test_size}) but the data has {n_bars}"
        )


def parameter_grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Cartesian product of named parameter values: ``parameter_grid(fast=[5, 10], slow=[50])``."""
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


@dataclass(frozen=True)
class WalkForwardResult(Generic[P]):
    """Per-fold choices and the stitched out-of-sample returns.

    ``scores[k, j]`` is the in-sample score of ``params[j]`` in fold k; ``chosen[k]`` the index of the best
    (first on ties, NaN scores never chosen). ``oos_returns`` concatenates every fold's test returns in time
    order and ``oos_index`` gives the bar index of each of them; ``fold_returns`` keeps them per fold.
    """

    folds: list[Fold]
    params: list[P]
    scores: FloatArray
    chosen: IntArray
    oos_returns: FloatArray
    oos_index: IntArray
    fold_returns: list[FloatArray]

    @property
    def chosen_params(self) -> list[P]:
        return [self.params[j] for j in self.chosen]


def walk_forward(
    folds: Sequence[Fold],
    params: Sequence[P],
    evaluate: Callable[[P, slice], float],
    run: Callable[[P, slice], ArrayLike],
) -> WalkForwardResult[P]:
    """Optimize in sample, then run out of sample, fold by fold.

    For each fold: score every parameter set on the training window with ``evaluate``, take the best, and
    run it on the test window with ``run``. The test windows must not overlap (else the stitched series would
    count bars twice).
    """
    if not folds or not params:
        raise ValueError("walk_forward needs at least one fold and one parameter set")
    _check_folds(folds)
    candidates = list(params)
    scores = np.array(
        [[float(evaluate(candidate, fold.train)) for candidate in candidates] for fold in folds],
        dtype=np.float64,
    )
    if np.any(np.all(np.isnan(scores), axis=1)):
        bad = [fold.index for fold, row in zip(folds, scores, strict=True) if np.all(np.isnan(row))]
        raise ValueError(f"every parameter set scored NaN in fold(s) {bad}")
    chosen = np.nanargmax(scores, axis=1).astype(np.int64)
    fold_returns = []
    for fold, best in zip(folds, chosen, strict=True):
        returns = np.asarray(run(candidates[best], fold.test), dtype=np.float64)
        expected = fold.test_stop - fold.test_start
        if returns.shape != (expected,):
            raise ValueError(
                f"run() returned shape {returns.shape} for fold {fold.index}, expected ({expected},)"
            )
        fold_returns.append(returns)
    return WalkForwardResult(
        folds=list(folds),
        params=candidates,
        scores=scores,
        chosen=chosen,
        oos_returns=np.concatenate(fold_returns),
        oos_index=np.concatenate([np.arange(f.test_start, f.test_stop) for f in folds]).astype(np.int64),
        fold_returns=fold_returns,
    )


def _check_folds(folds: Sequence[Fold]) -> None:
    for fold in folds:
        if fold.test_start < fold.train_stop:
            raise ValueError(f"fold {fold.index}: test window starts inside the training window")
    for earlier, later in itertools.pairwise(folds):
        if later.test_start < earlier.test_stop:
            raise ValueError(
                f"folds {earlier.index} and {later.index}: test windows overlap (use step >= test_size)"
            )


def fold_table(
    folds: Sequence[Fold], chosen: Sequence[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """JSON-ready rows (train/test ranges and, if given, the chosen parameters) for reports and the API."""
    rows = []
    for position, fold in enumerate(folds):
        row: dict[str, Any] = {
            "fold": fold.index,
            "train": [fold.train_start, fold.train_stop],
            "test": [fold.test_start, fold.test_stop],
        }
        if chosen is not None:
            row["params"] = dict(chosen[position])
        rows.append(row)
    return rows


__all__ = [
    "Fold",
    "WalkForwardResult",
    "anchored_folds",
    "fold_table",
    "parameter_grid",
    "rolling_folds",
    "walk_forward",
]
