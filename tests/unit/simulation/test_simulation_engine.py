"""The Monte Carlo engine against closed forms, reproducibility in one piece vs chunks, and its intervals.

Tolerances are statistical: a check allows 4 standard errors of the Monte Carlo estimate (a false failure has
probability < 1e-4 per check) and the seeds are fixed, so every run gives the same numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import simulation as sim


def gbm_spec(mu: float = 0.0003, sigma: float = 0.012, horizon: int = 252, paths: int = 20_000, **kw: object):
    return sim.SimulationSpec(
        model="gbm", horizon=horizon, paths=paths, seed=11, gbm=sim.GbmParams(mu, sigma), **kw
    )


def sp500_returns() -> np.ndarray:
    data = load_daily("sp500")
    close = data["close"]
    return close[1:] / close[:-1] - 1.0


# ---------------------------------------------------------------------- GBM closed forms
def test_gbm_terminal_mean_and_log_variance_match_the_closed_forms():
    # Given GBM with mu, sigma per day over T = 252 days, 20,000 paths
    mu, sigma, t = 0.0003, 0.012, 252
    spec = gbm_spec(mu, sigma, t)
    # When the paths are simulated
    stats_ = sim.simulate_chunks(spec, 0, spec.n_chunks)
    # Then E[W_T] = W_0 e^{mu T} (within 4 standard errors of the lognormal's known variance)
    expected = math.exp(mu * t)
    sd = expected * math.sqrt(math.exp(sigma**2 * t) - 1)
    assert abs(stats_.terminal.mean() - expected) < 4 * sd / math.sqrt(spec.paths)
    # And log(W_T / W_0) has mean (mu - sigma^2/2) T and variance sigma^2 T
    log_t = np.log(stats_.terminal)
    assert abs(log_t.mean() - (mu - sigma**2 / 2) * t) < 4 * sigma * math.sqrt(t / spec.paths)
    assert abs(log_t.var(ddof=1) / (sigma**2 * t) - 1) < 4 * math.sqrt(2 / (spec.paths - 1))


def test_gbm_value_at_risk_matches_the_lognormal_quantile_inside_its_interval():
    # Given GBM over a year
    mu, sigma, t = 0.0002, 0.015, 252
    result = sim.simulate(gbm_spec(mu, sigma, t))
    # When the 95% VaR of the horizon return is read
    risk = result["var_cvar"]["95"]
    # Then it equals 1 - exp((mu - s^2/2) T + s sqrt(T) z_0.05) within the width of its 95% interval (~4 SE)
    exact = 1 - math.exp((mu - sigma**2 / 2) * t + sigma * math.sqrt(t) * stats.norm.ppf(0.05))
    assert risk["var_ci"][0] < risk["var"] < risk["var_ci"][1]
    assert abs(risk["var"] - exact) < risk["var_ci"][1] - risk["var_ci"][0]
    assert risk["cvar"] > risk["var"]
    # And the CVaR equals the lognormal's tail mean the same way
    m, s = (mu - sigma**2 / 2) * t, sigma * math.sqrt(t)
    z = stats.norm.ppf(0.05)
    exact_cvar = 1 - math.exp(m + s**2 / 2) * stats.norm.cdf(z - s) / 0.05
    assert abs(risk["cvar"] - exact_cvar) < risk["cvar_ci"][1] - risk["cvar_ci"][0]


def test_ruin_probability_matches_the_barrier_formula_with_the_discrete_monitoring_shift():
    # Given GBM paths and a ruin level of 80% of the initial wealth
    mu, sigma, t, level = 0.0, 0.02, 252, 0.8
    spec = gbm_spec(mu, sigma, t, paths=20_000, ruin_fraction=level)
    # When the probability of ruin (wealth at or below the level on any day) is estimated
    result = sim.simulate(spec)
    p = result["probability_of_ruin"]["value"]
    # Then it equals the first-passage probability of Brownian motion with drift nu = mu - s^2/2 to a = log(level),
    # the barrier shifted by 0.5826 s sqrt(dt) for daily monitoring (Broadie-Glasserman-Kou)
    nu = mu - sigma**2 / 2
    a = math.log(level) - 0.5826 * sigma
    st = sigma * math.sqrt(t)
    exact = stats.norm.cdf((a - nu * t) / st) + math.exp(2 * nu * a / sigma**2) * stats.norm.cdf(
        (a + nu * t) / st
    )
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / spec.paths)
    assert result["probability_of_ruin"]["ci"][0] <= exact <= result["probability_of_ruin"]["ci"][1]


def test_a_certain_ruin_and_a_certain_survival():
    # Given zero volatility: wealth falls 1% a day (deterministic)
    falling = gbm_spec(mu=math.log(0.99), sigma=0.0, horizon=100, paths=100, ruin_fraction=0.5)
    # When simulated, 0.99^69 < 0.5 < 0.99^68: every path is ruined within 100 days
    assert sim.simulate(falling)["probability_of_ruin"]["value"] == 1.0
    # And over 60 days none is, while the max drawdown is exactly 1 - 0.99^60
    short = replace(falling, horizon=60)
    result = sim.simulate(short)
    assert result["probability_of_ruin"]["value"] == 0.0
    assert result["max_drawdown"]["mean"] == pytest.approx(1 - 0.99**60, rel=1e-12)


# ---------------------------------------------------------------------- bootstrap
def test_bootstrap_preserves_the_sample_mean_in_expectation_on_real_returns():
    # Given the S&P 500 daily returns 1999-2018 (arch) and an iid bootstrap (mean block 1)
    r = sp500_returns()
    spec = sim.SimulationSpec(
        model="bootstrap", horizon=63, paths=20_000, seed=3, log_returns=sim.to_log_returns(r), mean_block=1.0
    )
    terminal = sim.simulate_chunks(spec, 0, spec.n_chunks).terminal
    # Then E[W_T] = (1 + mean r)^T exactly for independent draws: within 4 standard errors
    assert abs(terminal.mean() - (1 + r.mean()) ** 63) < 4 * terminal.std() / math.sqrt(spec.paths)


def test_stationary_bootstrap_indices_are_uniform_with_geometric_blocks():
    # Given the index generator with mean block 10 over 500 observations
    rng = np.random.default_rng(5)
    idx = sim.stationary_bootstrap_indices(rng, 500, 2_000, 300, 10.0)
    # Then every index is marginally uniform: the resampled mean of any sample is its mean in expectation
    sample = np.random.default_rng(6).normal(0.001, 0.02, 500)
    resampled_mean = sample[idx].mean()
    assert abs(resampled_mean - sample.mean()) < 4 * sample.std() / math.sqrt(2_000)  # blocks: use paths only
    # And the first day and all days together are uniform over the sample (chi-square tests)
    assert stats.chisquare(np.bincount(idx[:, 0] // 50, minlength=10)).pvalue > 1e-3
    assert stats.chisquare(np.bincount(idx[:, 150] // 50, minlength=10)).pvalue > 1e-3
    # And a new block starts with probability 1/10 (index not the previous + 1, wrapping)
    continues = idx[:, 1:] == (idx[:, :-1] + 1) % 500
    assert abs((1 - continues.mean()) - (0.1 * (1 - 1 / 500))) < 0.003
    assert idx.min() >= 0 and idx.max() < 500


def test_multi_asset_bootstrap_keeps_the_cross_correlation():
    # Given two correlated assets (rho = 0.8) resampled with the same day indices
    rng = np.random.default_rng(7)
    z = rng.standard_normal((2_000, 2))
    returns = np.column_stack([z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1]]) * 0.01
    idx = sim.stationary_bootstrap_indices(np.random.default_rng(8), 2_000, 50, 400, 20.0)
    resampled = returns[idx]  # (paths, horizon, assets)
    # Then the correlation of the resampled days equals the sample's (to sampling error)
    flat = resampled.reshape(-1, 2)
    assert np.corrcoef(flat.T)[0, 1] == pytest.approx(np.corrcoef(returns.T)[0, 1], abs=0.02)


# ---------------------------------------------------------------------- regimes
def test_regime_chain_has_the_stationary_distribution_and_mean_durations():
    # Given stay probabilities 0.98 and 0.9
    params = sim.RegimeParams(mu=(0.0, 0.0), sigma=(0.01, 0.03), p_stay=(0.98, 0.9))
    states = sim._regime_states(np.random.default_rng(1), params, 2_000, 500)
    # Then the share of state 1 is (1 - p00) / (2 - p00 - p11) = 1/6
    assert states.mean() == pytest.approx(0.02 / 0.12, abs=0.01)
    # And state 0 is left with probability 0.02 per day
    prev0 = states[:, :-1] == 0
    assert np.mean(states[:, 1:][prev0] == 1) == pytest.approx(0.02, abs=0.002)


@pytest.mark.parametrize("p_stay", [(0.98, 0.9), (0.9, 0.98), (0.95, 0.95), (1.0, 0.0)])
def test_regime_chain_equals_the_day_by_day_loop_on_the_same_uniforms(p_stay: tuple[float, float]):
    # Given the uniforms the chain draws (same seed), and the textbook recursion over days
    params = sim.RegimeParams(mu=(0.0, 0.0), sigma=(0.01, 0.03), p_stay=p_stay)
    u = np.random.default_rng(4).random((300, 400), dtype=np.float32)  # the chain draws float32 uniforms
    leave64 = np.array([1 - p_stay[0], 1 - p_stay[1]])
    pi1 = np.float32(leave64[0] / leave64.sum() if leave64.sum() else 0.5)
    leave = leave64.astype(np.float32)
    expected = np.empty(u.shape, dtype=np.int8)
    expected[:, 0] = u[:, 0] < pi1
    for t in range(1, u.shape[1]):
        prev = expected[:, t - 1]
        expected[:, t] = np.where(u[:, t] < leave[prev], 1 - prev, prev)
    # Then the vectorized chain gives the same states
    np.testing.assert_array_equal(sim._regime_states(np.random.default_rng(4), params, 300, 400), expected)


def test_regime_estimation_on_real_data_finds_a_calm_and_a_stressed_state():
    # Given the real S&P 500 returns
    params = sim.estimate_regimes(sp500_returns())
    # Then the stressed state is more volatile and both states persist
    assert params.sigma[1] > 1.5 * params.sigma[0]
    assert min(params.p_stay) > 0.9
    # And a regime run with identical states is GBM in log space: mean log return mu T
    same = sim.RegimeParams(mu=(0.0004, 0.0004), sigma=(0.01, 0.01), p_stay=params.p_stay)
    spec = sim.SimulationSpec(model="regime", horizon=100, paths=10_000, seed=2, regime=same)
    log_t = np.log(sim.simulate_chunks(spec, 0, spec.n_chunks).terminal)
    assert abs(log_t.mean() - 0.04) < 4 * 0.1 / 100


# ---------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("model", ["gbm", "bootstrap", "regime"])
def test_the_same_seed_gives_the_same_numbers_in_one_piece_or_in_chunks(model: str):
    # Given a run of 3,500 paths (4 chunks, the last one partial)
    r = sp500_returns()[-2_000:]
    spec = sim.SimulationSpec(
        model=model, horizon=60, paths=3_500, seed=42, gbm=sim.estimate_gbm(r), regime=sim.estimate_regimes(r),
        log_returns=sim.to_log_returns(r), mean_block=5.0,
    )  # fmt: skip
    # When it runs in one piece, and as the tasks [0, 1), [1, 3), [3, 4) merged in order
    whole = sim.simulate(spec)
    parts = [sim.simulate_chunks(spec, a, b) for a, b in [(0, 1), (1, 3), (3, 4)]]
    merged = sim.summarize(spec, sim.PathStats.concat(parts))
    # Then the results are identical, number for number
    assert json.dumps(whole) == json.dumps(merged)
    # And the same seed again gives the same, another seed different numbers
    assert json.dumps(sim.simulate(spec)) == json.dumps(whole)
    assert sim.simulate(replace(spec, seed=43))["terminal_wealth"]["mean"] != whole["terminal_wealth"]["mean"]


def test_a_chunk_depends_only_on_the_seed_and_its_index():
    # Given the same seed with 2,000 and with 5,000 paths
    small = gbm_spec(paths=2_000)
    large = replace(small, paths=5_000)
    # Then their first two chunks are the same paths
    np.testing.assert_array_equal(
        sim.simulate_chunks(small, 0, 2).terminal, sim.simulate_chunks(large, 0, 2).terminal
    )


# ---------------------------------------------------------------------- summaries and intervals
def test_wilson_interval_equals_statsmodels():
    for k, n in [(0, 100), (3, 1_000), (500, 1_000), (1_000, 1_000)]:
        lo, hi = sim.wilson_interval(k, n)
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert lo == pytest.approx(ref[0], abs=1e-12) and hi == pytest.approx(ref[1], abs=1e-12)


def test_quantile_intervals_cover_the_true_quantiles_about_95_percent_of_the_time():
    # Given 400 samples of 1,000 standard normals
    rng = np.random.default_rng(9)
    q = np.array([0.05, 0.5, 0.95])
    covered = np.zeros(3)
    for _ in range(400):
        ci = sim.quantiles_with_ci(rng.standard_normal(1_000), q)
        covered += (np.array(ci["ci_low"]) <= stats.norm.ppf(q)) & (
            stats.norm.ppf(q) <= np.array(ci["ci_high"])
        )
    # Then each interval covers its quantile in 92-99% of the samples
    assert np.all((covered / 400 > 0.92) & (covered / 400 < 0.99))


def test_summary_shapes_fan_chart_and_histogram():
    spec = gbm_spec(horizon=2_520, paths=1_000)
    result = sim.simulate(spec)
    fan = result["fan_chart"]
    assert fan["days"][0] == 1 and fan["days"][-1] == 2_520 and len(fan["days"]) == sim.FAN_POINTS
    assert len(fan["value"]) == 5 and all(len(row) == len(fan["days"]) for row in fan["value"])
    values = np.array(fan["value"])
    assert np.all(np.diff(values, axis=0) >= 0)  # 5th <= 25th <= ... <= 95th percentile every day
    assert np.all(np.array(fan["ci_low"]) <= values) and np.all(values <= np.array(fan["ci_high"]))
    assert sum(result["terminal_wealth"]["histogram"]["counts"]) == 1_000
    assert (
        0
        <= result["max_drawdown"]["quantiles"]["value"][0]
        <= result["max_drawdown"]["quantiles"]["value"][-1]
        < 1
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be at least 1"),
        ({"paths": 0}, "paths must be at least 1"),
        ({"ruin_fraction": 1.5}, "ruin_fraction must be in"),
        ({"initial_wealth": -1.0}, "initial_wealth must be positive"),
        ({"model": "bootstrap"}, "bootstrap needs a sample"),
        ({"model": "regime"}, "regime needs its parameters"),
    ],
)
def test_inconsistent_parameters_are_refused_with_the_reason(kwargs: dict, message: str):
    base = {"model": "gbm", "horizon": 10, "paths": 10, "seed": 0, "gbm": sim.GbmParams(0.0, 0.01)}
    with pytest.raises(sim.SimulationError, match=message):
        sim.SimulationSpec(**(base | kwargs))


def test_returns_below_minus_100_percent_are_refused():
    with pytest.raises(sim.SimulationError, match="<= -100%"):
        sim.to_log_returns(np.array([0.01, -1.2, 0.0]))
