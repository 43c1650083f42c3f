"""Backtest overfitting statistics: probabilistic and deflated Sharpe ratios, PBO by CSCV (numpy only).

Sharpe ratios here are PER PERIOD (not annualized): ``mean / std(ddof=1)`` of per-bar returns; an annualized
ratio ``SR_a`` with ``q`` periods a year is ``SR_a / sqrt(q)`` per period and a variance of annualized ratios
``V_a`` is ``V_a / q`` per period. Kurtosis is NOT excess (3 for a normal distribution).

- ``probabilistic_sharpe_ratio``: Bailey & Lopez de Prado (2012), "The Sharpe Ratio Efficient Frontier":
  ``PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``.
- ``deflated_sharpe_ratio``: Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
  Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio Management 40(5): the PSR against the
  expected maximum Sharpe ratio of N independent unskilled trials,
  ``SR0 = sqrt(V[SR_n]) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``.
- ``cscv_pbo``: Bailey, Borwein, Lopez de Prado & Zhu (2015), "The Probability of Backtest Overfitting",
  J. Computational Finance 20(4): combinatorially symmetric cross-validation over a (T, N) matrix of per-period
  returns of N configurations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trade2026.domain.metrics import kurtosis as _kurtosis
from trade2026.domain.metrics import skewness as _skewness

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()
_normal_cdf = np.vectorize(_NORMAL.cdf, otypes=[np.float64])

# Up to this many metric values (C x N) are kept from the main pass for the dominance ECDF (8 bytes each);
# beyond it the halves are evaluated a second time instead.
_KEPT_VALUES_LIMIT = 1 << 24

Metric = Literal["sharpe", "mean"] | Callable[[FloatArray], FloatArray]


# ---------------------------------------------------------------------------- PSR / DSR
def expected_max_sharpe(n_trials: float, sharpe_variance: float, mean_sharpe: float = 0.0) -> float:
    """Expected maximum of ``n_trials`` independent Sharpe ratios with the given mean and variance.

    The Bailey & Lopez de Prado (2014) approximation (from extreme value theory, accurate for N >> 1):
    ``mean + sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``. One trial: the mean.
    ``n_trials`` may be fractional (an effective number of independent trials).
    """
    if n_trials < 1:
        raise ValueError("n_trials must be at least 1")
    if sharpe_variance < 0:
        raise ValueError("sharpe_variance must be >= 0")
    if n_trials == 1:
        return mean_sharpe
    quantiles = (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials) + EULER_GAMMA * _NORMAL.inv_cdf(
        1 - 1 / (n_trials * math.e)
    )
    return mean_sharpe + math.sqrt(sharpe_variance) * quantiles


def probabilistic_sharpe_ratio(
    sharpe: ArrayLike,
    n_obs: ArrayLike,
    skewness: ArrayLike = 0.0,
    kurtosis: ArrayLike = 3.0,
    benchmark: ArrayLike = 0.0,
) -> FloatArray:
    """Probability that the true per-period Sharpe ratio exceeds ``benchmark`` given the observed one.

    Arguments broadcast against each other (evaluate many strategies at once). NaN where the variance term
    ``1 - skew SR + (kurt - 1) / 4 SR^2`` is not positive (moments inconsistent with the ratio).
    """
    sr = np.asarray(sharpe, dtype=np.float64)
    variance_term = (
        1.0
        - np.asarray(skewness, dtype=np.float64) * sr
        + (np.asarray(kurtosis, dtype=np.float64) - 1.0) / 4.0 * sr**2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (
            (sr - np.asarray(benchmark))
            * np.sqrt(np.asarray(n_obs, dtype=np.float64) - 1.0)
            / np.sqrt(variance_term)
        )
    return np.asarray(_normal_cdf(np.where(variance_term > 0, z, np.nan)), dtype=np.float64)


def deflated_sharpe_ratio(
    sharpe: ArrayLike,
    n_obs: ArrayLike,
    n_trials: float,
    sharpe_variance: float,
    skewness: ArrayLike = 0.0,
    kurtosis: ArrayLike = 3.0,
) -> FloatArray:
    """PSR of the selected per-period Sharpe ratio against the expected maximum of ``n_trials`` unskilled trials.

    ``sharpe_variance`` is the variance of the per-period Sharpe ratios across the trials.
    """
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe_ratio(sharpe, n_obs, skewness, kurtosis, benchmark)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The DSR of the best (or chosen) column of a trial matrix, with every input it used (per period)."""

    selected: int
    sharpe: float
    n_obs: int
    n_trials: float
    sharpe_variance: float
    expected_max_sharpe: float
    skewness: float
    kurtosis: float
    psr: float  # against a zero benchmark: ignores the selection
    dsr: float


