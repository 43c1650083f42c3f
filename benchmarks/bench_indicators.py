"""Indicators: trade2026 (numpy + numba) vs TA-Lib's C library (the `ta-lib` wheel), side by side.

Input: a SYNTHETIC seeded geometric random walk of OHLC bars (1,000,000 by default), the same arrays for
both sides. Before timing, both sides' outputs are checked to agree to 1e-9 (NaN on the same bars).
The headline case is the issue's bar: RSI(14) + MACD(12,26,9) + Bollinger(20, 2) within 1.5x of TA-Lib.
trade2026's ADX also returns +DI and -DI, so it is timed against TA-Lib's ADX alone and against
ADX + PLUS_DI + MINUS_DI. Each run times every case on both sides back to back (order alternating);
the table shows medians (wall and CPU time) and the min-max spread. The first call of each of our
kernels (numba compile, or loading its on-disk cache) is reported separately, not in the medians.

    .venv/bin/python benchmarks/bench_indicators.py [--runs 9] [--bars 1000000] [--write]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import talib
from common import bench_arguments, markdown_table, median, provenance, ratio, spread, update_section

from trade2026.domain import indicators as ind

SEED = 2026
COMBINED = "RSI(14) + MACD(12,26,9) + BBANDS(20,2)"
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class Bars:
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def synthetic_bars(count: int, seed: int = SEED) -> Bars:
    """A SYNTHETIC random walk of one-minute-like bars (0.05% sd per bar, i.e. ~1% a 390-bar day) from 100,
    highs and lows around open and close."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0005, count)))
    opening = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0.0, 0.0001, count))
    high = np.maximum(opening, close) * (1.0 + np.abs(rng.normal(0.0, 0.0002, count)))
    low = np.minimum(opening, close) * (1.0 - np.abs(rng.normal(0.0, 0.0002, count)))
    volume = rng.integers(1_000, 100_000, count).astype(np.float64)
    return Bars(high, low, close, volume)


def cases(b: Bars) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Case -> (trade2026, TA-Lib); each returns its outputs."""
    hlc = (b.high, b.low, b.close)
    return {
        COMBINED: (
            lambda: (
                ind.rsi(b.close, 14),
                *ind.macd(b.close, 12, 26, 9),
                *ind.bollinger_bands(b.close, 20, 2.0),
            ),
            lambda: (
                talib.RSI(b.close, 14),
                *talib.MACD(b.close, 12, 26, 9),
                *talib.BBANDS(b.close, 20, 2, 2),
            ),
        ),
        "RSI(14)": (lambda: ind.rsi(b.close, 14), lambda: talib.RSI(b.close, 14)),
        "MACD(12,26,9)": (lambda: tuple(ind.macd(b.close)), lambda: talib.MACD(b.close, 12, 26, 9)),
        "BBANDS(20,2)": (
            lambda: tuple(ind.bollinger_bands(b.close)),
            lambda: talib.BBANDS(b.close, 20, 2, 2),
        ),
        "SMA(20)": (lambda: ind.sma(b.close, 20), lambda: talib.SMA(b.close, 20)),
        "EMA(20)": (lambda: ind.ema(b.close, 20), lambda: talib.EMA(b.close, 20)),
        "WMA(20)": (lambda: ind.wma(b.close, 20), lambda: talib.WMA(b.close, 20)),
        "ATR(14)": (lambda: ind.atr(*hlc, 14), lambda: talib.ATR(*hlc, 14)),
        "ADX(14) vs TA-Lib ADX": (lambda: ind.adx(*hlc, 14).adx, lambda: talib.ADX(*hlc, 14)),
        "ADX(14) vs TA-Lib ADX+PLUS_DI+MINUS_DI": (
            lambda: tuple(ind.adx(*hlc, 14)),  # (+DI, -DI, ADX) in one pass
            lambda: (talib.PLUS_DI(*hlc, 14), talib.MINUS_DI(*hlc, 14), talib.ADX(*hlc, 14)),
        ),
        "STOCH(5,3,3)": (lambda: tuple(ind.stochastic(*hlc)), lambda: talib.STOCH(*hlc)),
        "OBV": (lambda: ind.obv(b.close, b.volume), lambda: talib.OBV(b.close, b.volume)),
    }


def check_agreement(name: str, ours: Any, theirs: Any) -> float:
    """Largest absolute difference; raises when NaN positions differ or it exceeds 1e-9."""
    ours_arrays = list(ours) if isinstance(ours, tuple) else [ours]
    theirs_arrays = list(theirs) if isinstance(theirs, tuple) else [theirs]
    worst = 0.0
    for mine, reference in zip(ours_arrays, theirs_arrays, strict=True):
        if not np.array_equal(np.isnan(mine), np.isnan(reference)):
            raise AssertionError(f"{name}: NaN positions differ from TA-Lib")
        valid = ~np.isnan(reference)
        worst = max(worst, float(np.max(np.abs(mine[valid] - reference[valid]))))
    if worst > 1e-9:
        raise AssertionError(f"{name}: differs from TA-Lib by {worst:.3g} > 1e-9")
    return worst


@dataclass
class Samples:
    """Wall and CPU seconds per case of one side (CPU time shows what a busy shared machine hides)."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def measure(self, name: str, function: Callable[[], Any]) -> None:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        self.wall.setdefault(name, []).append(time.perf_counter() - wall)
        self.cpu.setdefault(name, []).append(time.process_time() - cpu)


