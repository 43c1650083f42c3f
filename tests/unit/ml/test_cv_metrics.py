"""Purged CV (no training sample's label window overlaps a test fold; embargo after it) and classification
metrics against sklearn.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from trade2026.domain.ml import metrics
from trade2026.domain.ml.cv import CombinatorialPurgedCV, PurgedKFold


def _panel_samples(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three symbols on one 400-bar calendar, labels 1..15 bars long (t1 >= t0)."""
    rng = np.random.default_rng(seed)
    t0 = np.concatenate([np.arange(400 - 20) for _ in range(3)])
    t1 = t0 + rng.integers(1, 16, len(t0))
    return t0, t1


@pytest.mark.parametrize("embargo_pct", [0.0, 0.02])
def test_purged_kfold_drops_every_overlapping_and_embargoed_training_sample(embargo_pct: float) -> None:
    # Given overlapping label windows of three symbols on one calendar
    t0, t1 = _panel_samples()
    cv = PurgedKFold(n_splits=5, embargo_pct=embargo_pct)
    embargo = cv.embargo_bars(t0)

    tested = []
    for train, test in cv.split(t0, t1):
        # Then no training window [t0, t1] overlaps the test fold's span
        start, end = t0[test].min(), t1[test].max()
        assert not np.any((t0[train] <= end) & (t1[train] >= start))
        # And none starts within the embargo after it
        assert not np.any((t0[train] > end) & (t0[train] <= end + embargo))
        # And every sample that is neither tested, overlapping nor embargoed does train (nothing else lost)
        allowed = ~((t0 <= end) & (t1 >= start)) & ~((t0 > end) & (t0 <= end + embargo))
        allowed[test] = False
        np.testing.assert_array_equal(np.sort(train), np.flatnonzero(allowed))
        # And a fold holds whole dates: all symbols of a bar are on the same side
        assert set(t0[test]).isdisjoint(t0[train])
        tested.append(test)
    # And the folds partition the samples
    np.testing.assert_array_equal(np.sort(np.concatenate(tested)), np.arange(len(t0)))
    assert embargo == math.ceil(embargo_pct * 380)


def test_combinatorial_purged_cv_splits_and_paths() -> None:
    # Given N = 6 groups, k = 2 test groups
    t0, t1 = _panel_samples(1)
    cv = CombinatorialPurgedCV(n_groups=6, n_test_groups=2, embargo_pct=0.01)

    # When split
    splits = list(cv.split(t0, t1))

    # Then there are C(6, 2) = 15 splits and C(5, 1) = 5 paths, each group tested once per path
    assert len(splits) == cv.n_splits == 15
    paths = cv.paths()
    assert paths.shape == (6, 5) and cv.n_paths == 5
    assert np.all(paths >= 0)
    for train, test in splits:
        # And no training sample overlaps any test group
        for block in np.split(
            np.sort(np.unique(t0[test])), np.flatnonzero(np.diff(np.sort(np.unique(t0[test]))) > 1) + 1
        ):
            members = test[np.isin(t0[test], block)]
            start, end = t0[members].min(), t1[members].max()
            assert not np.any((t0[train] <= end) & (t1[train] >= start))
        assert len(np.intersect1d(train, test)) == 0


def test_metrics_match_sklearn() -> None:
    # Given labels, scores with ties, and weights
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 500)
    score = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.25, 500), 0.0, 1.0), 2)
    weight = rng.uniform(0.1, 2.0, 500)
    predicted = (score > 0.5).astype(int)

    # Then AUC, log-loss, precision/recall/F1 and accuracy equal sklearn's
    assert metrics.roc_auc(y, score) == pytest.approx(sk.roc_auc_score(y, score), rel=1e-12)
    assert metrics.roc_auc(y, score, weight) == pytest.approx(
        sk.roc_auc_score(y, score, sample_weight=weight), rel=1e-12
    )
    assert metrics.log_loss(y, score) == pytest.approx(sk.log_loss(y, score), rel=1e-12)
    assert metrics.log_loss(y, score, weight) == pytest.approx(
        sk.log_loss(y, score, sample_weight=weight), rel=1e-12
    )
    precision, recall, f1 = metrics.precision_recall_f1(y, predicted)
    assert precision == pytest.approx(sk.precision_score(y, predicted))
    assert recall == pytest.approx(sk.recall_score(y, predicted))
    assert f1 == pytest.approx(sk.f1_score(y, predicted))
    assert metrics.accuracy(y, predicted, weight) == pytest.approx(
        sk.accuracy_score(y, predicted, sample_weight=weight)
    )
    np.testing.assert_array_equal(metrics.confusion_matrix(y, predicted), sk.confusion_matrix(y, predicted))
    by_class = metrics.accuracy_by_class(y, predicted)
    per_class_recall = sk.recall_score(y, predicted, average=None)
    assert [by_class["0"], by_class["1"]] == pytest.approx(list(per_class_recall))
    # And undefined precision is 0, as sklearn's zero_division=0
    assert metrics.precision_recall_f1([1, 1], [0, 0]) == (0.0, 0.0, 0.0)


def test_cpcv_paths_cover_every_sample_once_with_out_of_sample_predictions() -> None:
    # Given N = 6, k = 2 splits and "predictions" that name their split and sample (split * 10^5 + sample)
    t0, t1 = _panel_samples(2)
    cv = CombinatorialPurgedCV(n_groups=6, n_test_groups=2, embargo_pct=0.01)
    splits = list(cv.split(t0, t1))
    predictions = [split * 100_000 + test.astype(float) for split, (_, test) in enumerate(splits)]

    # When they are assembled into backtest paths
    paths = cv.path_predictions(t0, predictions)

    # Then each of the C(5, 1) = 5 paths holds every sample exactly once
    assert paths.shape == (5, len(t0))
    np.testing.assert_array_equal(paths % 100_000, np.tile(np.arange(len(t0)), (5, 1)))
    source = (paths // 100_000).astype(int)
    for path in source:
        for sample, split in enumerate(path):
            # And each prediction comes from a split that tested the sample and never trained on it
            train, test = splits[split]
            assert sample in test and sample not in train
    # And a group's samples take their predictions from a different split on every path
    for sample in range(len(t0)):
        assert len(set(source[:, sample])) == 5


def test_cpcv_path_auc_is_the_auc_of_each_assembled_path() -> None:
    # Given noisy scores per split for a binary label
    rng = np.random.default_rng(4)
    t0, t1 = _panel_samples(3)
    y = rng.integers(0, 2, len(t0)).astype(float)
    cv = CombinatorialPurgedCV(n_groups=5, n_test_groups=2, embargo_pct=0.0)
    predictions = [0.4 * y[test] + rng.uniform(0, 1, len(test)) for _, test in cv.split(t0, t1)]

    # When the paths are scored
    paths = cv.path_predictions(t0, predictions)
    summary = metrics.path_auc_summary(y, paths)

    # Then each path's AUC is sklearn's on that path, and mean/std are over the C(4, 1) = 4 paths
    expected = [sk.roc_auc_score(y, path) for path in paths]
    assert summary["n_paths"] == 4
    assert summary["path_auc"] == pytest.approx(expected, rel=1e-12)
    assert summary["auc_mean"] == pytest.approx(np.mean(expected)) and summary["auc_std"] == pytest.approx(
        np.std(expected)
    )
    # And predictions that do not match the splits' test rows are refused
    with pytest.raises(ValueError, match="tests"):
        cv.path_predictions(t0, [p[:-1] for p in predictions])
