"""Monte Carlo simulation of wealth paths: GBM, stationary block bootstrap, 2-state regime switching.

Pure numpy, vectorized over paths. A run of `paths` paths is *defined* as chunks of `CHUNK_PATHS` paths, chunk `i`
drawing from `SeedSequence(seed).spawn(n_chunks)[i]` (whose state depends on `seed` and `i` only), so a run gives the
same numbers in one piece or spread over many workers (a Step Functions Map): `simulate_chunks(spec, a, b)` is
a slice of the run and `summarize` merges slices in chunk order.

Returns are per step (one step = one trading day by default); wealth is `initial_wealth * exp(cumsum(log-returns))`.
- GBM: `log R_t ~ N((mu - sigma^2 / 2) dt, sigma^2 dt)`, exact log-normal stepping, so `E[W_T] = W_0 e^{mu T}`.
- Stationary bootstrap (Politis & Romano 1994): blocks start at uniform random days, lengths geometric with mean
  `mean_block`, wrapping around the sample. Multi-asset samples resample whole days (the same blocks for every
  asset), which keeps the cross-correlation; a constant-weight portfolio's return on a resampled day is then the
  portfolio return of that day, so the paths are drawn from the portfolio series with the shared day indices.
- Regime switching: a 2-state Markov chain (stay probabilities `p_stay`), normal log-returns per state.

Outputs (see `summarize`): terminal wealth quantiles and histogram, max drawdown distribution, probability of
ruin (wealth at or below `ruin_fraction * initial_wealth` on any day), VaR/CVaR of the horizon return at 95/99%,
fan chart percentiles (5/25/50/75/95) on at most `FAN_POINTS` days, each with a confidence interval:
distribution-free order-statistic intervals for quantiles, Wilson intervals for probabilities, a bootstrap over
paths for means and CVaR.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

CHUNK_PATHS = 1_000
FAN_POINTS = 101
FAN_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTOGRAM_BINS = 40
CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 200
Z95 = 1.959963984540054

Model = Literal["gbm", "bootstrap", "regime"]


class SimulationError(ValueError):
    """Inconsistent simulation parameters (the message names the field and the numbers)."""


@dataclass(frozen=True)
class GbmParams:
    mu: float  # drift per step (arithmetic: E[R] = e^{mu})
    sigma: float  # volatility per step


@dataclass(frozen=True)
class RegimeParams:
    mu: tuple[float, float]  # mean log-return per step in each state
    sigma: tuple[float, float]
    p_stay: tuple[float, float]  # P(state stays the same) per step


@dataclass(frozen=True)
class SimulationSpec:
    model: Model
    horizon: int
    paths: int
    seed: int
    initial_wealth: float = 1.0
    ruin_fraction: float = 0.5
    gbm: GbmParams | None = None
    regime: RegimeParams | None = None
    log_returns: np.ndarray | None = field(default=None, repr=False)  # bootstrap sample (log of 1 + r)
    mean_block: float = 20.0

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise SimulationError(f"horizon must be at least 1 day, got {self.horizon}")
        if self.paths < 1:
            raise SimulationError(f"paths must be at least 1, got {self.paths}")
        if not self.initial_wealth > 0:
            raise SimulationError(f"initial_wealth must be positive, got {self.initial_wealth}")
        if not 0 <= self.ruin_fraction < 1:
            raise SimulationError(f"ruin_fraction must be in [0, 1), got {self.ruin_fraction}")
        if self.model == "gbm" and self.gbm is None:
            raise SimulationError("model gbm needs mu and sigma (given or estimated from returns)")
        if self.model == "gbm" and self.gbm is not None and not self.gbm.sigma >= 0:
            raise SimulationError(f"sigma must be non-negative, got {self.gbm.sigma}")
        if self.model == "regime" and self.regime is None:
            raise SimulationError("model regime needs its parameters (given or estimated from returns)")
        if self.model == "bootstrap":
            if self.log_returns is None or len(self.log_returns) < 2:
                raise SimulationError("model bootstrap needs a sample of at least 2 returns")
            if not self.mean_block >= 1:
                raise SimulationError(f"mean_block must be at least 1, got {self.mean_block}")

    @property
    def n_chunks(self) -> int:
        return -(-self.paths // CHUNK_PATHS)

    def chunk_paths(self, chunk: int) -> int:
        return min(CHUNK_PATHS, self.paths - chunk * CHUNK_PATHS)

    def fan_days(self) -> np.ndarray:
        """Days (1..horizon) shown in the fan chart: all of them, or FAN_POINTS evenly spaced ones."""
        return np.unique(np.linspace(1, self.horizon, min(self.horizon, FAN_POINTS)).round().astype(np.int64))


@dataclass(frozen=True)
class PathStats:
    """Per-path results of one or more chunks (rows = paths, in chunk order)."""

    terminal: np.ndarray  # wealth at the horizon
    max_drawdown: np.ndarray  # largest peak-to-trough loss, fraction of the peak (initial wealth counts)
    min_wealth: np.ndarray
    fan: np.ndarray  # (paths, len(fan_days)) wealth on the fan chart days

    @staticmethod
    def concat(parts: Sequence[PathStats]) -> PathStats:
        return PathStats(
            terminal=np.concatenate([p.terminal for p in parts]),
            max_drawdown=np.concatenate([p.max_drawdown for p in parts]),
            min_wealth=np.concatenate([p.min_wealth for p in parts]),
            fan=np.concatenate([p.fan for p in parts]),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {"terminal": self.terminal, "max_drawdown": self.max_drawdown, "min_wealth": self.min_wealth,
                "fan": self.fan}  # fmt: skip


# ---------------------------------------------------------------------- estimation
def to_log_returns(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise SimulationError(f"need a series of at least 2 returns, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise SimulationError("returns contain NaN or infinite values")
    if np.any(r <= -1):
        raise SimulationError(f"a return of {r.min():.4g} (<= -100%) cannot be compounded")
    return np.log1p(r)


def estimate_gbm(returns: np.ndarray) -> GbmParams:
    """mu, sigma per step from simple returns: sigma = sd(log r), mu = mean(log r) + sigma^2 / 2."""
    lr = to_log_returns(returns)
    sigma = float(np.std(lr, ddof=1))
    return GbmParams(mu=float(np.mean(lr)) + 0.5 * sigma**2, sigma=sigma)


def estimate_regimes(returns: np.ndarray, vol_window: int = 21) -> RegimeParams:
    """Simple 2-state estimate: days whose trailing volatility is above its median are the stressed state (1).

    Mean/sd of log-returns per state and the stay probabilities counted from the state sequence.
    """
    lr = to_log_returns(returns)
    if len(lr) < 2 * vol_window:
        raise SimulationError(f"regime estimation needs at least {2 * vol_window} returns, got {len(lr)}")
    windows = np.lib.stride_tricks.sliding_window_view(lr, vol_window)
    vol = np.concatenate([np.full(vol_window - 1, np.nan), windows.std(axis=1, ddof=1)])
    valid = np.isfinite(vol)
    state = (vol > np.nanmedian(vol)).astype(np.int64)[valid]
    x = lr[valid]
    mu, sigma, stay = [], [], []
    for s in (0, 1):
        xs = x[state == s]
        if len(xs) < 2:
            raise SimulationError("regime estimation found fewer than 2 days in a state")
        mu.append(float(xs.mean()))
        sigma.append(float(xs.std(ddof=1)))
        prev = state[:-1] == s
        stay.append(float(np.mean(state[1:][prev] == s)) if prev.any() else 0.5)
    return RegimeParams(mu=(mu[0], mu[1]), sigma=(sigma[0], sigma[1]), p_stay=(stay[0], stay[1]))


# ---------------------------------------------------------------------- path generators (log-returns)
def _bootstrap_positions(rng: np.random.Generator, n_obs: int, paths: int, horizon: int,
                         mean_block: float) -> np.ndarray:  # fmt: skip
    """Unwrapped positions (block start + offset, < n_obs + horizon) of a stationary bootstrap; see below."""
    p = 1.0 / mean_block
    u = rng.random((paths, horizon))
    new = u < p
    u[:, 1:] /= p  # uniform on [0, 1) where a block starts (u < p); day 0 keeps its uniform u
    new[:, 0] = True
    u *= n_obs
    starts = np.minimum(u.astype(np.int32), n_obs - 1)
    steps = np.arange(horizon, dtype=np.int32)
    last = np.maximum.accumulate(np.where(new, steps, 0), axis=1)
    positions = np.take_along_axis(starts, last, axis=1)
    positions += steps
    positions -= last
    return positions


def stationary_bootstrap_indices(rng: np.random.Generator, n_obs: int, paths: int, horizon: int,
                                 mean_block: float) -> np.ndarray:  # fmt: skip
    """(paths, horizon) day indices of a stationary bootstrap: each index is uniform on 0..n_obs-1 marginally.

    One uniform u per step: a new block starts where u < p = 1/mean_block, at day floor(u / p * n_obs) (u / p is
    uniform given u < p), and always on day 0, at floor(u * n_obs); otherwise the previous index + 1 (wrapping).
    """
    return _bootstrap_positions(rng, n_obs, paths, horizon, mean_block) % n_obs


def _regime_states(rng: np.random.Generator, params: RegimeParams, paths: int, horizon: int) -> np.ndarray:
    """(paths, horizon) states 0/1 of the Markov chain, from one uniform u per day (vectorized over time).

    Day 0 is drawn from the stationary distribution (state 1 where u < pi1). On a later day the chain leaves
    state s where u < leave[s] = 1 - p_stay[s]. With lo <= hi the two leave probabilities: u < lo flips either
    state; lo <= u < hi sends both states to the more persistent one (a reset); u >= hi keeps the state. So the
    state is the last reset's state (or day 0's) flipped once per flip since then: a cumulative parity.
    """
    leave = (1.0 - params.p_stay[0], 1.0 - params.p_stay[1])
    total = leave[0] + leave[1]
    pi1 = 0.5 if total == 0 else leave[0] / total
    lo, hi = min(leave), max(leave)
    sticky = 0 if leave[0] <= leave[1] else 1  # the state a reset sends the chain to
    u = rng.random((paths, horizon), dtype=np.float32)  # compared with probabilities only: 24 bits suffice
    flip = u < np.float32(lo)
    flip[:, 0] = False
    reset = u < np.float32(hi)
    reset ^= flip  # lo <= u < hi
    reset[:, 0] = True  # day 0 is where the chain is set
    base = (u[:, :1] < np.float32(pi1)).astype(np.int32)  # day 0's state
    parity = np.cumsum(flip, axis=1, dtype=np.int32)
    # the state at the last reset and the parity there, forward-filled as 4 * day + 2 * state + parity bit
    steps4 = np.arange(horizon, dtype=np.int32) * 4
    code = np.where(reset, steps4 + 2 * sticky + (parity & 1), 0)
    code[:, 0] = 2 * base[:, 0]  # day 0: its own state, parity 0
    last = np.maximum.accumulate(code, axis=1)
    return (((last >> 1) + (last & 1) + parity) & 1).astype(np.int8)


def _log_returns(spec: SimulationSpec, rng: np.random.Generator, paths: int) -> np.ndarray:
    h = spec.horizon
    if spec.model == "gbm":
        assert spec.gbm is not None
        out = rng.standard_normal((paths, h))
        out *= spec.gbm.sigma
        out += spec.gbm.mu - 0.5 * spec.gbm.sigma**2
        return out
    if spec.model == "bootstrap":
        assert spec.log_returns is not None
        sample = spec.log_returns
        circular = np.resize(sample, len(sample) + h)  # the sample repeated: positions never need wrapping
        return circular[_bootstrap_positions(rng, len(sample), paths, h, spec.mean_block)]
    assert spec.regime is not None
    states = _regime_states(rng, spec.regime, paths, h).astype(bool)
    out = rng.standard_normal((paths, h))
    (mu0, mu1), (s0, s1) = spec.regime.mu, spec.regime.sigma
    out *= np.where(states, s1, s0)
    out += np.where(states, mu1, mu0)
    return out


def _chunk_stats(spec: SimulationSpec, log_returns: np.ndarray) -> PathStats:
    lw = np.cumsum(log_returns, axis=1, out=log_returns)  # log(W_t / W_0), in place
    peak = np.maximum.accumulate(lw, axis=1)
    np.maximum(peak, 0.0, out=peak)  # the initial wealth is a peak too
    np.subtract(lw, peak, out=peak)  # log(W_t / peak_t) <= 0
    w0 = spec.initial_wealth
    with np.errstate(over="ignore"):  # an overflow stays inf here; summarize refuses it with the reason
        return PathStats(
            terminal=w0 * np.exp(lw[:, -1]),
            max_drawdown=-np.expm1(peak.min(axis=1)),
            min_wealth=w0 * np.exp(np.minimum(lw.min(axis=1), 0.0)),
            fan=w0 * np.exp(lw[:, spec.fan_days() - 1]),
        )


def chunk_seeds(seed: int, n_chunks: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(n_chunks)


def simulate_chunks(spec: SimulationSpec, start: int, stop: int) -> PathStats:
    """Chunks start..stop-1 of the run (each chunk's numbers depend only on the seed and its index)."""
    if not 0 <= start < stop <= spec.n_chunks:
        raise SimulationError(f"chunk range {start}..{stop} outside 0..{spec.n_chunks}")
    seeds = chunk_seeds(spec.seed, spec.n_chunks)
    parts = []
    for chunk in range(start, stop):
        rng = np.random.Generator(np.random.PCG64(seeds[chunk]))
        parts.append(_chunk_stats(spec, _log_returns(spec, rng, spec.chunk_paths(chunk))))
    return PathStats.concat(parts)


def simulate(spec: SimulationSpec) -> dict[str, Any]:
    """The whole run in this process: all chunks, then the summary."""
    return summarize(spec, simulate_chunks(spec, 0, spec.n_chunks))


# ---------------------------------------------------------------------- summaries with confidence intervals
def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def quantile_ci_ranks(n: int, q: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Order-statistic ranks (0-based) bracketing the q-quantile with ~95% coverage (normal approx. of the binomial)."""
    half = z * np.sqrt(n * q * (1 - q))
    lo = np.clip(np.floor(n * q - half).astype(np.int64) - 1, 0, n - 1)
    hi = np.clip(np.ceil(n * q + half).astype(np.int64), 0, n - 1)
    return lo, hi


def quantiles_with_ci(values: np.ndarray, q: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """Quantiles along axis 0 with distribution-free order-statistic confidence intervals."""
    qs = np.asarray(q, dtype=np.float64)
    ordered = np.sort(values, axis=0)
    n = ordered.shape[0]
    lo, hi = quantile_ci_ranks(n, qs)
    return {
        "q": qs.tolist(),
        "value": np.quantile(ordered, qs, axis=0).tolist(),
        "ci_low": ordered[lo].tolist(),
        "ci_high": ordered[hi].tolist(),
    }


def _bootstrap_ci(rng: np.random.Generator, values: np.ndarray, statistic: Any) -> tuple[float, float]:
    n = len(values)
    stats = np.array([statistic(values[rng.integers(0, n, n)]) for _ in range(BOOTSTRAP_RESAMPLES)])
    alpha = (1 - CI_LEVEL) / 2
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha))


def var_cvar(horizon_returns: np.ndarray, level: float) -> tuple[float, float]:
    """VaR and CVaR of the horizon return at `level`, as positive losses (fractions of initial wealth)."""
    losses = -horizon_returns
    var = float(np.quantile(losses, level))
    tail = losses[losses >= var]
    return var, float(tail.mean())


def summarize(spec: SimulationSpec, stats: PathStats) -> dict[str, Any]:
    if len(stats.terminal) != spec.paths:
        raise SimulationError(f"have {len(stats.terminal)} paths, the run has {spec.paths}")
    if not (np.all(np.isfinite(stats.terminal)) and np.all(np.isfinite(stats.fan))):
        raise SimulationError("wealth overflows a float: the returns compound beyond 1e308 over the horizon")
    n = spec.paths
    w0 = spec.initial_wealth
    ci_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(spec.seed, spawn_key=(2**32 - 1,))))
    horizon_return = stats.terminal / w0 - 1.0
    ruined = int(np.count_nonzero(stats.min_wealth <= spec.ruin_fraction * w0))
    loss = int(np.count_nonzero(stats.terminal < w0))
    lo_edge, hi_edge = np.quantile(stats.terminal, [0.005, 0.995])
    if hi_edge <= lo_edge:
        hi_edge = lo_edge + max(abs(lo_edge) * 1e-9, 1e-12)
    counts, edges = np.histogram(
        np.clip(stats.terminal, lo_edge, hi_edge), HISTOGRAM_BINS, (lo_edge, hi_edge)
    )
    risk = {}
    for level in (0.95, 0.99):
        var, cvar = var_cvar(horizon_return, level)
        var_ci = quantiles_with_ci(-horizon_return, [level])
        risk[f"{round(level * 100)}"] = {
            "var": var,
            "var_ci": [var_ci["ci_low"][0], var_ci["ci_high"][0]],
            "cvar": cvar,
            "cvar_ci": list(_bootstrap_ci(ci_rng, horizon_return, lambda x, lv=level: var_cvar(x, lv)[1])),
        }
    fan = quantiles_with_ci(stats.fan, np.asarray(FAN_PERCENTILES) / 100)
    return {
        "model": spec.model,
        "paths": n,
        "horizon_days": spec.horizon,
        "seed": spec.seed,
        "initial_wealth": w0,
        "ci_level": CI_LEVEL,
        "terminal_wealth": {
            "mean": float(stats.terminal.mean()),
            "mean_ci": list(_bootstrap_ci(ci_rng, stats.terminal, np.mean)),
            "quantiles": quantiles_with_ci(stats.terminal, QUANTILES),
            "histogram": {
                "edges": edges.tolist(),
                "counts": counts.tolist(),
                "note": "values beyond the 0.5% and 99.5% quantiles are counted in the end bins",
            },
        },
        "max_drawdown": {
            "mean": float(stats.max_drawdown.mean()),
            "mean_ci": list(_bootstrap_ci(ci_rng, stats.max_drawdown, np.mean)),
            "quantiles": quantiles_with_ci(stats.max_drawdown, QUANTILES),
        },
        "probability_of_ruin": {
            "threshold": spec.ruin_fraction * w0,
            "value": ruined / n,
            "ci": list(wilson_interval(ruined, n)),
        },
        "probability_of_loss": {"value": loss / n, "ci": list(wilson_interval(loss, n))},
        "horizon_return": {"quantiles": quantiles_with_ci(horizon_return, QUANTILES)},
        "var_cvar": risk,
        "fan_chart": {"days": spec.fan_days().tolist(), "percentiles": list(FAN_PERCENTILES), **fan},
    }
