"""Labels (fixed horizon, triple barrier) and uniqueness weights, against brute-force definitions."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.domain.ml.labels import ewma_volatility, fixed_horizon, triple_barrier
from trade2026.domain.ml.weights import (
    average_uniqueness,
    concurrency,
    return_attribution_weights,
    time_decay,
)


def _brute_triple_barrier(close, vol, horizon, pt, sl, side=None):  # type: ignore[no-untyped-def]
    out = []
    for t0 in range(len(close) - horizon):
        if not np.isfinite(vol[t0]):
            continue
        s = 1.0 if side is None else side[t0]
        for j in range(1, horizon + 1):
            r = (close[t0 + j] / close[t0] - 1.0) * s
            if (pt > 0 and r >= pt * vol[t0]) or (sl > 0 and r <= -sl * vol[t0]) or j == horizon:
                out.append((t0, t0 + j, r))
                break
    return out


def test_triple_barrier_matches_a_loop_on_real_prices(stocks20: dict[str, dict[str, np.ndarray]]) -> None:
    # Given 1,500 real closes of one stock and their EWMA volatility
    close = stocks20["AAPL"]["close"][:1500]
    vol = ewma_volatility(close, span=50)

    # When triple-barrier labels are computed (asymmetric barriers, 10-bar vertical barrier)
    labels = triple_barrier(close, vol, horizon=10, profit_take=2.0, stop_loss=1.0)

    # Then every event's first touch, return and label are the brute-force loop's
    expected = _brute_triple_barrier(close, vol, 10, 2.0, 1.0)
    assert len(labels) == len(expected)
    np.testing.assert_array_equal(labels.t0, [e[0] for e in expected])
    np.testing.assert_array_equal(labels.t1, [e[1] for e in expected])
    np.testing.assert_allclose(labels.ret, [e[2] for e in expected], rtol=1e-12)
    np.testing.assert_array_equal(labels.label, np.sign([e[2] for e in expected]))
    # And all three barrier kinds occur on real data
    assert set(np.unique(labels.barrier)) == {-1, 0, 1}


def test_side_turns_labels_into_meta_labels() -> None:
    # Given a price path that rises then falls, and a short side on every bar
    close = np.array([100, 101, 103, 99, 95, 96, 97, 98, 99, 100], dtype=float)
    vol = np.full(len(close), 0.02)
    side = -np.ones(len(close))

    # When labelled with that side
    labels = triple_barrier(close, vol, horizon=3, profit_take=1.0, stop_loss=1.0, side=side)

    # Then returns are the short's and the label says whether the short made money
    expected = _brute_triple_barrier(close, vol, 3, 1.0, 1.0, side)
    np.testing.assert_allclose(labels.ret, [e[2] for e in expected])
    np.testing.assert_array_equal(labels.label, [1.0 if e[2] > 0 else 0.0 for e in expected])


def test_fixed_horizon_labels_and_the_horizon_limit() -> None:
    # Given five closes
    close = np.array([10.0, 11.0, 10.5, 10.5, 12.0])

    # When labelled two bars ahead with a 1 % dead zone
    labels = fixed_horizon(close, 2, threshold=0.01)

    # Then each label is the sign of the 2-bar return outside the dead zone
    np.testing.assert_array_equal(labels.t1, [2, 3, 4])
    np.testing.assert_array_equal(labels.label, [1.0, -1.0, 1.0])
    # And a horizon as long as the data is refused with the numbers
    with pytest.raises(ValueError, match="horizon of 5 bars is longer than the data \\(5 bars\\)"):
        fixed_horizon(close, 5)


def test_ewma_volatility_uses_only_the_past() -> None:
    # Given a series and the same series with its last bar altered
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    altered = close.copy()
    altered[-1] *= 1.5

    # Then every volatility before the last bar is unchanged
    np.testing.assert_array_equal(ewma_volatility(close, 20)[:-1], ewma_volatility(altered, 20)[:-1])


def test_concurrency_and_uniqueness_match_their_definitions() -> None:
    # Given random overlapping label windows over 200 bars
    rng = np.random.default_rng(5)
    t0 = np.sort(rng.integers(0, 180, 60))
    t1 = t0 + rng.integers(1, 20, 60)

    # When concurrency and average uniqueness are computed
    counts = concurrency(t0, t1, 200)
    uniqueness = average_uniqueness(t0, t1, 200)

    # Then they are the brute-force counts over (t0, t1] and the mean of 1 / c_t
    brute = np.array([np.sum((t0 < t) & (t <= t1)) for t in range(200)])
    np.testing.assert_array_equal(counts, brute)
    expected = [np.mean(1.0 / brute[a + 1 : b + 1]) for a, b in zip(t0, t1, strict=True)]
    np.testing.assert_allclose(uniqueness, expected, rtol=1e-12)
    # And k identical labels have uniqueness 1/k, an isolated one 1
    np.testing.assert_allclose(average_uniqueness([0, 0, 0, 10], [5, 5, 5, 12], 20), [1 / 3, 1 / 3, 1 / 3, 1])


def test_return_attribution_and_time_decay() -> None:
    # Given two labels that share one bar
    close = np.array([100.0, 110.0, 121.0, 121.0])
    weights = return_attribution_weights([0, 1], [2, 3], close)

    # Then the shared bar's return is split between them, and the weights sum to the number of labels
    r = np.diff(np.log(close))
    raw = np.array([abs(r[0] + r[1] / 2), abs(r[1] / 2 + r[2])])
    np.testing.assert_allclose(weights, raw * 2 / raw.sum())
    # And time decay gives the newest sample weight 1, the oldest the requested floor
    decay = time_decay(np.ones(4), oldest_weight=0.5)
    assert decay[-1] == pytest.approx(1.0)
    assert decay[0] == pytest.approx(0.625)
    assert np.all(np.diff(decay) > 0)
