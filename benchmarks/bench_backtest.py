"""Backtest engine: trade2026 vs vectorbt (from_signals) and backtrader, side by side in one run.

Data: SYNTHETIC one-minute bars, a seeded geometric random walk (open = previous close times a small
gap, high/low around open and close). Cases, each both ways and checked to agree:

1. SMA(10/50) crossover on 1,000,000 bars, fees 0.1%, long-only all-in, fills at the close.
   *engine*: the same precomputed signals into ``backtest_signals`` and ``vbt.Portfolio.from_signals``
   (+ ``pf.value()`` and ``pf.trades.records``: the equity curve and trade list trade2026 returns);
   *pipeline*: each library's own moving averages and crossovers too (numpy cumsum vs ``vbt.MA.run`` +
   ``ma_crossed_above``). Final equity must agree to 1e-9 (relative) with the same trade count.
2. The same strategy on 100,000 bars against backtrader (its SMA + CrossOver indicators, buy 1 unit /
   close, commission 0.1%, cheat-on-close so it fills at the signal bar's close like trade2026's
   ``fill="close"``; ``stdstats=False``). Same final equity required. Target: >= 200x faster.
3. A sweep: 100 (fast, slow) pairs x 100,000 bars in ONE call each: trade2026's batched
   ``backtest_signals`` on (T, 100) signals vs vectorbt's column-vectorized from_signals (+ value, trades).
   Every column's final equity must agree. Reported as backtests per second.

numba compile time is excluded for both libraries (one warm-up call of every case before timing); runs
interleave the libraries; medians of --runs.

    .venv/bin/python benchmarks/bench_backtest.py [--runs 5] [--write]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd
import vectorbt as vbt
from common import bench_arguments, markdown_table, median, provenance, ratio, spread, update_section

from trade2026.domain.backtest import BacktestConfig, Sizing, backtest_signals

SEED = 2026
BIG, SMALL = 1_000_000, 100_000
FAST, SLOW = 10, 50
FEES = 0.001
INIT_CASH = 100_000.0
SWEEP_FAST = tuple(range(5, 55, 5))  # 10 fast windows
SWEEP_SLOW = tuple(range(60, 260, 20))  # x 10 slow windows = 100 pairs
CONFIG = BacktestConfig(init_cash=INIT_CASH, fees_bps=FEES * 1e4)
VBT_SETTINGS: dict[str, Any] = {
    "fees": FEES,
    "init_cash": INIT_CASH,
    "min_size": 0.0,
    "direction": "longonly",
}


@dataclass(frozen=True)
class Bars:
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """What both sides must agree on: final equity and trade count per column."""

    final: np.ndarray
    trades: np.ndarray


def minute_bars(n: int, seed: int = SEED) -> Bars:
    """SYNTHETIC one-minute OHLC: log-price random walk (0.05%/min), gaps of 0.01%, ranges around them."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 5e-4, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 1e-4, n))
    wick = np.abs(rng.normal(0.0, 2e-4, (2, n)))
    return Bars(
        open=open_,
        high=np.maximum(open_, close) * np.exp(wick[0]),
        low=np.minimum(open_, close) * np.exp(-wick[1]),
        close=close,
    )


