"""Time machine: the historical windows most like a given window, and what happened after them.

Distance: z-normalized Euclidean distance between a query window (m bars) and every window of every
searched series, from a sliding dot product computed with FFTs (MASS, Mueen's algorithm): for a z-normalized
query q and a window x_j with mean mu_j and standard deviation sigma_j,

    d_j^2 = sum_k (q_k - (x_{j+k} - mu_j) / sigma_j)^2 = 2m - 2 (q . x_j) / sigma_j

(the q . mu_j term vanishes because q sums to zero). All series are transformed in one batched FFT; nothing
loops over windows in Python. Windows with zero variance are never matches (their shape is undefined).

Matches are taken greedily in distance order with an exclusion zone: a window closer than ``exclusion`` bars
to the query (same series) or to an already chosen match is skipped, so a match is not its own neighbour
shifted by a bar ("trivial matches").

DTW (dynamic time warping, Sakoe-Chiba band) is offered for small searches: every candidate's LB_Keogh lower
bound is computed at once, candidates are visited in bound order and DTW is evaluated only while the bound
can still beat the k-th best distance (exact: the pruned candidates cannot be among the k best).

Pure numpy (and numba for the DTW kernel, through ``indicators``' compile helper): no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trade2026.domain.indicators import _compiled

MIN_WINDOW = 4
DTW_MAX_CELLS = 2_000_000  # candidates x window: DTW is quadratic per candidate, kept for small searches
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class TimeMachineError(ValueError):
    """A search that cannot be done as asked (window longer than the history, flat window, ...)."""


@dataclass(frozen=True)
class Match:
    series: int  # index into the searched series
    start: int  # first bar of the matched window
    distance: float

    def end(self, window: int) -> int:
        return self.start + window - 1


@dataclass(frozen=True)
class SearchResult:
    matches: list[Match]
    window: int
    metric: str
    candidates: int  # windows compared (after exclusions)
    dtw_evaluated: int = 0  # DTW only: full DTW computations (the rest were pruned by LB_Keogh)
    extra: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- z-normalization and MASS
def znorm(window: np.ndarray) -> np.ndarray:
    """(x - mean) / std (population); raises for a flat window."""
    x = np.asarray(window, dtype=np.float64)
    std = float(x.std())
    if not math.isfinite(std) or std <= 1e-12 * max(1.0, float(np.abs(x).max())):
        raise TimeMachineError("the query window is flat (or has gaps): its shape is undefined")
    return (x - x.mean()) / std


def window_stats(series: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of every window of ``series`` (NaN where a window holds a NaN)."""
    views = sliding_window_view(np.asarray(series, dtype=np.float64), window)
    return views.mean(axis=1), views.std(axis=1)


def mass_distances(query: np.ndarray, series: Sequence[np.ndarray]) -> list[np.ndarray]:
    """z-normalized Euclidean distance of ``query`` to every window of each series (inf: not comparable).

    One batched real FFT over all series (padded to a common power-of-two length); each series is centred on
    its own mean first, which changes no distance and keeps the dot products accurate.
    """
    q = znorm(query)
    m = len(q)
    lengths = [len(s) for s in series]
    if not lengths or max(lengths) < m:
        raise TimeMachineError(f"the window ({m} bars) is longer than every searched history")
    nfft = 1 << math.ceil(math.log2(max(lengths) + m))
    stacked = np.zeros((len(series), nfft))
    for i, s in enumerate(series):
        values = np.asarray(s, dtype=np.float64)
        finite = np.isfinite(values)
        centre = float(values[finite].mean()) if finite.any() else 0.0
        stacked[i, : len(values)] = np.where(finite, values - centre, 0.0)
    products = np.fft.irfft(np.fft.rfft(stacked, axis=1) * np.fft.rfft(q[::-1], nfft)[None, :], nfft, axis=1)
    out = []
    for i, s in enumerate(series):
        if len(s) < m:
            out.append(np.empty(0))
            continue
        mean, std = window_stats(s, m)
        dots = products[i, m - 1 : len(s)]
        with np.errstate(divide="ignore", invalid="ignore"):
            squared = 2.0 * m - 2.0 * dots / std
        distance = np.sqrt(np.maximum(squared, 0.0))
        flat = ~np.isfinite(std) | (std <= 1e-12 * np.maximum(1.0, np.abs(mean)))
        distance[flat | ~np.isfinite(distance)] = np.inf
        out.append(distance)
    return out


