"""Probabilistic / deflated Sharpe ratios and the probability of backtest overfitting (CSCV)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats

from trade2026.domain import overfitting as ofit


# ---------------------------------------------------------------------------- DSR worked example
def test_deflated_sharpe_reproduces_the_published_worked_example() -> None:
    """Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest
    Overfitting and Non-Normality", J. Portfolio Management 40(5), numerical example (SSRN 2460551, pp. 9-10):
    a strategist runs N = 100 trials whose ANNUALIZED Sharpe ratios have variance V = 1/2, and reports the best,
    an annualized Sharpe ratio of 2.5 over five years of daily data (T = 1250 at 250 days a year), with
    skewness -3 and kurtosis 10. The paper prints SR0 = 0.1132 (per period) and DSR = 0.9004; with N = 46
    trials the DSR would be 0.9505, and with normal returns (skewness 0, kurtosis 3) N = 88 trials give the
    same 0.9505. Per-period inputs: SR = 2.5 / sqrt(250), V = 0.5 / 250.
    """
    # Given the paper's inputs converted to per-period units
    sharpe, variance, n_obs = 2.5 / math.sqrt(250), 0.5 / 250, 1250
    # When the expected maximum and the DSR are computed
    sr0 = ofit.expected_max_sharpe(100, variance)
    dsr = ofit.deflated_sharpe_ratio(sharpe, n_obs, 100, variance, skewness=-3.0, kurtosis=10.0)
    # Then they are the printed values to the printed precision
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert float(dsr) == pytest.approx(0.9004, abs=5e-5)
    assert float(ofit.deflated_sharpe_ratio(sharpe, n_obs, 46, variance, -3.0, 10.0)) == pytest.approx(
        0.9505, abs=5e-5
    )
    assert float(ofit.deflated_sharpe_ratio(sharpe, n_obs, 88, variance, 0.0, 3.0)) == pytest.approx(
        0.9505, abs=5e-5
    )
    # And the DSR is the PSR against SR0 (from the printed, rounded SR0 it is 0.9003)
    psr = ofit.probabilistic_sharpe_ratio(sharpe, n_obs, -3.0, 10.0, benchmark=0.1132)
    assert float(psr) == pytest.approx(0.9003, abs=5e-5)


def test_probabilistic_sharpe_ratio_equals_the_formula_by_hand() -> None:
    # Given SR = 0.1 over 101 bars (normal) and SR = 0.2 over 61 bars with skew -1 and kurtosis 6
    def phi(z: float) -> float:
        return 0.5 * math.erfc(-z / math.sqrt(2))

    # When the PSR is computed for both at once (broadcasting)
    psr = ofit.probabilistic_sharpe_ratio([0.1, 0.2], [101, 61], [0.0, -1.0], [3.0, 6.0])
    # Then each is Phi((SR - 0) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2))
    assert psr[0] == pytest.approx(phi(0.1 * 10 / math.sqrt(1 + 2 / 4 * 0.01)), rel=1e-12)
    assert psr[1] == pytest.approx(phi(0.2 * math.sqrt(60) / math.sqrt(1 + 0.2 + 5 / 4 * 0.04)), rel=1e-12)
    # And moments inconsistent with the ratio give NaN, not an error
    assert np.isnan(ofit.probabilistic_sharpe_ratio(1.0, 100, 5.0, 1.0))


def test_expected_max_sharpe_tracks_simulated_maxima() -> None:
    """The closed form is an approximation; the paper reports it is close for N >> 1 (about +1% at N = 100)."""
    # Given 4,000 simulated maxima of 100 independent standard normals (standard error of the mean ~0.007)
    maxima = np.random.default_rng(5).standard_normal((4000, 100)).max(axis=1)
    # When the approximation is evaluated for N = 100, unit variance
    approximation = ofit.expected_max_sharpe(100, 1.0)
    # Then it is within 2% of the simulated mean (and one trial's expected maximum is its mean)
    assert approximation == pytest.approx(maxima.mean(), rel=0.02)
    assert ofit.expected_max_sharpe(1, 4.0, mean_sharpe=0.3) == 0.3


def test_deflated_sharpe_of_trials_uses_the_trials_own_statistics() -> None:
    # Given 50 pure-noise trials of 500 bars
    trials = np.random.default_rng(9).normal(0.0, 0.01, (500, 50))
    # When the best trial is deflated
    result = ofit.deflated_sharpe_of_trials(trials)
    # Then its inputs are the trials' own Sharpe ratios and moments
    sharpes = trials.mean(axis=0) / trials.std(axis=0, ddof=1)
    best = trials[:, int(np.argmax(sharpes))]
    assert result.selected == int(np.argmax(sharpes))
    assert result.sharpe_variance == pytest.approx(sharpes.var(ddof=1), rel=1e-12)
    assert result.skewness == pytest.approx(stats.skew(best), rel=1e-10)
    assert result.kurtosis == pytest.approx(stats.kurtosis(best, fisher=False), rel=1e-10)
    # And selection bias is priced in: the best of noise looks significant alone but not after deflation
    assert result.psr > 0.95
    assert result.dsr < 0.95
    assert result.expected_max_sharpe == pytest.approx(ofit.expected_max_sharpe(50, sharpes.var(ddof=1)))


# ---------------------------------------------------------------------------- CSCV reference loop
def loop_cscv(returns: np.ndarray, n_blocks: int, metric=None) -> dict[str, np.ndarray]:
    """The paper's algorithm written as a plain loop over every combination (the oracle)."""

    def sharpe(rows: np.ndarray) -> np.ndarray:
        std = rows.std(axis=0, ddof=1)
        return np.where(std > 0, rows.mean(axis=0) / np.where(std > 0, std, 1.0), 0.0)

    score = metric or sharpe
    size = len(returns) // n_blocks
    data = returns[len(returns) - size * n_blocks :]
    blocks = [data[i * size : (i + 1) * size] for i in range(n_blocks)]
    out: dict[str, list[float]] = {"logit": [], "selected": [], "is": [], "oos": [], "oos_all": []}
    for chosen in itertools.combinations(range(n_blocks), n_blocks // 2):
        insample = np.vstack([blocks[i] for i in chosen])
        outsample = np.vstack([blocks[i] for i in range(n_blocks) if i not in chosen])
        is_scores, oos_scores = score(insample), score(outsample)
        best = int(np.argmax(is_scores))
        rank = stats.rankdata(oos_scores)[best] / (returns.shape[1] + 1)
        out["logit"].append(math.log(rank / (1 - rank)))
        out["selected"].append(best)
        out["is"].append(is_scores[best])
        out["oos"].append(oos_scores[best])
        out["oos_all"].extend(oos_scores)
    return {name: np.array(values) for name, values in out.items()}


@pytest.mark.parametrize(
    ("rows", "columns", "n_blocks", "seed"),
    [(203, 12, 8, 1), (160, 7, 4, 2), (330, 25, 10, 3)],
)
def test_pbo_equals_a_straightforward_loop_implementation(
    rows: int, columns: int, n_blocks: int, seed: int
) -> None:
    # Given returns of configurations with different skill and two never-trading (tied) columns
    rng = np.random.default_rng(seed)
    returns = rng.normal(rng.normal(0, 0.001, columns), 0.01, (rows, columns))
    returns[:, :2] = 0.0
    # When the vectorized CSCV runs (small chunks, to cross chunk boundaries) and the loop runs
    result = ofit.cscv_pbo(returns, n_blocks, chunk_size=5)
    expected = loop_cscv(returns, n_blocks)
    # Then every split agrees: choice, logit, in- and out-of-sample performance
    assert np.array_equal(result.selected, expected["selected"])
    assert np.allclose(result.logits, expected["logit"], rtol=0, atol=1e-12)
    assert np.allclose(result.is_performance, expected["is"], rtol=1e-10)
    assert np.allclose(result.oos_performance, expected["oos"], rtol=1e-10)
    assert result.pbo == np.mean(expected["logit"] <= 0)
    # And the degradation and loss probability equal a least-squares fit of the loop's numbers
    slope, intercept = np.polyfit(expected["is"], expected["oos"], 1)
    assert result.degradation_slope == pytest.approx(slope, rel=1e-8)
    assert result.degradation_intercept == pytest.approx(intercept, rel=1e-8, abs=1e-12)
    assert result.prob_oos_loss == np.mean(expected["oos"] < 0)
    # And the stochastic-dominance CDFs are the ECDFs of the loop's values on the grid
    dominance = result.dominance
    assert dominance is not None
    # (inside the grid: its two ends are the extreme values themselves, equal to the loop's within rounding)
    all_values, chosen = np.sort(expected["oos_all"]), np.sort(expected["oos"])
    inner = dominance.grid[1:-1]
    assert np.array_equal(
        dominance.cdf_all[1:-1], np.searchsorted(all_values, inner, "right") / all_values.size
    )
    assert np.array_equal(dominance.cdf_selected[1:-1], np.searchsorted(chosen, inner, "right") / chosen.size)
    assert dominance.cdf_all[-1] == 1.0 and dominance.cdf_selected[-1] == 1.0


def test_pbo_with_the_mean_and_a_callable_metric_equals_the_loop() -> None:
    # Given 10 configurations over 240 bars
    returns = np.random.default_rng(4).normal(0.0003, 0.01, (240, 10))

    def median(rows: np.ndarray) -> np.ndarray:
        return np.median(rows, axis=0)

    # When CSCV selects by the mean (fast path) and by a callable (median)
    by_mean = ofit.cscv_pbo(returns, 8, metric="mean")
    by_median = ofit.cscv_pbo(returns, 8, metric=median, dominance_points=0)
    # Then both equal the loop with the same metric
    mean_loop = loop_cscv(returns, 8, metric=lambda rows: rows.mean(axis=0))
    median_loop = loop_cscv(returns, 8, metric=median)
    assert np.allclose(by_mean.logits, mean_loop["logit"], atol=1e-12)
    assert np.allclose(by_median.logits, median_loop["logit"], atol=1e-12)
    assert by_median.dominance is None


# ---------------------------------------------------------------------------- PBO statistics
def test_pure_noise_strategies_give_pbo_one_half() -> None:
    """Under pure noise every configuration is exchangeable and the halves are independent, so the in-sample
    winner's out-of-sample rank is uniform on 1..N: with N even, P(logit <= 0) = P(rank <= N/2) = 1/2 exactly
    for every split, hence E[PBO] = 1/2. The splits of one experiment are dependent, so the tests use
    independent experiments (seeds): (1) the PBOs of 200 experiments: one-sample t-test of mean 1/2;
    (2) split 0's indicator logit <= 0 across experiments: exact binomial test of p = 1/2;
    (3) split 0's out-of-sample rank across experiments: chi-square test of uniformity over 1..N.
    Each at significance 0.001 (the seeds are fixed, so the outcome is deterministic)."""
    # Given 200 independent experiments of 20 pure-noise configurations over 320 bars (S = 8, 70 splits)
    experiments, n_configs, alpha = 200, 20, 0.001
    pbos, split0_overfit, split0_rank = [], [], []
    for seed in range(experiments):
        noise = np.random.default_rng(1000 + seed).normal(0.0, 0.01, (320, n_configs))
        # When PBO is computed by CSCV
        result = ofit.cscv_pbo(noise, 8, dominance_points=0)
        pbos.append(result.pbo)
        split0_overfit.append(result.logits[0] <= 0)
        split0_rank.append(round(result.relative_rank[0] * (n_configs + 1)))
    # Then the mean PBO is statistically indistinguishable from 1/2
    assert stats.ttest_1samp(pbos, 0.5).pvalue > alpha, np.mean(pbos)
    assert stats.binomtest(int(np.sum(split0_overfit)), experiments, 0.5).pvalue > alpha
    counts = np.bincount(split0_rank, minlength=n_configs + 1)[1:]
    assert stats.chisquare(counts).pvalue > alpha
    # And the mean lies inside the 99.9% confidence interval its own sampling distribution implies
    half_width = stats.t.ppf(1 - alpha / 2, experiments - 1) * np.std(pbos, ddof=1) / math.sqrt(experiments)
    assert abs(np.mean(pbos) - 0.5) < half_width


def test_a_strongly_skilled_configuration_gives_pbo_near_zero() -> None:
    # Given 30 noise configurations and one with a real edge (per-period Sharpe 0.25)
    rng = np.random.default_rng(21)
    returns = rng.normal(0.0, 0.01, (800, 31))
    returns[:, 17] += 0.0025
    # When PBO is computed with the default 16 blocks (12,870 splits)
    result = ofit.cscv_pbo(returns)
    # Then the skilled configuration wins in sample and stays on top out of sample
    assert result.n_splits == 12_870
    assert np.mean(result.selected == 17) > 0.99
    assert result.pbo < 0.01
    assert result.prob_oos_loss < 0.01
    # And optimization stochastically dominates choosing at random (second order; the handful of splits that
    # pick a noise configuration keep the first-order test from holding at the far left tail)
    assert result.dominance is not None and result.dominance.second_order_dominant


def test_splits_are_itertools_combinations_and_mirror_their_complements() -> None:
    # Given the split masks for 4 and 16 blocks
    for n_blocks in (4, 16):
        masks = ofit.cscv_splits(n_blocks)
        # Then row i holds combination i, and row C-1-i is its complement
        expected = list(itertools.combinations(range(n_blocks), n_blocks // 2))
        assert [tuple(np.flatnonzero(row)) for row in masks] == expected
        assert np.array_equal(masks[::-1], ~masks)


def test_oldest_rows_are_dropped_to_make_equal_blocks() -> None:
    # Given 1,000 rows and 16 blocks (62 rows each, 8 left over)
    returns = np.random.default_rng(2).normal(0, 0.01, (1000, 4))
    # When PBO runs on them and on the last 992 rows only
    full, trimmed = ofit.cscv_pbo(returns), ofit.cscv_pbo(returns[8:])
    # Then the 8 oldest rows were not used
    assert (full.rows_used, full.block_size) == (992, 62)
    assert np.array_equal(full.logits, trimmed.logits)


@pytest.mark.parametrize(
    ("shape", "n_blocks", "reason"),
    [((100, 5), 7, "even"), ((6, 5), 8, "too few"), ((100, 1), 4, "N >= 2")],
)
def test_bad_pbo_inputs_are_rejected_with_the_reason(
    shape: tuple[int, int], n_blocks: int, reason: str
) -> None:
    # Given an odd block count, too few rows, or a single configuration
    # When / Then CSCV refuses with a message naming the problem
    with pytest.raises(ValueError, match=reason):
        ofit.cscv_pbo(np.zeros(shape), n_blocks)


def test_nan_returns_are_rejected() -> None:
    # Given a return matrix with a NaN warm-up
    returns = np.random.default_rng(0).normal(0, 0.01, (64, 4))
    returns[0, 1] = np.nan
    # When / Then CSCV asks for finite returns
    with pytest.raises(ValueError, match="finite"):
        ofit.cscv_pbo(returns, 4)


def test_dominance_is_the_same_when_recomputed_instead_of_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a sweep and a CSCV run that keeps every half's metric for the dominance ECDF
    returns = np.random.default_rng(8).normal(0.0002, 0.01, (400, 30))
    kept = ofit.cscv_pbo(returns, 10)
    # When the memory budget forbids keeping them (a second pass recomputes them instead)
    monkeypatch.setattr(ofit, "_KEPT_VALUES_LIMIT", 0)
    recomputed = ofit.cscv_pbo(returns, 10, chunk_size=7)
    # Then the stochastic-dominance data are identical, and so is everything else
    assert kept.dominance is not None and recomputed.dominance is not None
    assert np.array_equal(kept.dominance.grid, recomputed.dominance.grid)
    assert np.array_equal(kept.dominance.cdf_all, recomputed.dominance.cdf_all)
    assert np.array_equal(kept.logits, recomputed.logits)


def test_result_serializes_to_json_for_the_api() -> None:
    # Given a PBO result
    result = ofit.cscv_pbo(np.random.default_rng(6).normal(0, 0.01, (200, 6)), 8)
    # When it is turned into a dict with the per-split data
    payload = json.loads(json.dumps(result.to_dict(logit_bins=10, include_splits=True)))
    # Then it carries the PBO, a histogram of every logit, the dominance curves and every split
    assert payload["pbo"] == result.pbo and payload["n_splits"] == 70
    assert sum(payload["logit_histogram"]["counts"]) == 70
    assert len(payload["dominance"]["grid"]) == 201
    assert payload["splits"]["selected"] == result.selected.tolist()
