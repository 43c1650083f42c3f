"""PRISM physics signals against closed forms and independent implementations (scipy), and their causality.

Data: the real 20 S&P 500 stocks (skfolio, adjusted closes 1990-2022) where stated, otherwise SEEDED synthetic
series built for the property under test (uniform, monotone, white noise, AR(1) ramp, planted blocks).
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest
from scipy import stats
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import mahalanobis

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import physics


@cache
def stocks20_returns() -> tuple[tuple[str, ...], np.ndarray]:
    data = load_daily("stocks20")
    symbols = tuple(np.unique(data["symbol"]))
    closes = np.column_stack([data["close"][data["symbol"] == s] for s in symbols])
    return symbols, closes[1:] / closes[:-1] - 1.0


# ---------------------------------------------------------------------- Shannon entropy
def test_entropy_of_a_uniform_histogram_is_log_bins():
    # Given a window holding every bin's value equally often
    x = np.tile(np.arange(10.0), 30)
    # When the rolling entropy over 100 values with 10 bins is computed
    h = physics.rolling_shannon_entropy(x, 100, bins=10)
    # Then every full window has entropy log(10) (normalized: 1)
    np.testing.assert_allclose(h[99:], math.log(10), rtol=1e-12)
    assert np.isnan(h[:99]).all()
    np.testing.assert_allclose(physics.rolling_shannon_entropy(x, 100, 10, normalized=True)[99:], 1.0)


def test_entropy_equals_scipy_on_the_histogram_of_each_window():
    # Given real AAPL returns
    _, r = stocks20_returns()
    x = r[:600, 0]
    h = physics.rolling_shannon_entropy(x, 120, bins=12)
    # Then each value equals scipy.stats.entropy of numpy's 12-bin histogram of the window
    for t in (119, 300, 599):
        counts, _ = np.histogram(x[t - 119 : t + 1], bins=12)
        assert h[t] == pytest.approx(stats.entropy(counts), rel=1e-12)


def test_entropy_of_a_constant_window_is_zero():
    assert physics.rolling_shannon_entropy(np.zeros(50), 20)[-1] == 0.0


# ---------------------------------------------------------------------- permutation entropy
def naive_permutation_entropy(x: np.ndarray, order: int, delay: int) -> float:
    """Independent reference: count the argsort tuple of every embedding vector, Shannon entropy / log(m!)."""
    counts: dict[tuple[int, ...], int] = {}
    for i in range(len(x) - (order - 1) * delay):
        key = tuple(np.argsort(x[i : i + order * delay : delay], kind="stable"))
        counts[key] = counts.get(key, 0) + 1
    p = np.array(list(counts.values())) / sum(counts.values())
    return float(-(p * np.log(p)).sum() / math.log(math.factorial(order)))


def test_permutation_entropy_is_zero_for_a_monotone_series_and_one_for_white_noise():
    assert physics.permutation_entropy(np.arange(200.0), order=4) == 0.0
    assert physics.permutation_entropy(-np.exp(np.linspace(0, 3, 200)), order=3, delay=2) == 0.0
    noise = np.random.default_rng(0).standard_normal(50_000)
    assert physics.permutation_entropy(noise, order=4) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(("order", "delay"), [(3, 1), (4, 2), (5, 1)])
def test_permutation_entropy_equals_the_naive_reference(order: int, delay: int):
    x = np.random.default_rng(order).standard_normal(400).round(1)  # rounding makes ties
    assert physics.permutation_entropy(x, order, delay) == pytest.approx(
        naive_permutation_entropy(x, order, delay), rel=1e-12
    )
    rolling = physics.rolling_permutation_entropy(x, 100, order, delay)
    for t in (99, 250, 399):
        assert rolling[t] == pytest.approx(
            naive_permutation_entropy(x[t - 99 : t + 1], order, delay), rel=1e-12
        )
    assert np.isnan(rolling[:99]).all()


def test_all_permutations_get_distinct_codes():
    for order in (2, 3, 4, 5):
        perms = np.array(list(itertools.permutations(range(order))), dtype=np.float64)
        codes = np.concatenate([physics._pattern_codes(p, order, 1) for p in perms])
        assert sorted(codes.tolist()) == list(range(math.factorial(order)))


# ---------------------------------------------------------------------- turbulence
def test_turbulence_equals_scipy_mahalanobis_on_the_real_20_stocks():
    # Given the 20 stocks' daily returns and a 252-day trailing window
    _, r = stocks20_returns()
    r = r[:2_000]
    turb = physics.turbulence(r, window=252)
    # Then each day's turbulence is the squared scipy Mahalanobis distance to the previous 252 days
    for t in (252, 777, 1_500, 1_999):
        past = r[t - 252 : t]
        vi = np.linalg.inv(np.cov(past, rowvar=False))
        assert turb[t] == pytest.approx(mahalanobis(r[t], past.mean(axis=0), vi) ** 2, rel=1e-8)
    assert np.isnan(turb[:252]).all()


def test_turbulence_window_must_exceed_the_assets():
    with pytest.raises(physics.PhysicsError, match="window 5 must exceed the number of assets 6"):
        physics.turbulence(np.random.default_rng(0).standard_normal((50, 6)), window=5)


# ---------------------------------------------------------------------- pressure
def test_pressure_is_the_signed_volume_share_of_the_window():
    r = np.array([0.01, -0.02, 0.0, 0.03, -0.01])
    v = np.array([100.0, 300.0, 50.0, 200.0, 100.0])
    p = physics.pressure(r, v, window=3)
    assert np.isnan(p[:2]).all()
    np.testing.assert_allclose(p[2:], [(100 - 300) / 450, (-300 + 200) / 550, (200 - 100) / 350])


def test_pressure_without_volume_says_so():
    _, r = stocks20_returns()  # skfolio's data set is close-only: volume is NaN
    with pytest.raises(physics.MissingVolume, match="needs volume"):
        physics.pressure(r[:, 0], np.full(len(r), np.nan))
    with pytest.raises(physics.MissingVolume):
        physics.pressure(r[:, 0], None)


# ---------------------------------------------------------------------- early warnings
def test_rolling_kendall_tau_equals_scipy():
    x = np.random.default_rng(3).standard_normal(300).round(1)  # with ties: tau-b
    tau = physics.rolling_kendall_tau(x, 40)
    for t in (39, 150, 299):
        assert tau[t] == pytest.approx(
            stats.kendalltau(np.arange(40), x[t - 39 : t + 1]).statistic, rel=1e-12
        )


def test_rolling_variance_and_autocorrelation_equal_numpy():
    x = np.random.default_rng(4).standard_normal(200)
    var = physics.rolling_variance(x, 30)
    ac = physics.rolling_autocorrelation(x, 30)
    w = x[170:200]
    assert var[-1] == pytest.approx(w.var(ddof=1))
    assert ac[-1] == pytest.approx(np.corrcoef(w[:-1], w[1:])[0, 1])


def test_early_warnings_rise_as_an_ar1_coefficient_ramps_to_one():
    # Given AR(1) noise whose coefficient ramps from 0.1 to 0.99 over 3,000 steps
    n = 3_000
    phi = np.linspace(0.1, 0.99, n)
    eps = np.random.default_rng(5).standard_normal(n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi[t] * x[t - 1] + eps[t]
    # When the indicators are computed over 250-day windows, their trend over the last 1,000 values
    ew = physics.early_warnings(x, window=250, trend_window=1_000)
    # Then variance and lag-1 autocorrelation rise (critical slowing down) and their Kendall trends are positive
    assert ew.variance[-1] > 5 * ew.variance[249]
    assert ew.autocorrelation[-1] > 0.9 > 0.4 > ew.autocorrelation[249]
    assert ew.variance_trend[-1] > 0.5 and ew.autocorrelation_trend[-1] > 0.5
    assert np.nanmean(ew.indicator) > 0.5
    # And on the white noise that drove it there is no such trend
    calm = physics.early_warnings(eps, window=250, trend_window=1_000)
    assert np.nanmean(calm.indicator) < 0.2
    assert np.nanmean(ew.indicator) - np.nanmean(calm.indicator) > 0.4


# ---------------------------------------------------------------------- percolation
def test_largest_component_equals_scipy_connected_components_on_random_graphs():
    rng = np.random.default_rng(6)
    for p in (0.02, 0.05, 0.1):
        upper = np.triu(rng.random((40, 25, 25)) < p, 1)
        adj = upper | upper.transpose(0, 2, 1)
        ours = physics.largest_component_fraction(adj)
        ref = [np.bincount(connected_components(a, directed=False)[1]).max() / 25 for a in adj]
        np.testing.assert_array_equal(ours, ref)


def test_percolation_finds_a_planted_block_structure():
    # Given 12 assets: a block of 8 driven by one factor (rho ~ 0.8), 4 independent ones
    rng = np.random.default_rng(7)
    factor = rng.standard_normal((500, 1))
    block = 0.9 * factor + 0.45 * rng.standard_normal((500, 8))
    r = np.column_stack([block, rng.standard_normal((500, 4))])
    # When the network keeps |rho| >= 0.5 over 120-day windows
    perc = physics.percolation(r, window=120, threshold=0.5)
    # Then the largest component is the block: 8 / 12
    np.testing.assert_allclose(perc[119:], 8 / 12)
    assert np.isnan(perc[:119]).all()
    # And once the factor hits all 12 assets the network percolates: 12 / 12
    r2 = np.vstack([r, 0.9 * rng.standard_normal((300, 1)) + 0.45 * rng.standard_normal((300, 12))])
    assert physics.percolation(r2, window=120, threshold=0.5)[-1] == 1.0


# ---------------------------------------------------------------------- causality and the regime score
def test_every_signal_is_causal_changing_the_future_changes_no_past_value():
    _, r = stocks20_returns()
    r = r[:700, :6].copy()
    future = r.copy()
    future[500:] *= -3.0  # a different future from day 500
    v = np.abs(np.random.default_rng(8).standard_normal(700)) * 1e6

    def signals(x: np.ndarray) -> list[np.ndarray]:
        ew = physics.early_warnings(x[:, 0], 60, 60)
        turb = physics.turbulence(x, 120)
        perc = physics.percolation(x, 60, 0.4)
        ent = physics.rolling_shannon_entropy(x[:, 0], 63, 10, True)
        return [
            ent, physics.rolling_permutation_entropy(x[:, 0], 63, 4, 2), turb, perc,
            physics.pressure(x[:, 0], v, 20), ew.variance, ew.autocorrelation, ew.indicator,
            physics.regime_score(turb, ent, perc, 100),
        ]  # fmt: skip

    for a, b in zip(signals(r), signals(future), strict=True):
        np.testing.assert_array_equal(a[:500], b[:500])
        assert not np.allclose(a[520:], b[520:], equal_nan=True)


def test_regime_score_is_an_exposure_in_0_1_that_falls_when_turbulence_spikes():
    rng = np.random.default_rng(9)
    n = 600
    turb, ent, perc = rng.random(n), rng.random(n), rng.random(n)
    score = physics.regime_score(turb, ent, perc, lookback=100)
    assert np.isnan(score[:99]).all() and np.all((score[99:] >= 0) & (score[99:] <= 1))
    spiked = turb.copy()
    spiked[400] = 10.0
    assert physics.regime_score(spiked, ent, perc, 100)[400] < score[400]
    # all three at their calmest in the lookback: fully invested
    calm_t, calm_e, calm_p = turb.copy(), ent.copy(), perc.copy()
    calm_t[500], calm_e[500], calm_p[500] = -1.0, 2.0, -1.0
    assert physics.regime_score(calm_t, calm_e, calm_p, 100)[500] == pytest.approx(
        1 - (1 / 100 + 1 / 100 + 0) / 3
    )