def deflated_sharpe_of_trials(
    returns: ArrayLike, n_trials: float | None = None, selected: int | None = None
) -> DeflatedSharpe:
    """DSR of a sweep: ``returns`` (T, N) holds every trial's per-period returns (losers included).

    ``selected`` defaults to the column with the highest Sharpe ratio; ``n_trials`` to N (pass an effective
    number of independent trials when the columns are strongly correlated). The Sharpe variance is the sample
    variance (ddof=1) of the N per-period Sharpe ratios.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 2 or matrix.shape[0] < 3:
        raise ValueError("returns must be (T >= 3, N >= 2): one column per trial")
    sharpes = matrix.mean(axis=0) / matrix.std(axis=0, ddof=1)
    chosen = int(np.nanargmax(sharpes)) if selected is None else selected
    variance = float(np.nanvar(sharpes, ddof=1))
    trials = float(matrix.shape[1]) if n_trials is None else float(n_trials)
    best = matrix[:, chosen]
    skew, kurt = float(_skewness(best)), float(_kurtosis(best))
    sr0 = expected_max_sharpe(trials, variance)
    return DeflatedSharpe(
        selected=chosen,
        sharpe=float(sharpes[chosen]),
        n_obs=matrix.shape[0],
        n_trials=trials,
        sharpe_variance=variance,
        expected_max_sharpe=sr0,
        skewness=skew,
        kurtosis=kurt,
        psr=float(probabilistic_sharpe_ratio(sharpes[chosen], matrix.shape[0], skew, kurt)),
        dsr=float(probabilistic_sharpe_ratio(sharpes[chosen], matrix.shape[0], skew, kurt, sr0)),
    )


# ---------------------------------------------------------------------------- PBO by CSCV
@dataclass(frozen=True)
class StochasticDominance:
    """Data for the stochastic-dominance chart of the PBO paper.

    On ``grid``: the empirical CDF of the out-of-sample performance of the in-sample-optimal configuration
    (``cdf_selected``, one value per split) and of all configurations in all splits (``cdf_all``: choosing at
    random); ``second_order`` = integral up to x of (cdf_all - cdf_selected). Optimization helps when
    ``cdf_selected <= cdf_all`` everywhere (first order) or ``second_order >= 0`` everywhere (second order).
    """

    grid: FloatArray
    cdf_selected: FloatArray
    cdf_all: FloatArray
    second_order: FloatArray
    first_order_dominant: bool
    second_order_dominant: bool


@dataclass(frozen=True)
class PBOResult:
    """Probability of backtest overfitting and its diagnostics, one entry per CSCV split.

    Splits are in ``itertools.combinations(range(n_blocks), n_blocks // 2)`` order (the in-sample blocks).
    ``relative_rank`` = out-of-sample rank / (N + 1) of the in-sample-best configuration (ranks 1..N, ties
    averaged); ``logits = ln(w / (1 - w))``; ``pbo`` = share of logits <= 0. Performance is the metric's own
    value (a per-period Sharpe ratio by default). Degradation: least-squares line
    ``oos = intercept + slope * is`` over the splits and ``prob_oos_loss`` = share of splits whose chosen
    configuration has out-of-sample performance < 0.
    """

    pbo: float
    n_blocks: int
    n_splits: int
    rows_used: int
    block_size: int
    logits: FloatArray
    relative_rank: FloatArray
    selected: IntArray
    is_performance: FloatArray
    oos_performance: FloatArray
    degradation_slope: float
    degradation_intercept: float
    degradation_r2: float
    prob_oos_loss: float
    dominance: StochasticDominance | None

    def to_dict(self, logit_bins: int = 40, include_splits: bool = False) -> dict[str, Any]:
        """JSON-ready summary for the API and the UI: scalars, a logit histogram, the dominance curves and,
        with ``include_splits``, every split's choice, logit and in/out-of-sample performance."""
        counts, edges = np.histogram(self.logits, bins=logit_bins)
        summary: dict[str, Any] = {
            "pbo": self.pbo,
            "n_blocks": self.n_blocks,
            "n_splits": self.n_splits,
            "rows_used": self.rows_used,
            "block_size": self.block_size,
            "degradation": {
                "slope": _finite(self.degradation_slope),
                "intercept": _finite(self.degradation_intercept),
                "r2": _finite(self.degradation_r2),
                "prob_oos_loss": self.prob_oos_loss,
            },
            "logit_histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
        }
        if self.dominance is not None:
            summary["dominance"] = {
                "grid": self.dominance.grid.tolist(),
                "cdf_selected": self.dominance.cdf_selected.tolist(),
                "cdf_all": self.dominance.cdf_all.tolist(),
                "second_order": self.dominance.second_order.tolist(),
                "first_order_dominant": self.dominance.first_order_dominant,
                "second_order_dominant": self.dominance.second_order_dominant,
            }
        if include_splits:
            summary["splits"] = {
                "selected": self.selected.tolist(),
                "logit": self.logits.tolist(),
                "is_performance": self.is_performance.tolist(),
                "oos_performance": self.oos_performance.tolist(),
            }
        return summary


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@lru_cache(maxsize=8)
def cscv_splits(n_blocks: int) -> NDArray[np.bool_]:
    """(C, S) in-sample masks of every CSCV split, ``itertools.combinations`` order (C = S choose S/2).

    The complement of split i is split C - 1 - i (lexicographic order of half-size subsets), which lets the
    PBO evaluate each half of the data once and read its out-of-sample side from the mirrored row. The
    returned array is cached and read-only.
    """
    chosen = np.array(list(combinations(range(n_blocks), n_blocks // 2)), dtype=np.int64)
    masks = np.zeros((chosen.shape[0], n_blocks), dtype=bool)
    np.put_along_axis(masks, chosen, True, axis=1)
    masks.flags.writeable = False
    return masks


def cscv_pbo(
    returns: ArrayLike,
    n_blocks: int = 16,
    metric: Metric = "sharpe",
    *,
    chunk_size: int = 256,
    dominance_points: int = 201,
) -> PBOResult:
    """PBO of selecting the best of N configurations by CSCV over their (T, N) per-period returns.

    The T rows split into ``n_blocks`` (S, even) contiguous blocks of equal size ``T // S``; the ``T % S``
    OLDEST rows are left out so that every block has the same size, as the paper requires. Each of the
    C(S, S/2) splits takes S/2 blocks as in-sample and the rest as out-of-sample, picks the in-sample-best
    configuration (first on ties) and ranks it out of sample.

    ``metric``: "sharpe" (per-period mean / std(ddof=1); 0 for a zero-variance column) or "mean" take a fast
    path - per-block sums and sums of squares of the centred returns, tabulated for every subset of each
    half of the blocks, so a split's statistics are two table rows added; a callable
    ``f(rows (n, N)) -> (N,)`` scores arbitrary metrics column by column (one call per half, finite values
    expected). Memory is O(chunk_size * N), plus the C x N metric values kept for the stochastic-dominance
    ECDF when they fit in 128 MB (else a second pass recomputes them); ``dominance_points=0`` skips that data.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    _check_pbo_inputs(matrix, n_blocks)
    block_size = matrix.shape[0] // n_blocks
    used = matrix[matrix.shape[0] - block_size * n_blocks :]
    masks = cscv_splits(n_blocks)
    evaluate = _pair_evaluator(used, n_blocks, metric)
    n_splits, width = masks.shape[0], used.shape[1]
    selected = np.empty(n_splits, dtype=np.int64)
    is_perf, oos_perf, rank = np.empty(n_splits), np.empty(n_splits), np.empty(n_splits)
    # Every half's metric (for the dominance ECDF) is kept when it fits the budget, else recomputed later.
    keep = dominance_points > 1 and n_splits * width <= _KEPT_VALUES_LIMIT
    kept = np.empty((n_splits, width)) if keep else None
    bounds = (np.inf, -np.inf)
    for front_rows, front, back in _halves(masks, evaluate, chunk_size):
        back_rows = n_splits - 1 - front_rows  # the complements, same order
        for rows, insample, outsample in ((front_rows, front, back), (back_rows, back, front)):
            best = selected[rows] = _select(insample)
            picked = np.arange(rows.size)
            is_perf[rows], oos_perf[rows] = insample[picked, best], outsample[picked, best]
            rank[rows] = _rank(outsample, oos_perf[rows])
        if kept is not None:
            kept[front_rows], kept[back_rows] = front, back
        elif dominance_points > 1:
            bounds = (min(bounds[0], front.min(), back.min()), max(bounds[1], front.max(), back.max()))
    relative_rank = rank / (width + 1)
    logits = np.log(relative_rank / (1.0 - relative_rank))
    slope, intercept, r2 = _least_squares(is_perf, oos_perf)
    dominance = None
    if dominance_points > 1:
        if kept is not None:
            bounds = (float(kept.min()), float(kept.max()))
        values = [kept] if kept is not None else _all_values(masks, evaluate, chunk_size)
        dominance = _dominance(values, oos_perf, bounds, dominance_points)
    return PBOResult(
        pbo=float(np.mean(logits <= 0)),
        n_blocks=n_blocks,
        n_splits=n_splits,
        rows_used=used.shape[0],
        block_size=block_size,
        logits=logits,
        relative_rank=relative_rank,
        selected=selected,
        is_performance=is_perf,
        oos_performance=oos_perf,
        degradation_slope=slope,
        degradation_intercept=intercept,
        degradation_r2=r2,
        prob_oos_loss=float(np.mean(oos_perf < 0)),
        dominance=dominance,
    )


def _check_pbo_inputs(matrix: FloatArray, n_blocks: int) -> None:
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError("returns must be a (T, N) matrix with N >= 2 configurations")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError("n_blocks must be an even number >= 2")
    if matrix.shape[0] // n_blocks * (n_blocks // 2) < 2:
        raise ValueError(f"T={matrix.shape[0]} rows are too few for {n_blocks} blocks")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("returns must be finite (fill a configuration's warm-up with 0)")


def _halves(
    masks: NDArray[np.bool_], evaluate: PairEvaluator, chunk_size: int
) -> Iterator[tuple[IntArray, FloatArray, FloatArray]]:
    """(rows i, metric of split i's in-sample half, metric of its out-of-sample half) chunk by chunk, i < C/2."""
    half = masks.shape[0] // 2
    for start in range(0, half, chunk_size):
        rows = np.arange(start, min(start + chunk_size, half))
        front, back = evaluate(masks[rows])
        yield rows, front, back


def _all_values(masks: NDArray[np.bool_], evaluate: PairEvaluator, chunk_size: int) -> Iterator[FloatArray]:
    for _, front, back in _halves(masks, evaluate, chunk_size):
        yield front
        yield back


def _select(insample: FloatArray) -> IntArray:
    """The in-sample-best column of each split (row); the first on ties."""
    return np.argmax(insample, axis=1).astype(np.int64)


def _rank(outsample: FloatArray, chosen: FloatArray) -> FloatArray:
    """Rank (1..N, ties averaged) of each split's chosen value among that split's out-of-sample values."""
    below = np.count_nonzero(outsample < chosen[:, None], axis=1)
    ties = np.count_nonzero(outsample == chosen[:, None], axis=1)  # itself included
    return below + (ties + 1) / 2.0


PairEvaluator = Callable[[NDArray[np.bool_]], tuple[FloatArray, FloatArray]]


def _pair_evaluator(used: FloatArray, n_blocks: int, metric: Metric) -> PairEvaluator:
    """A function: (k, S) block masks -> the (k, N) metric of the masked halves and of their complements.

    Identical columns (a sweep's parameters that trade identically) are scored once and copied, so they tie
    EXACTLY: BLAS may round the same column differently at different positions, which would break the tie
    (first index wins) at random.
    """
    keep, inverse = _distinct_columns(used)
    inner = _distinct_evaluator(used[:, keep], n_blocks, metric)
    if keep.size == used.shape[1]:
        return inner

    def expanded(masks: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
        front, back = inner(masks)
        return front[:, inverse], back[:, inverse]

    return expanded


def _distinct_columns(matrix: FloatArray) -> tuple[IntArray, IntArray]:
    """(first index of each distinct column in order, index into those of every column)."""
    rows_as_bytes = np.ascontiguousarray(matrix.T).view(np.dtype((np.void, matrix.shape[0] * 8))).ravel()
    _, first, inverse = np.unique(rows_as_bytes, return_index=True, return_inverse=True)
    order = np.argsort(first)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return first[order].astype(np.int64), position[inverse.ravel()].astype(np.int64)


def _distinct_evaluator(used: FloatArray, n_blocks: int, metric: Metric) -> PairEvaluator:
    blocks = used.reshape(n_blocks, -1, used.shape[1])
    if callable(metric):
        return _callable_evaluator(blocks, metric)
    if metric not in ("sharpe", "mean"):
        raise ValueError(f"unknown metric {metric!r}: 'sharpe', 'mean' or a callable")
    # One shift for all columns: the variance is shift invariant and centred sums cancel less, and columns
    # that are identical on some blocks keep identical block sums there (their Sharpe ratios tie exactly in
    # the halves made of those blocks, as in a direct computation).
    shift = float(used.mean())
    centred = blocks - shift  # (S, L, N)
    half_blocks = n_blocks // 2
    sums, squares = centred.sum(axis=1), (centred**2).sum(axis=1)  # (S, N) each
    tables = [_subset_sums(part) for part in (sums[:half_blocks], sums[half_blocks:])]
    square_tables = [_subset_sums(part) for part in (squares[:half_blocks], squares[half_blocks:])]
    every = (1 << half_blocks) - 1
    rows = blocks.shape[1] * half_blocks
    score = _mean_score(rows, shift) if metric == "mean" else _sharpe_score(rows, shift)

    def by_sums(masks: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
        # A half = some blocks of the first group + some of the second: two table rows, one addition
        # (no BLAS: deterministic per column, so exact ties stay exact, and no thread start-up per call).
        low, high = _subset_codes(masks[:, :half_blocks]), _subset_codes(masks[:, half_blocks:])
        halves = []
        for first, second in ((low, high), (every ^ low, every ^ high)):
            half_sums = tables[0][first] + tables[1][second]
            half_squares = square_tables[0][first] + square_tables[1][second]
            halves.append(score(half_sums, half_squares))
        return halves[0], halves[1]

    return by_sums


def _mean_score(rows: int, shift: float) -> Callable[[FloatArray, FloatArray], FloatArray]:
    def mean(sums: FloatArray, squares: FloatArray) -> FloatArray:
        sums *= 1.0 / rows
        sums += shift
        return sums

    return mean


def _sharpe_score(rows: int, shift: float) -> Callable[[FloatArray, FloatArray], FloatArray]:
    """Per-period Sharpe ratio (ddof=1) of n = rows bars from centred sums; overwrites its (fresh) inputs."""
    scale = math.sqrt(rows - 1)

    def sharpe(sums: FloatArray, squares: FloatArray) -> FloatArray:
        correction = sums * sums
        correction *= 1.0 / rows
        squares -= correction  # (n - 1) * sample variance
        np.maximum(squares, 0.0, out=squares)  # rounding may leave -1e-20 for a flat column
        np.sqrt(squares, out=squares)
        sums *= scale / rows  # (mean - shift) * sqrt(n - 1)
        sums += shift * scale
        flat = squares == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(sums, squares, out=sums)
        if flat.any():
            sums[flat] = 0.0
        return sums

    return sharpe


def _subset_sums(parts: FloatArray) -> FloatArray:
    """table[m] = sum of parts[i] over the bits i of m, for every m < 2 ** len(parts) (added in index order)."""
    table = np.zeros((1 << parts.shape[0], *parts.shape[1:]))
    for bit in range(parts.shape[0]):
        table[1 << bit : 2 << bit] = table[: 1 << bit] + parts[bit]
    return table


def _subset_codes(masks: NDArray[np.bool_]) -> IntArray:
    """The bitmask integer of each row of a (k, h) boolean matrix (bit i = column i)."""
    return (masks.astype(np.int64) << np.arange(masks.shape[1], dtype=np.int64)).sum(axis=1)


def _callable_evaluator(blocks: FloatArray, scorer: Callable[[FloatArray], FloatArray]) -> PairEvaluator:
    width = blocks.shape[2]

    def half(mask: NDArray[np.bool_]) -> FloatArray:
        return np.asarray(scorer(blocks[mask].reshape(-1, width)), dtype=np.float64)

    def by_callable(masks: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
        return np.array([half(mask) for mask in masks]), np.array([half(~mask) for mask in masks])

    return by_callable


def _least_squares(x: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """(slope, intercept, r^2) of y on x; slope NaN when x does not vary."""
    dx, dy = x - x.mean(), y - y.mean()
    # elementwise sums, not BLAS dot products: OpenBLAS may start threads for them (costly on a busy machine)
    sxx, sxy, syy = float(np.sum(dx * dx)), float(np.sum(dx * dy)), float(np.sum(dy * dy))
    if sxx == 0:
        return math.nan, float(y.mean()), math.nan
    slope = sxy / sxx
    r2 = sxy * sxy / (sxx * syy) if syy > 0 else math.nan
    return slope, float(y.mean() - slope * x.mean()), r2


def _dominance(
    value_chunks: Iterable[FloatArray],
    oos_selected: FloatArray,
    bounds: tuple[float, float],
    points: int,
) -> StochasticDominance:
    """ECDFs on a regular grid; every half's metric is some split's out-of-sample side, so 'all' = all halves."""
    low, high = bounds
    grid = np.linspace(low, high, points)
    step = (high - low) / (points - 1) if high > low else 1.0
    counts = np.zeros(points, dtype=np.int64)
    for values in value_chunks:
        # Smallest grid index k with grid[k] >= value: the value counts in the ECDF from grid[k] on. Computed
        # in place (the values are not needed afterwards); rounding can only push the top value one slot up.
        slots = values.reshape(-1)
        slots -= low
        slots *= 1.0 / step
        np.ceil(slots, out=slots)
        found = np.bincount(slots.astype(np.int64), minlength=points)
        found[points - 1] += found[points:].sum()
        counts += found[:points]
    cdf_all = np.cumsum(counts) / counts.sum()
    cdf_selected = np.searchsorted(np.sort(oos_selected), grid, side="right") / oos_selected.size
    second_order = np.concatenate(([0.0], np.cumsum((np.diff(grid)) * (cdf_all - cdf_selected)[:-1])))
    tolerance = 1e-12
    return StochasticDominance(
        grid=grid,
        cdf_selected=cdf_selected,
        cdf_all=cdf_all,
        second_order=second_order,
        first_order_dominant=bool(np.all(cdf_selected <= cdf_all + tolerance)),
        second_order_dominant=bool(np.all(second_order >= -tolerance)),
    )


__all__ = [
    "EULER_GAMMA",
    "DeflatedSharpe",
    "PBOResult",
    "StochasticDominance",
    "cscv_pbo",
    "cscv_splits",
    "deflated_sharpe_of_trials",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
]