def brute_force_distances(query: np.ndarray, series: np.ndarray) -> np.ndarray:
    """The definition, window by window (a reference for tests: O(n m) memory)."""
    q = znorm(query)
    views = sliding_window_view(np.asarray(series, dtype=np.float64), len(q))
    mean = views.mean(axis=1, keepdims=True)
    std = views.std(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((((views - mean) / std - q) ** 2).sum(axis=1))


# ---------------------------------------------------------------------------- choosing matches
def top_k(distances: Sequence[np.ndarray], k: int, exclusion: int,
          excluded: Sequence[tuple[int, int]] = ()) -> list[Match]:  # fmt: skip
    """The k smallest finite distances, no two within ``exclusion`` bars of each other in one series, none
    within ``exclusion`` bars of an ``excluded`` (series, start) position (the query itself)."""
    sizes = np.array([len(d) for d in distances])
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    flat = np.concatenate([np.asarray(d, dtype=np.float64) for d in distances]) if len(sizes) else np.empty(0)
    # Greedy picks block at most 2*exclusion-1 positions each (so do the excluded positions): the first
    # (k + excluded) * (2*exclusion + 1) windows in distance order always hold the answer. Sort only those.
    enough = (k + len(excluded)) * (2 * max(exclusion, 1) + 1)
    if enough < len(flat):
        nearest = np.argpartition(flat, enough)[:enough]
        order = nearest[np.argsort(flat[nearest], kind="stable")]
    else:
        order = np.argsort(flat, kind="stable")
    order = order[np.isfinite(flat[order])]
    taken: dict[int, list[int]] = {}
    for series, start in excluded:
        taken.setdefault(series, []).append(start)
    chosen: list[Match] = []
    for position in order:
        series = int(np.searchsorted(offsets, position, side="right") - 1)
        start = int(position - offsets[series])
        if any(abs(start - other) < exclusion for other in taken.get(series, ())):
            continue
        chosen.append(Match(series, start, float(flat[position])))
        taken.setdefault(series, []).append(start)
        if len(chosen) == k:
            break
    return chosen


def search(query: np.ndarray, series: Sequence[np.ndarray], k: int = 10, *, exclusion: int | None = None,
           excluded: Sequence[tuple[int, int]] = (), last_start: Sequence[int] | None = None,
           metric: str = "euclidean", band: float = 0.1) -> SearchResult:  # fmt: skip
    """The k windows of ``series`` nearest to ``query``.

    ``excluded``: (series, start) positions whose neighbourhood is skipped (the query's own position).
    ``last_start``: per series, the last window start allowed (e.g. so that a forward horizon exists).
    """
    m = len(query)
    if m < MIN_WINDOW:
        raise TimeMachineError(f"window must be at least {MIN_WINDOW} bars; got {m}")
    if k < 1:
        raise TimeMachineError(f"k must be >= 1; got {k}")
    zone = m if exclusion is None else int(exclusion)
    if metric == "euclidean":
        distances = mass_distances(query, series)
    elif metric == "dtw":
        return _dtw_search(query, series, k, zone, excluded, last_start, band)
    else:
        raise TimeMachineError(f"unknown metric {metric!r}; known: euclidean, dtw")
    distances = _limit(distances, last_start)
    matches = top_k(distances, k, zone, excluded)
    candidates = int(sum(np.isfinite(d).sum() for d in distances))
    return SearchResult(matches, m, metric, candidates)


def _limit(distances: list[np.ndarray], last_start: Sequence[int] | None) -> list[np.ndarray]:
    if last_start is None:
        return distances
    limited = []
    for d, last in zip(distances, last_start, strict=True):
        kept = d.copy()
        kept[max(int(last) + 1, 0) :] = np.inf
        limited.append(kept)
    return limited


# ---------------------------------------------------------------------------- DTW with LB_Keogh pruning
@_compiled
def _dtw_kernel(a: np.ndarray, b: np.ndarray, radius: int, cutoff: float) -> float:
    """Squared-cost DTW within a Sakoe-Chiba band; abandons (returns inf) once every cell of a row > cutoff."""
    n = a.shape[0]
    inf = math.inf
    previous = np.full(n + 1, inf)
    current = np.full(n + 1, inf)
    previous[0] = 0.0
    for i in range(1, n + 1):
        current[:] = inf
        low = max(1, i - radius)
        high = min(n, i + radius)
        row_min = inf
        for j in range(low, high + 1):
            cost = (a[i - 1] - b[j - 1]) ** 2
            best = min(previous[j - 1], previous[j], current[j - 1])
            current[j] = cost + best
            row_min = min(row_min, current[j])
        if row_min > cutoff:
            return inf
        previous, current = current, previous
    return float(previous[n])


def dtw_distance(a: np.ndarray, b: np.ndarray, radius: int) -> float:
    """DTW distance (square root of the summed squared costs) of two equal-length sequences."""
    return math.sqrt(_dtw_kernel(np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64),
                                 int(radius), math.inf))  # fmt: skip