# ---------------------------------------------------------------------------- signals (numpy)
def moving_averages(close: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """(T, len(windows)) simple moving averages (NaN warm-up) from one running sum, as vectorbt sums."""
    running = np.cumsum(close)
    out = np.full((len(close), len(windows)), np.nan)
    for column, window in enumerate(windows):
        out[window - 1, column] = running[window - 1] / window
        out[window:, column] = (running[window:] - running[:-window]) / window
    return out


def crossovers(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entries, exits): fast crosses above / below slow on this bar (strictly, both bars defined)."""
    above, below = fast > slow, fast < slow
    entries, exits = np.zeros_like(above), np.zeros_like(above)
    entries[1:] = above[1:] & below[:-1]
    exits[1:] = below[1:] & above[:-1]
    return entries, exits


def sma_signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    averages = moving_averages(close, (FAST, SLOW))
    return crossovers(averages[:, 0], averages[:, 1])


def sweep_signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    windows = tuple(sorted(set(SWEEP_FAST) | set(SWEEP_SLOW)))
    averages = moving_averages(close, windows)
    fast = averages[:, [windows.index(w) for w in SWEEP_FAST for _ in SWEEP_SLOW]]
    slow = averages[:, [windows.index(w) for _ in SWEEP_FAST for w in SWEEP_SLOW]]
    return crossovers(fast, slow)


# ---------------------------------------------------------------------------- the sides
def ours_engine(close: np.ndarray, entries: np.ndarray, exits: np.ndarray) -> Outcome:
    result = backtest_signals(close, entries, exits, CONFIG)
    return Outcome(np.atleast_1d(result.final_equity), np.atleast_1d(result.trade_count))


def ours_pipeline(close: np.ndarray) -> Outcome:
    return ours_engine(close, *sma_signals(close))


def ours_sweep(close: np.ndarray) -> Outcome:
    return ours_engine(close, *sweep_signals(close))


def vbt_engine(close: np.ndarray, entries: Any, exits: Any) -> Outcome:
    prices = close if np.ndim(entries) == 1 else close[:, None]  # numpy would broadcast (T,) as a row
    portfolio = vbt.Portfolio.from_signals(prices, entries, exits, **VBT_SETTINGS)
    value = np.asarray(portfolio.value())
    records = portfolio.trades.records
    columns = 1 if value.ndim == 1 else value.shape[1]
    return Outcome(np.atleast_1d(value[-1]), np.bincount(records["col"], minlength=columns))


def vbt_pipeline(close: np.ndarray) -> Outcome:
    fast = vbt.MA.run(close, FAST, short_name="fast")
    slow = vbt.MA.run(close, SLOW, short_name="slow")
    return vbt_engine(close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow))


def vbt_sweep(close: np.ndarray) -> Outcome:
    fast_windows = [f for f in SWEEP_FAST for _ in SWEEP_SLOW]
    slow_windows = [s for _ in SWEEP_FAST for s in SWEEP_SLOW]
    fast = vbt.MA.run(close, fast_windows, short_name="fast")
    slow = vbt.MA.run(close, slow_windows, short_name="slow")
    return vbt_engine(close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow))


class SmaCross(bt.Strategy):
    """SMA(10/50) crossover: buy 1 unit on a cross above when flat, close on a cross below."""

    params = (("fast", FAST), ("slow", SLOW))

    def __init__(self) -> None:
        fast = bt.indicators.SMA(self.data.close, period=self.p.fast)
        slow = bt.indicators.SMA(self.data.close, period=self.p.slow)
        self.crossover = bt.indicators.CrossOver(fast, slow)

    def next(self) -> None:
        if not self.position:
            if self.crossover > 0:
                self.buy(size=1)
        elif self.crossover < 0:
            self.close()


def backtrader_run(frame: pd.DataFrame) -> Outcome:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(INIT_CASH)
    cerebro.broker.setcommission(commission=FEES)
    cerebro.broker.set_coc(True)  # fill at the signal bar's close, as fill="close"
    analyzer = "trades"
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name=analyzer)
    strategy = cerebro.run()[0]
    total = strategy.analyzers.getbyname(analyzer).get_analysis().get("total", {}).get("total", 0)
    return Outcome(np.array([cerebro.broker.getvalue()]), np.array([total]))


def ours_units(close: np.ndarray) -> Outcome:
    entries, exits = sma_signals(close)
    result = backtest_signals(close, entries, exits, BacktestConfig(init_cash=INIT_CASH, fees_bps=FEES * 1e4,
                                                                       sizing=Sizing.units(1.0)))  # fmt: skip
    return Outcome(np.array([result.final_equity]), np.array([result.trade_count]))


def backtrader_frame(bars: Bars) -> pd.DataFrame:
    index = pd.date_range("2024-01-02 09:30", periods=len(bars.close), freq="1min")
    columns = {"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close}
    return pd.DataFrame({**columns, "volume": 1.0}, index=index)


# ---------------------------------------------------------------------------- harness
def timed(function: Callable[..., Outcome], *args: Any) -> tuple[Outcome, float]:
    gc.collect()
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def check(name: str, ours: Outcome, theirs: Outcome) -> str:
    """Agreement of final equity (max relative difference) and trade counts; raises when they differ."""
    relative = float(np.max(np.abs(ours.final / theirs.final - 1.0)))
    if relative > 1e-9 or not np.array_equal(ours.trades, theirs.trades):
        raise AssertionError(
            f"{name}: final equity rel diff {relative:.2e}, trades {ours.trades} vs {theirs.trades}"
        )
    return f"{relative:.0e}"


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0]).parse_args()
    big, small = minute_bars(BIG), minute_bars(SMALL, seed=SEED + 1)
    big_signals, sweep_close = sma_signals(big.close), small.close
    sweep_entries, sweep_exits = sweep_signals(sweep_close)
    frame = backtrader_frame(small)
    cases: dict[str, Callable[[], Outcome]] = {
        "ours_engine": lambda: ours_engine(big.close, *big_signals),
        "vbt_engine": lambda: vbt_engine(big.close, *big_signals),
        "ours_pipeline": lambda: ours_pipeline(big.close),
        "vbt_pipeline": lambda: vbt_pipeline(big.close),
        "ours_small": lambda: ours_units(small.close),
        "bt_small": lambda: backtrader_run(frame),
        "ours_sweep_engine": lambda: ours_engine(sweep_close, sweep_entries, sweep_exits),
        "vbt_sweep_engine": lambda: vbt_engine(sweep_close, sweep_entries, sweep_exits),
        "ours_sweep": lambda: ours_sweep(sweep_close),
        "vbt_sweep": lambda: vbt_sweep(sweep_close),
    }
    for name, case in cases.items():  # warm-up: numba compilation of both libraries, not timed
        if name != "bt_small":
            case()
    times: dict[str, list[float]] = {name: [] for name in cases}
    agreement: dict[str, str] = {}
    for run in range(args.runs):
        outcomes = {}
        for name, case in cases.items():
            outcomes[name], seconds = timed(case)
            times[name].append(seconds)
        for pair in ("engine", "pipeline", "sweep_engine", "sweep"):
            agreement[pair] = check(pair, outcomes[f"ours_{pair}"], outcomes[f"vbt_{pair}"])
        agreement["small"] = check("backtrader", outcomes["ours_small"], outcomes["bt_small"])
        agreement["trades"] = f"{int(outcomes['ours_engine'].trades[0]):,}"
        print(
            f"run {run + 1}/{args.runs}: " + ", ".join(f"{n} {t[-1]:.4f}s" for n, t in times.items()),
            flush=True,
        )
    report = render(times, agreement)
    print(report)
    if args.write:
        update_section("backtest", report)


def render(times: dict[str, list[float]], agreement: dict[str, str]) -> str:
    def ms(name: str) -> str:
        value = median(times[name])
        return "n/a" if value is None else f"{value * 1000:.1f} ms"

    def per_second(name: str, backtests: int) -> str:
        value = median(times[name])
        return "n/a" if not value else f"{backtests / value:,.0f}"

    pairs = len(SWEEP_FAST) * len(SWEEP_SLOW)
    rows = [
        ["SMA(10/50), 1,000,000 bars: engine (same signals)", ms("ours_engine"), "vectorbt", ms("vbt_engine"),
         ratio(median(times["ours_engine"]), median(times["vbt_engine"])), "<= 0.50x", agreement["engine"]],
        ["SMA(10/50), 1,000,000 bars: SMAs + crossovers + engine", ms("ours_pipeline"), "vectorbt",
         ms("vbt_pipeline"), ratio(median(times["ours_pipeline"]), median(times["vbt_pipeline"])), "<= 0.50x",
         agreement["pipeline"]],
        ["SMA(10/50), 100,000 bars, 1 unit (whole strategy)", ms("ours_small"), "backtrader", ms("bt_small"),
         ratio(median(times["ours_small"]), median(times["bt_small"])), "<= 0.005x (>= 200x faster)",
         agreement["small"]],
        [f"{pairs} pairs x 100,000 bars: engine (same signals)", ms("ours_sweep_engine"), "vectorbt",
         ms("vbt_sweep_engine"), ratio(median(times["ours_sweep_engine"]), median(times["vbt_sweep_engine"])),
         "< 1x", agreement["sweep_engine"]],
        [f"{pairs} pairs x 100,000 bars: SMAs + crossovers + engine", ms("ours_sweep"), "vectorbt",
         ms("vbt_sweep"), ratio(median(times["ours_sweep"]), median(times["vbt_sweep"])), "< 1x",
         agreement["sweep"]],
    ]  # fmt: skip
    headers = [
        "case",
        "trade2026",
        "vs",
        "their time",
        "trade2026 / theirs",
        "target",
        "final equity rel diff",
    ]
    throughput = (
        f"Sweep throughput, backtests per second (engine, same signals): trade2026 "
        f"{per_second('ours_sweep_engine', pairs)}, vectorbt {per_second('vbt_sweep_engine', pairs)}; "
        f"with SMAs and crossovers: trade2026 {per_second('ours_sweep', pairs)}, vectorbt "
        f"{per_second('vbt_sweep', pairs)}."
    )
    spreads = ", ".join(f"{name} {spread(values, 1000, 1)}" for name, values in times.items())
    summary = (
        f"SYNTHETIC one-minute bars (seeded random walk, seed {SEED}); long-only, all-in (vectorbt's default "
        f"size=inf) except the backtrader case (1 unit), fees 0.1%, fills at the signal bar's close. vectorbt "
        f"{vbt.__version__} settings: fees={FEES}, init_cash={INIT_CASH:,.0f}, min_size=0, direction='longonly' "
        f"(numba engine; its time includes pf.value() and pf.trades.records, the outputs trade2026 returns). "
        f"backtrader {bt.__version__}: SMA + CrossOver indicators, cheat-on-close, stdstats=False. The "
        f"1M-bar strategy makes {agreement['trades']} trades. Every pair agrees on final equity (column "
        f"'rel diff', the largest over columns) and on trade counts. Medians of {len(times['ours_engine'])} "
        f"interleaved runs after a warm-up call (numba compile excluded); ratio below 1 = trade2026 faster."
    )
    table = markdown_table(headers, rows)
    return (
        f"### Backtest engine vs vectorbt and backtrader\n\n{provenance()}\n\n{summary}\n\n{table}\n\n"
        f"{throughput}\n\nSpread (min-max ms): {spreads}.\n"
    )


if __name__ == "__main__":
    main()
