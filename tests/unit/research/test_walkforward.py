"""Walk-forward windows and the optimize-in-sample / run-out-of-sample driver, on small synthetic data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from trade2026.domain.walkforward import (
    Fold,
    anchored_folds,
    fold_table,
    parameter_grid,
    rolling_folds,
    walk_forward,
)


def assert_no_look_ahead(folds: list[Fold], gap: int) -> None:
    for fold in folds:
        assert 0 <= fold.train_start < fold.train_stop <= fold.test_start - gap
        assert fold.test_start < fold.test_stop
        train = set(range(fold.train_start, fold.train_stop))
        assert train.isdisjoint(range(fold.test_start, fold.test_stop))
        assert max(train) < fold.test_start  # every training bar precedes every test bar


def test_rolling_folds_never_overlap_train_and_test() -> None:
    # Given many combinations of window sizes, steps and gaps over 100 bars
    for train, test, step, gap in itertools.product((10, 25), (5, 12), (None, 3, 20), (0, 2)):
        # When rolling folds are made
        folds = rolling_folds(100, train, test, step=step, gap=gap)
        # Then training windows have the fixed length, test windows follow after the gap, all fit in the data
        assert folds, (train, test, step, gap)
        assert_no_look_ahead(folds, gap)
        stride = test if step is None else step
        for k, fold in enumerate(folds):
            assert fold.index == k
            assert (fold.train_start, fold.train_stop - fold.train_start) == (k * stride, train)
            assert (fold.test_start, fold.test_stop) == (fold.train_stop + gap, fold.train_stop + gap + test)
        assert folds[-1].test_stop <= 100
        # And no fold that would still fit was left out
        assert folds[-1].train_start + stride + train + gap + test > 100


def test_anchored_folds_expand_from_bar_zero() -> None:
    # Given 60 bars, a first training window of 20 and test windows of 10 with a 1-bar gap
    folds = anchored_folds(60, 20, 10, gap=1)
    # Then every fold trains from bar 0 up to a growing stop, and tests right after the gap
    assert [(f.train.start, f.train.stop, f.test.start, f.test.stop) for f in folds] == [
        (0, 20, 21, 31),
        (0, 30, 31, 41),
        (0, 40, 41, 51),
    ]
    assert_no_look_ahead(folds, gap=1)


def test_windows_longer_than_the_data_are_rejected_with_the_reason() -> None:
    # Given 50 bars
    # When a fold would need 40 + 5 + 10 bars, Then the error names the sizes
    with pytest.raises(ValueError, match=r"needs 55 bars .* has 50"):
        rolling_folds(50, 40, 10, gap=5)
    with pytest.raises(ValueError, match="gap"):
        anchored_folds(50, 10, 10, gap=-1)


def regime_data() -> np.ndarray:
    """Synthetic per-bar returns: +1% a bar for 60 bars, then -1% a bar for 60 bars (a regime change)."""
    return np.concatenate([np.full(60, 0.01), np.full(60, -0.01)])


def test_driver_picks_the_in_sample_best_and_stitches_out_of_sample_returns() -> None:
    # Given long or short as the parameter, a data set that trends up then down, and rolling folds
    returns = regime_data()
    folds = rolling_folds(len(returns), 30, 15)
    grid = parameter_grid(side=[1.0, -1.0])
    seen: list[slice] = []

    def evaluate(params: dict[str, float], train: slice) -> float:
        seen.append(train)
        return float(np.sum(params["side"] * returns[train]))

    def run(params: dict[str, float], test: slice) -> np.ndarray:
        return params["side"] * returns[test]

    # When the walk-forward runs
    result = walk_forward(folds, grid, evaluate, run)
    # Then each fold chose the side that made money in ITS OWN training window
    for fold, choice in zip(folds, result.chosen_params, strict=True):
        expected = 1.0 if returns[fold.train].sum() > 0 else -1.0
        assert choice["side"] == expected
    # And the scores are the evaluations of every parameter set on every training window
    assert result.scores.shape == (len(folds), 2)
    assert np.allclose(result.scores[:, 0], [returns[f.train].sum() for f in folds])
    # And the stitched series is each fold's test returns in time order, with their bar indices
    assert np.array_equal(result.oos_index, np.arange(folds[0].test_start, folds[-1].test_stop))
    expected_oos = np.concatenate(
        [p["side"] * returns[f.test] for f, p in zip(folds, result.chosen_params, strict=True)]
    )
    assert np.array_equal(result.oos_returns, expected_oos)
    # And the fold after the regime change still trades the old regime: no look-ahead
    turning = next(f for f in folds if f.test_start == 60)
    assert result.chosen_params[turning.index]["side"] == 1.0
    # And evaluate only ever saw training windows (fold by fold, every parameter set)
    assert seen == [fold.train for fold in folds for _ in grid]


def test_driver_never_shows_future_bars_to_the_optimizer() -> None:
    # Given data whose future is poisoned: any evaluation reading a bar at or after its fold's test start fails
    returns = np.random.default_rng(3).normal(0, 0.01, 200)
    folds = anchored_folds(200, 50, 25, gap=3)
    current: dict[str, int] = {}

    def evaluate(window: int, train: slice) -> float:
        assert train.stop <= current["test_start"] - 3, "look-ahead"
        return float(np.mean(returns[train][-window:]))

    def run(window: int, test: slice) -> np.ndarray:
        return returns[test]

    def evaluate_with_context(window: int, train: slice) -> float:
        current["test_start"] = next(f.test_start for f in folds if f.train == train)
        return evaluate(window, train)

    # When the driver runs, Then no assertion fires and every test bar appears once
    result = walk_forward(folds, [5, 10, 20], evaluate_with_context, run)
    assert len(result.oos_returns) == len(set(result.oos_index.tolist())) == 25 * len(folds)


def test_overlapping_test_windows_and_bad_results_are_rejected() -> None:
    # Given folds whose test windows overlap (step smaller than the test window)
    returns = regime_data()
    overlapping = rolling_folds(len(returns), 30, 20, step=10)

    def evaluate(side: float, train: slice) -> float:
        return float(np.sum(side * returns[train]))

    def run(side: float, test: slice) -> np.ndarray:
        return side * returns[test]

    # When / Then the driver refuses to stitch them
    with pytest.raises(ValueError, match="overlap"):
        walk_forward(overlapping, [1.0, -1.0], evaluate, run)
    folds = rolling_folds(len(returns), 30, 20)
    # And a run that returns the wrong number of bars is caught
    with pytest.raises(ValueError, match="shape"):
        walk_forward(folds, [1.0], evaluate, lambda side, test: returns[test][:-1])
    # And a fold where every parameter scores NaN is named
    with pytest.raises(ValueError, match=r"fold\(s\) \[0"):
        walk_forward(folds, [1.0], lambda side, train: float("nan"), run)


def test_nan_scores_are_skipped_and_ties_take_the_first() -> None:
    # Given three parameter sets: one scores NaN, two tie
    folds = rolling_folds(40, 10, 10)
    scores = {"a": float("nan"), "b": 1.0, "c": 1.0}
    # When the driver runs
    result = walk_forward(folds, list(scores), lambda p, train: scores[p], lambda p, test: np.zeros(10))
    # Then the first of the tied valid sets is chosen in every fold
    assert result.chosen_params == ["b"] * len(folds)


def test_parameter_grid_and_fold_table() -> None:
    # Given two parameter axes
    grid = parameter_grid(fast=[5, 10], slow=[50, 100, 200])
    # Then the grid is their Cartesian product, in order
    assert len(grid) == 6 and grid[0] == {"fast": 5, "slow": 50} and grid[-1] == {"fast": 10, "slow": 200}
    # And the fold table is JSON-ready
    folds = rolling_folds(30, 10, 10)
    assert fold_table(folds, [grid[0], grid[1]]) == [
        {"fold": 0, "train": [0, 10], "test": [10, 20], "params": {"fast": 5, "slow": 50}},
        {"fold": 1, "train": [10, 20], "test": [20, 30], "params": {"fast": 5, "slow": 100}},
    ]