def lb_keogh(query: np.ndarray, candidates: np.ndarray, radius: int) -> np.ndarray:
    """LB_Keogh (squared) of every row of ``candidates`` against ``query``'s envelope of half-width radius."""
    padded = np.pad(query, radius, mode="edge")
    views = sliding_window_view(padded, 2 * radius + 1)
    upper, lower = views.max(axis=1), views.min(axis=1)
    above = np.maximum(candidates - upper, 0.0)
    below = np.maximum(lower - candidates, 0.0)
    return (above**2 + below**2).sum(axis=1)


def _dtw_search(query: np.ndarray, series: Sequence[np.ndarray], k: int, zone: int,
                excluded: Sequence[tuple[int, int]], last_start: Sequence[int] | None,
                band: float) -> SearchResult:  # fmt: skip
    q = znorm(query)
    m = len(q)
    radius = max(1, round(band * m))
    rows, owners, starts = [], [], []
    for i, s in enumerate(series):
        if len(s) < m:
            continue
        views = sliding_window_view(np.asarray(s, dtype=np.float64), m)
        limit = len(views) if last_start is None else max(min(len(views), int(last_start[i]) + 1), 0)
        views = views[:limit]
        mean, std = views.mean(axis=1), views.std(axis=1)
        ok = np.isfinite(std) & (std > 1e-12 * np.maximum(1.0, np.abs(mean)))
        rows.append((views[ok] - mean[ok, None]) / std[ok, None])
        owners.append(np.full(int(ok.sum()), i))
        starts.append(np.nonzero(ok)[0])
    if not rows or sum(len(r) for r in rows) == 0:
        return SearchResult([], m, "dtw", 0)
    candidates = np.concatenate(rows)
    if candidates.size > DTW_MAX_CELLS:
        raise TimeMachineError(
            f"DTW is for small searches: {len(candidates)} windows x {m} bars exceed {DTW_MAX_CELLS:,} cells; "
            "use metric euclidean, fewer symbols or a shorter history"
        )
    owner, start = np.concatenate(owners), np.concatenate(starts)
    bounds = lb_keogh(q, candidates, radius)
    excluded_by = {(s, p) for s, p in excluded}
    pool: list[tuple[float, int, int]] = []  # (squared distance, series, start) of every evaluated window
    best: list[tuple[float, int, int]] = []  # the greedy k best of the pool, non-overlapping
    evaluated = 0
    for index in np.argsort(bounds, kind="stable"):
        cutoff = best[-1][0] if len(best) == k else math.inf
        if bounds[index] > cutoff:
            break  # every remaining bound is larger: no remaining candidate can enter the k best
        which, where = int(owner[index]), int(start[index])
        if any(es == which and abs(ep - where) < zone for es, ep in excluded_by):
            continue
        evaluated += 1
        value = _dtw_kernel(q, candidates[index], radius, cutoff)
        if value <= cutoff:
            pool.append((value, which, where))
            best = _greedy(pool, k, zone)
    matches = [Match(which, where, math.sqrt(v)) for v, which, where in best]
    return SearchResult(matches, m, "dtw", len(candidates), dtw_evaluated=evaluated)


def _greedy(pool: list[tuple[float, int, int]], k: int, zone: int) -> list[tuple[float, int, int]]:
    """The k best non-overlapping windows of the pool, greedy by distance (as ``top_k``)."""
    kept: list[tuple[float, int, int]] = []
    for value, s, p in sorted(pool):
        if any(ks == s and abs(kp - p) < zone for _, ks, kp in kept):
            continue
        kept.append((value, s, p))
        if len(kept) == k:
            break
    return kept


# ---------------------------------------------------------------------------- what happened next
def forward_returns(close: np.ndarray, end: int, horizons: Sequence[int]) -> dict[int, float | None]:
    """close[end + h] / close[end] - 1 for each horizon (None when the history stops before)."""
    out: dict[int, float | None] = {}
    for h in horizons:
        if end + h < len(close) and close[end] > 0 and np.isfinite(close[end + h]):
            out[h] = float(close[end + h] / close[end] - 1.0)
        else:
            out[h] = None
    return out


def distribution(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Count, mean, std, share positive and quantiles of the known values."""
    known = np.array([v for v in values if v is not None], dtype=np.float64)
    if len(known) == 0:
        return {"count": 0, "mean": None, "std": None, "positive": None,
                **{f"q{int(q * 100):02d}": None for q in QUANTILES}}  # fmt: skip
    quantiles = np.quantile(known, QUANTILES)
    return {
        "count": len(known),
        "mean": float(known.mean()),
        "std": float(known.std(ddof=1)) if len(known) > 1 else 0.0,
        "positive": float((known > 0).mean()),
        **{f"q{int(q * 100):02d}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
    }
