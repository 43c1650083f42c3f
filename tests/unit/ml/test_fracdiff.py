"""Fractional differentiation (FFD) and the ADF test, against direct formulas and statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.tsa.stattools import adfuller

from trade2026.domain.ml.fracdiff import adf_test, ffd, ffd_weights, frac_diff_weights, min_ffd_d


def test_weights_for_half_begin_with_the_binomial_series() -> None:
    # Given d = 0.5
    # When the weights of (1 - B)^d are built
    weights = ffd_weights(0.5, threshold=1e-4)

    # Then they begin 1, -1/2, -1/8, -1/16 and stop at the first one below the threshold
    np.testing.assert_allclose(weights[:4], [1.0, -0.5, -0.125, -0.0625], rtol=0, atol=1e-15)
    assert np.all(np.abs(weights) >= 1e-4)
    assert abs(frac_diff_weights(0.5, len(weights) + 1)[-1]) < 1e-4
    # And d = 1 is the first difference, d = 0 the identity
    np.testing.assert_allclose(ffd_weights(1.0), [1.0, -1.0])
    np.testing.assert_allclose(ffd_weights(0.0), [1.0])


def test_ffd_equals_a_direct_convolution() -> None:
    # Given a random walk of log prices
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=600)) + 100.0

    # When it is fractionally differentiated with d = 0.4
    out = ffd(x, 0.4, threshold=1e-3)

    # Then each full-window value is sum_k w_k x[t-k], as numpy's convolution computes it
    weights = ffd_weights(0.4, threshold=1e-3)
    width = len(weights)
    np.testing.assert_allclose(out[width - 1 :], np.convolve(x, weights, mode="valid"), rtol=1e-12)
    assert np.all(np.isnan(out[: width - 1]))
    # And a (T, 2) panel gives each column's own series
    panel = ffd(np.column_stack([x, 2 * x]), 0.4, threshold=1e-3)
    np.testing.assert_allclose(panel[:, 1], 2 * out, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    ("kind", "regression"),
    [
        ("random_walk", "c"),
        ("random_walk", "ct"),
        ("random_walk", "n"),
        ("noise", "c"),
        ("noise", "ct"),
        ("noise", "n"),
        ("sp500", "c"),
    ],
)
def test_adf_matches_statsmodels(regression: str, kind: str, sp500: dict[str, np.ndarray]) -> None:
    # Given a unit-root series, a stationary one, and the real S&P 500 log closes (1999-2018)
    rng = np.random.default_rng(11)
    series = {
        "random_walk": np.cumsum(rng.normal(size=700)),
        "noise": rng.normal(size=400),
        "sp500": np.log(sp500["close"]),
    }[kind]

    # When both implementations test it, with AIC lag selection and with a fixed lag
    ours = adf_test(series, regression=regression)
    fixed = adf_test(series, max_lag=2, autolag=None, regression=regression)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = adfuller(series, regression=regression)
        reference_fixed = adfuller(series, maxlag=2, autolag=None, regression=regression)

    # Then statistic, p-value, lag, nobs and MacKinnon's critical values agree
    assert ours.statistic == pytest.approx(reference[0], rel=1e-9)
    assert ours.pvalue == pytest.approx(reference[1], rel=1e-8, abs=1e-14)
    assert (ours.used_lag, ours.nobs) == (reference[2], reference[3])
    for level, value in reference[4].items():
        assert ours.critical_values[level] == pytest.approx(value, rel=1e-12)
    assert fixed.statistic == pytest.approx(reference_fixed[0], rel=1e-9)
    assert fixed.pvalue == pytest.approx(reference_fixed[1], rel=1e-8, abs=1e-14)


def test_minimum_d_on_real_prices_is_stationary_and_keeps_memory(sp500: dict[str, np.ndarray]) -> None:
    # Given the S&P 500 log closes, which have a unit root (ADF does not reject at d = 0)
    log_close = np.log(sp500["close"])

    # When the smallest d on a 0.1 grid whose FFD passes ADF at 5 % is searched
    result = min_ffd_d(log_close, threshold=1e-3)

    # Then it exists, is below 1 (a first difference would throw away all memory), d = 0 fails,
    # and that series is still strongly correlated with the prices
    assert result.d is not None and 0.0 < result.d < 1.0, result.tested
    by_d = {row["d"]: row for row in result.tested}
    assert by_d[0.0]["statistic"] > by_d[0.0]["critical_value"]
    assert by_d[result.d]["statistic"] < by_d[result.d]["critical_value"]
    assert by_d[result.d]["correlation"] > 0.5
    print(f"\nS&P 500 log close: minimum d = {result.d}, correlation {by_d[result.d]['correlation']:.3f}")


def test_ffd_and_adf_reject_bad_input() -> None:
    # Given inputs outside the definitions
    # Then each is refused with the reason
    with pytest.raises(ValueError, match="d must be between"):
        ffd_weights(-0.1)
    with pytest.raises(ValueError, match="constant"):
        adf_test(np.ones(100))
    with pytest.raises(ValueError, match="finite"):
        adf_test(np.array([1.0, np.nan, 2.0]))
