"""Cross-validation for labels that overlap in time (López de Prado ch. 7 and 12).

Samples carry t0 (the bar their features are observed) and t1 (the bar their label is known); several
series (symbols) may share one calendar, so folds are cut in time, never by row. For every test group:

- purge: a training sample is dropped when its window [t0, t1] overlaps the test group's [min t0, max t1];
- embargo: a training sample is also dropped when it starts within `embargo` bars after the test group ends
  (serial correlation leaks information forwards).

Combinatorial purged CV takes every choice of k test groups out of N; each group is tested in C(N-1, k-1)
splits, which assemble into that many full backtest paths: `path_predictions` puts each split's out-of-sample
predictions on the paths, so a metric can be computed per path (a distribution, not one number).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["CombinatorialPurgedCV", "PurgedKFold", "purge_mask"]


def _times(t0: ArrayLike, t1: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    start = np.asarray(t0, dtype=np.int64)
    end = np.asarray(t1, dtype=np.int64)
    if start.ndim != 1 or start.shape != end.shape:
        raise ValueError("t0 and t1 must be 1-D and of the same length")
    if np.any(end < start):
        raise ValueError("every sample needs t1 >= t0")
    return start, end


def _groups(start: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Sample indices of n_groups contiguous time blocks (by the samples' t0 on the shared calendar)."""
    times = np.unique(start)
    if n_groups < 2:
        raise ValueError(f"at least 2 groups are needed, got {n_groups}")
    if len(times) < n_groups:
        raise ValueError(f"{len(times)} distinct sample times cannot make {n_groups} groups")
    blocks = np.array_split(times, n_groups)
    return [np.flatnonzero((start >= block[0]) & (start <= block[-1])) for block in blocks]


def purge_mask(t0: ArrayLike, t1: ArrayLike, test: ArrayLike, embargo: int = 0) -> np.ndarray:
    """True for samples that may train against the (contiguous) test samples: no overlap, no embargo."""
    start, end = _times(t0, t1)
    test_index = np.asarray(test, dtype=np.int64)
    keep = np.ones(len(start), dtype=bool)
    keep[test_index] = False
    if len(test_index) == 0:
        return keep
    test_start = start[test_index].min()
    test_end = end[test_index].max()
    overlaps = (start <= test_end) & (end >= test_start)
    embargoed = (start > test_end) & (start <= test_end + embargo)
    return keep & ~overlaps & ~embargoed


@dataclass(frozen=True)
class PurgedKFold:
    """K contiguous time folds; train = everything else minus purged and embargoed samples."""

    n_splits: int = 5
    embargo_pct: float = 0.01

    def embargo_bars(self, t0: ArrayLike) -> int:
        start = np.asarray(t0, dtype=np.int64)
        return math.ceil(self.embargo_pct * (len(np.unique(start)))) if len(start) else 0

    def split(self, t0: ArrayLike, t1: ArrayLike) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        start, end = _times(t0, t1)
        embargo = self.embargo_bars(start)
        for test in _groups(start, self.n_splits):
            yield np.flatnonzero(purge_mask(start, end, test, embargo)), test


@dataclass(frozen=True)
class CombinatorialPurgedCV:
    """All C(N, k) choices of k test groups among N; purge and embargo around each test group."""

    n_groups: int = 6
    n_test_groups: int = 2
    embargo_pct: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.n_test_groups < self.n_groups:
            raise ValueError(f"need 0 < n_test_groups < n_groups, got {self.n_test_groups}, {self.n_groups}")

    @property
    def n_splits(self) -> int:
        return math.comb(self.n_groups, self.n_test_groups)

    @property
    def n_paths(self) -> int:
        return math.comb(self.n_groups - 1, self.n_test_groups - 1)

    def combinations(self) -> list[tuple[int, ...]]:
        return list(itertools.combinations(range(self.n_groups), self.n_test_groups))

    def split(self, t0: ArrayLike, t1: ArrayLike) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        start, end = _times(t0, t1)
        embargo = PurgedKFold(2, self.embargo_pct).embargo_bars(start)
        groups = _groups(start, self.n_groups)
        for chosen in self.combinations():
            keep = np.ones(len(start), dtype=bool)
            for group in chosen:
                keep &= purge_mask(start, end, groups[group], embargo)
            yield np.flatnonzero(keep), np.concatenate([groups[g] for g in chosen])

    def paths(self) -> np.ndarray:
        """(n_groups, n_paths): which split tests group g in path p (each split used once per group)."""
        table = np.full((self.n_groups, self.n_paths), -1, dtype=np.int64)
        seen = np.zeros(self.n_groups, dtype=np.int64)
        for split, chosen in enumerate(self.combinations()):
            for group in chosen:
                table[group, seen[group]] = split
                seen[group] += 1
        return table

    def path_predictions(self, t0: ArrayLike, split_predictions: Sequence[ArrayLike]) -> np.ndarray:
        """(n_paths, n_samples): every sample's out-of-sample prediction on each path.

        `split_predictions[s]` holds split s's predictions of its test rows, in the order `split` yields them
        (the chosen groups' samples, group by group). On path p, group g's samples take the predictions of
        split paths()[g, p], so each path covers every sample exactly once, from models that never saw it.
        """
        start = np.asarray(t0, dtype=np.int64)
        groups = _groups(start, self.n_groups)
        table = self.paths()
        combinations = self.combinations()
        if len(split_predictions) != len(combinations):
            raise ValueError(
                f"expected {len(combinations)} splits' predictions, got {len(split_predictions)}"
            )
        out = np.full((self.n_paths, len(start)), np.nan)
        for split, chosen in enumerate(combinations):
            predictions = np.asarray(split_predictions[split], dtype=np.float64)
            sizes = [len(groups[g]) for g in chosen]
            if predictions.shape != (sum(sizes),):
                raise ValueError(
                    f"split {split} tests {sum(sizes)} samples, got {predictions.shape} predictions"
                )
            offset = 0
            for group, size in zip(chosen, sizes, strict=True):
                path = int(np.flatnonzero(table[group] == split)[0])
                out[path, groups[group]] = predictions[offset : offset + size]
                offset += size
        return out
