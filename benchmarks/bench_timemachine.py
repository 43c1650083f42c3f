"""Time-machine search: a 60-bar window over 20 symbols x 30 years (the real 20-stock data) - trade2026 vs stumpy.

Data: skfolio's 20 S&P 500 stocks, daily adjusted closes 1990-2022 (8,313 sessions each, 166,260 bars).
Each run takes the latest 60-bar window of one of the stocks (a different one per run) and finds the 10
nearest windows across all 20 stocks (z-normalized Euclidean distance, exclusion zone of one window):

- trade2026 ``timemachine.search``: one batched FFT sliding dot product (MASS) over all 20 series, then the
  greedy top-10 with the exclusion zone;
- trade2026 ``timemachine.mass_distances``: the distances alone;
- stumpy ``stumpy.mass`` once per series (its MASS), then the same top-10 selection; measured with numba's
  default thread count and with one thread (``numba.set_num_threads(1)``): on a busy shared machine stumpy's
  parallel kernels can lose more to thread contention than they gain, so both are shown and the ratio is taken
  against the faster of the two;
- brute force (numpy): every window z-normalized and compared (the definition), for scale.

Every run checks that trade2026's and stumpy's distances agree (<= 1e-5 where finite) and that both choose
the same 10 matches. Runs alternate between the implementations; the table shows medians.

    .venv/bin/python benchmarks/bench_timemachine.py [--runs 7] [--write]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import stumpy
from common import bench_arguments, markdown_table, median, provenance, ratio, spread, update_section

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import timemachine as tm

WINDOW, K = 60, 10
TARGET_S = 1.0


def stock_closes() -> list[np.ndarray]:
    data = load_daily("stocks20")
    return [data["close"][data["symbol"] == symbol] for symbol in np.unique(data["symbol"])]


def ours_search(query: np.ndarray, series: list[np.ndarray], own: int) -> list[tm.Match]:
    return tm.search(query, series, K, excluded=[(own, len(series[own]) - WINDOW)]).matches


def stumpy_search(query: np.ndarray, series: list[np.ndarray], own: int) -> list[tm.Match]:
    distances = [np.where(np.isfinite(d), d, np.inf) for d in (stumpy.mass(query, s) for s in series)]
    return tm.top_k(distances, K, WINDOW, excluded=[(own, len(series[own]) - WINDOW)])


def stumpy_one_thread(query: np.ndarray, series: list[np.ndarray], own: int) -> list[tm.Match]:
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return stumpy_search(query, series, own)
    finally:
        numba.set_num_threads(threads)


def brute_force(query: np.ndarray, series: list[np.ndarray]) -> list[np.ndarray]:
    return [tm.brute_force_distances(query, s) for s in series]


def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    gc.collect()
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0], default_runs=7).parse_args()
    series = stock_closes()
    bars = sum(len(s) for s in series)
    stumpy_search(series[0][-WINDOW:], series[:2], 0)  # numba compilation of stumpy out of the way
    ours_search(series[0][-WINDOW:], series[:2], 0)
    stumpy_one_thread(series[0][-WINDOW:], series[:2], 0)
    times: dict[str, list[float]] = {"search": [], "distances": [], "stumpy": [], "stumpy_1": [], "brute": []}
    for run in range(args.runs):
        own = run % len(series)
        query = series[own][-WINDOW:]
        ours, times["search"] = _add(times["search"], ours_search, query, series, own)
        distances, times["distances"] = _add(times["distances"], tm.mass_distances, query, series)
        peer, times["stumpy"] = _add(times["stumpy"], stumpy_search, query, series, own)
        _, times["stumpy_1"] = _add(times["stumpy_1"], stumpy_one_thread, query, series, own)
        _, times["brute"] = _add(times["brute"], brute_force, query, series)
        assert [(m.series, m.start) for m in ours] == [(m.series, m.start) for m in peer], "different matches"
        for d, s in zip(distances, series, strict=True):
            reference = stumpy.mass(query, s)
            finite = np.isfinite(d) & np.isfinite(reference)
            assert np.allclose(d[finite], reference[finite], rtol=0, atol=1e-5), "distances differ"
        print(
            f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1] * 1000:.1f} ms" for k, v in times.items())
        )
    report = render(times, len(series), bars)
    print(report)
    if args.write:
        update_section("timemachine", report)


def _add(values: list[float], function: Callable[..., Any], *function_args: Any) -> tuple[Any, list[float]]:
    value, elapsed = timed(function, *function_args)
    return value, [*values, elapsed]


def render(times: dict[str, list[float]], symbols: int, bars: int) -> str:
    labels = {
        "search": f"trade2026 `timemachine.search` (batched FFT MASS + top-{K} with exclusion zone)",
        "distances": "trade2026 `timemachine.mass_distances` (distances only)",
        "stumpy": f"stumpy `mass` per series + the same top-{K} (stumpy {stumpy.__version__}, numba threads "
        f"{numba.get_num_threads()})",
        "stumpy_1": "stumpy, the same with numba.set_num_threads(1)",
        "brute": "brute force numpy (every window z-normalized; the definition)",
    }
    ours = median(times["search"])
    peer = min(m for m in (median(times["stumpy"]), median(times["stumpy_1"])) if m is not None)
    rows = [
        [label, f"{median(times[name]) * 1000:.1f} ms", ratio(median(times[name]), peer),
         spread(times[name], scale=1000, digits=1)]
        for name, label in labels.items()
    ]  # fmt: skip
    verdict = "meets" if ours is not None and ours < TARGET_S else "MISSES"
    summary = (
        f"A {WINDOW}-bar query (the latest window of a different stock each run) against every window of "
        f"{symbols} stocks x 1990-2022 ({bars:,} real daily closes, skfolio), k={K}, exclusion zone {WINDOW} bars. "
        f"trade2026 and stumpy agree on every distance (<= 1e-5) and choose the same matches in every run. "
        f"Target under {TARGET_S:.0f} s: {verdict} (median {ours * 1000:.1f} ms of {len(times['search'])} runs)."
    )
    table = markdown_table(["implementation", "wall (median)", "this / faster stumpy", "spread ms"], rows)
    title = f"### Time-machine search ({WINDOW}-bar window, {symbols} symbols x 30 years)"
    return f"{title}\n\n{provenance()}\n\n{summary}\n\n{table}\n"


if __name__ == "__main__":
    main()