def main() -> None:
    parser = bench_arguments(__doc__.splitlines()[0], default_runs=9)
    parser.add_argument("--bars", type=int, default=1_000_000, help="SYNTHETIC bars (default 1,000,000)")
    args = parser.parse_args()
    bars = synthetic_bars(args.bars)
    table = cases(bars)
    first_call, differences = Samples(), {}
    for name, (ours, theirs) in table.items():
        first_call.measure(name, ours)  # numba compile or on-disk cache load
        differences[name] = check_agreement(name, ours(), theirs())
    ours_samples, talib_samples = Samples(), Samples()
    for run in range(args.runs):
        for name, (ours, theirs) in table.items():
            sides = [(ours_samples, ours), (talib_samples, theirs)]
            for samples, function in sides[:: 1 if run % 2 == 0 else -1]:
                samples.measure(name, function)
        combined = ours_samples.wall[COMBINED][-1] / talib_samples.wall[COMBINED][-1]
        print(f"run {run + 1}/{args.runs}: {COMBINED} ours/TA-Lib {combined:.2f}x", flush=True)
    prices = f"{bars.close.min():.0f}-{bars.close.max():.0f}"
    report = render(args.bars, prices, ours_samples, talib_samples, first_call, differences)
    print(report)
    if args.write:
        update_section("indicators", report)


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.2f} ms"


def render(
    count: int,
    bars_range: str,
    ours: Samples,
    theirs: Samples,
    first_call: Samples,
    differences: dict[str, float],
) -> str:
    rows: list[Sequence[object]] = []
    for name, ours_wall in ours.wall.items():
        ours_ms, theirs_ms = median(ours_wall), median(theirs.wall[name])
        rows.append(
            [
                name,
                _ms(ours_ms),
                _ms(theirs_ms),
                ratio(ours_ms, theirs_ms),
                ratio(median(ours.cpu[name]), median(theirs.cpu[name])),
                f"{differences[name]:.1e}",
                f"{spread(ours_wall, 1000)} / {spread(theirs.wall[name], 1000)}",
                f"{first_call.wall[name][0] * 1000:.0f} ms",
            ]
        )
    headers = [
        "indicator",
        "trade2026",
        "TA-Lib (C)",
        "trade2026/TA-Lib",
        "same by CPU time",
        "max abs diff",
        "wall spread ms (ours / TA-Lib)",
        "our first call",
    ]
    headline = (median(ours.wall[COMBINED]) or 0.0) / (median(theirs.wall[COMBINED]) or 1.0)
    headline_cpu = (median(ours.cpu[COMBINED]) or 0.0) / (median(theirs.cpu[COMBINED]) or 1.0)
    verdict = "met" if max(headline, headline_cpu) <= TARGET_RATIO else "NOT met"
    summary = (
        f"{count:,} SYNTHETIC one-minute-like OHLC bars (seeded geometric random walk from 100, seed {SEED}, "
        f"prices {bars_range}). Target: {COMBINED} within {TARGET_RATIO}x of TA-Lib's C: "
        f"{headline:.2f}x by wall time, {headline_cpu:.2f}x by CPU time, {verdict}. "
        f"Medians of {len(ours.wall[COMBINED])} runs, both sides back to back in one process (order "
        f"alternating); every case was first checked to agree with TA-Lib to <= 1e-9 with NaN on the same "
        f"bars ('max abs diff'). 'our first call' is the numba compile (or on-disk cache load) on first "
        f"use, not in the medians. numpy {np.__version__}, TA-Lib {talib.__ta_version__.decode().split()[0]}."
    )
    return f"### Indicators: trade2026 vs TA-Lib\n\n{provenance()}\n\n{summary}\n\n{markdown_table(headers, rows)}\n"


if __name__ == "__main__":
    main()
