"""Time machine: MASS distances equal the definition (brute force) and stumpy.mass on the real 20 stocks; greedy
top-k respects the exclusion zone; DTW with LB_Keogh pruning returns exactly the exhaustive DTW answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import stumpy
from numpy.lib.stride_tricks import sliding_window_view

from trade2026.domain import timemachine as tm

WINDOW = 60


@pytest.fixture(scope="module")
def closes(daily_columns) -> list[np.ndarray]:
    return [daily_columns[s]["close"] for s in sorted(daily_columns) if not s.startswith("^")]


def test_mass_distances_equal_brute_force_and_stumpy_on_the_20_stocks(closes):
    # Given the latest 60-bar window of the first stock and all 20 stocks' 1990-2022 closes
    query = closes[0][-WINDOW:]
    # When the distances are computed with one batched FFT
    ours = tm.mass_distances(query, closes)
    # Then every finite distance equals the window-by-window definition and stumpy's MASS
    compared = 0
    for series, distances in zip(closes, ours, strict=True):
        reference = tm.brute_force_distances(query, series)
        peer = stumpy.mass(query, series)
        finite = np.isfinite(distances) & np.isfinite(reference)
        assert finite.sum() > 0.99 * len(series) - WINDOW  # flat windows (none or a few) are the only skips
        np.testing.assert_allclose(distances[finite], reference[finite], rtol=0, atol=1e-5)
        np.testing.assert_allclose(distances[finite], peer[finite], rtol=0, atol=1e-5)
        compared += int(finite.sum())
    assert compared > 160_000
    # And the query's own position is an exact match (distance 0)
    assert ours[0][-1] == pytest.approx(0.0, abs=1e-5)


def test_top_k_skips_trivial_matches_and_the_query_neighbourhood(closes):
    # Given distances of a window of the first stock to the first three stocks
    series = closes[:3]
    start = len(series[0]) - WINDOW - 500
    query = series[0][start : start + WINDOW]
    distances = tm.mass_distances(query, series)
    # When the 15 best are chosen with an exclusion zone of one window, the query excluded
    matches = tm.top_k(distances, 15, WINDOW, excluded=[(0, start)])
    # Then no match is within a window of the query or of another match in the same series
    assert len(matches) == 15
    for i, a in enumerate(matches):
        assert not (a.series == 0 and abs(a.start - start) < WINDOW)
        for b in matches[i + 1 :]:
            assert a.series != b.series or abs(a.start - b.start) >= WINDOW
    # And they are what a greedy pass over the fully sorted distances picks (the partial sort changes nothing)
    flat = [(float(d), i, p) for i, ds in enumerate(distances) for p, d in enumerate(ds) if np.isfinite(d)]
    reference: list[tuple[int, int]] = []
    for _, i, p in sorted(flat):
        blocked = [(0, start), *reference]
        if not any(i == bi and abs(p - bp) < WINDOW for bi, bp in blocked):
            reference.append((i, p))
        if len(reference) == 15:
            break
    assert [(m.series, m.start) for m in matches] == reference
    # And they are in distance order, each the smallest distance not excluded when it was chosen
    assert [m.distance for m in matches] == sorted(m.distance for m in matches)
    first = matches[0]
    masked = [d.copy() for d in distances]
    masked[0][max(start - WINDOW + 1, 0) : start + WINDOW] = np.inf
    assert first.distance == pytest.approx(min(float(d.min()) for d in masked))


def _naive_dtw(a: np.ndarray, b: np.ndarray, radius: int) -> float:
    n = len(a)
    cost = np.full((n + 1, n + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - radius), min(n, i + radius) + 1):
            cost[i, j] = (a[i - 1] - b[j - 1]) ** 2 + min(cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1])
    return math.sqrt(cost[n, n])


def test_dtw_with_lb_keogh_pruning_equals_exhaustive_dtw(closes):
    # Given a 30-bar query and 400 bars of three stocks (small: DTW is for small searches)
    m, radius = 30, 3
    series = [c[-400:] for c in closes[:3]]
    query = closes[3][-m:]
    # When the DTW search prunes with LB_Keogh
    result = tm.search(query, series, k=5, metric="dtw", band=radius / m)
    # Then it equals the greedy best-5 of DTW computed for every candidate with a naive O(n^2) reference
    q = tm.znorm(query)
    pool = []
    for i, s in enumerate(series):
        for start, window in enumerate(sliding_window_view(s, m)):
            pool.append((_naive_dtw(q, tm.znorm(window), radius), i, start))
    expected = tm._greedy([(d * d, i, p) for d, i, p in pool], 5, m)
    assert [(mt.series, mt.start) for mt in result.matches] == [(i, p) for _, i, p in expected]
    np.testing.assert_allclose([mt.distance for mt in result.matches], [math.sqrt(v) for v, _, _ in expected])
    # And the lower bound pruned most candidates without changing the answer
    assert result.dtw_evaluated < 0.5 * result.candidates
    # And LB_Keogh never exceeds DTW (it is a lower bound)
    candidates = np.array([tm.znorm(w) for w in sliding_window_view(series[0], m)])
    bounds = np.sqrt(tm.lb_keogh(q, candidates, radius))
    exact = np.array([d for d, i, _ in pool if i == 0])
    assert np.all(bounds <= exact + 1e-12)


def test_bad_searches_are_errors_with_the_reason(closes):
    # Given a window longer than every history, a flat window, a too-large DTW search and an unknown metric
    with pytest.raises(tm.TimeMachineError, match="longer than every searched history"):
        tm.mass_distances(closes[0][:100], [closes[0][:50]])
    with pytest.raises(tm.TimeMachineError, match="flat"):
        tm.search(np.ones(20), closes[:1])
    with pytest.raises(tm.TimeMachineError, match="DTW is for small searches"):
        tm.search(closes[0][-60:], closes, metric="dtw")
    with pytest.raises(tm.TimeMachineError, match="unknown metric"):
        tm.search(closes[0][-60:], closes[:1], metric="cosine")


def test_forward_return_distribution_counts_only_known_returns():
    # Given a price path and match ends near its end
    close = np.array([100.0, 101.0, 99.0, 110.0, 121.0])
    # When forward returns are read for horizons 1 and 3
    near_end = tm.forward_returns(close, 3, [1, 3])
    early = tm.forward_returns(close, 0, [1, 3])
    # Then unknown ones are None and the distribution counts only the known ones
    assert near_end == {1: pytest.approx(0.1), 3: None}
    assert early == {1: pytest.approx(0.01), 3: pytest.approx(0.1)}
    summary = tm.distribution([near_end[3], early[3], near_end[1]])
    assert summary["count"] == 2
    assert summary["mean"] == pytest.approx(0.1)
    assert summary["positive"] == 1.0
