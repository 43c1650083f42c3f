"""Oracle: trade2026's backtests equal vectorbt's ``Portfolio.from_signals`` on REAL data.

Data: the S&P 500 daily closes 1999-2018 (``load_daily("sp500")``, 5,031 sessions, with open/high/low) and
the 20-stock close-only set (``load_daily("stocks20")``). Signals: SMA(10)/SMA(50) crossovers computed here
with numpy (entry = fast crosses above slow on that bar, exit = crosses below).

vectorbt 1.2.0 settings used in EVERY case (``VBT_SETTINGS``): init_cash=100,000, size=np.inf (all-in) unless
the case says otherwise, size_type="amount", min_size=0 (its default 1e-8 is a size floor trade2026 does not
have), accumulate=False, lock_cash=False, allow_partial=True, upon_long_conflict="ignore",
upon_short_conflict="ignore", upon_dir_conflict="ignore", upon_opposite_entry="reversereduce",
price=close (fills at the signal bar's close). Each case adds fees / fixed_fees / slippage / direction; the
next-open case shifts vectorbt's signals one bar forward and sets price=open; the stop cases pass
open/high/low, sl_stop/tp_stop, stop_entry_price="fillprice", stop_exit_price="stopmarket",
upon_stop_exit="close".

The issue's bar: final equity relative difference <= 1e-9 and the same trade count (vectorbt's exit trades,
the one open at the end included). These tests also hold the whole equity curve and every trade's bars,
direction, size and pnl to the same tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import vectorbt as vbt

from trade2026.adapters.demo_data import load_daily
from trade2026.domain.backtest import (
    EXIT_REASONS,
    BacktestConfig,
    BacktestResult,
    Direction,
    Sizing,
    backtest_signals,
)

INIT_CASH = 100_000.0
TOLERANCE = 1e-9
VBT_SETTINGS: dict[str, Any] = {
    "init_cash": INIT_CASH,
    "size": np.inf,
    "size_type": "amount",
    "min_size": 0.0,
    "accumulate": False,
    "lock_cash": False,
    "allow_partial": True,
    "upon_long_conflict": "ignore",
    "upon_short_conflict": "ignore",
    "upon_dir_conflict": "ignore",
    "upon_opposite_entry": "reversereduce",
}
VBT_STOPS: dict[str, Any] = {
    "stop_entry_price": "fillprice",
    "stop_exit_price": "stopmarket",
    "upon_stop_exit": "close",
}


def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average along axis 0, NaN for the first window - 1 rows."""
    running = np.cumsum(values, axis=0)
    out = np.full(values.shape, np.nan)
    out[window - 1] = running[window - 1] / window
    out[window:] = (running[window:] - running[:-window]) / window
    return out


def crossovers(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """(entries, exits): SMA(fast) crosses above / below SMA(slow) on that bar (both bars defined)."""
    fast_ma, slow_ma = sma(close, fast), sma(close, slow)
    above, below = fast_ma > slow_ma, fast_ma < slow_ma
    entries, exits = np.zeros_like(above), np.zeros_like(above)
    entries[1:] = above[1:] & below[:-1]
    exits[1:] = below[1:] & above[:-1]
    return entries, exits


def forward(signals: np.ndarray) -> np.ndarray:
    """Signals moved one bar later (what vectorbt needs to trade a signal at the next bar's open)."""
    shifted = np.zeros_like(signals)
    shifted[1:] = signals[:-1]
    return shifted


@pytest.fixture(scope="module")
def sp500() -> dict[str, np.ndarray]:
    data = load_daily("sp500")
    entries, exits = crossovers(data["close"], 10, 50)
    return {**data, "entries": entries, "exits": exits}


def assert_same_backtest(ours: BacktestResult, theirs: Any) -> None:
    """Final equity, equity curve, and trade list equal to TOLERANCE (relative)."""
    value = np.asarray(theirs.value())
    final = value[-1]
    assert abs(ours.final_equity / final - 1.0) <= TOLERANCE, (ours.final_equity, final)
    np.testing.assert_allclose(ours.equity, value, rtol=TOLERANCE, atol=0)
    records = theirs.trades.records
    assert ours.trade_count == len(records) == theirs.trades.count()
    trades = ours.trades
    assert np.array_equal(trades.entry_bar, records["entry_idx"])
    assert np.array_equal(trades.exit_bar, records["exit_idx"])
    assert np.array_equal(trades.direction, np.where(records["direction"] == 0, 1, -1))
    assert np.array_equal(trades.is_open, records["status"] == 0)
    np.testing.assert_allclose(trades.size, records["size"], rtol=TOLERANCE)
    np.testing.assert_allclose(trades.entry_price, records["entry_price"], rtol=TOLERANCE)
    np.testing.assert_allclose(trades.exit_price, records["exit_price"], rtol=TOLERANCE)
    np.testing.assert_allclose(trades.pnl, records["pnl"], rtol=TOLERANCE, atol=TOLERANCE * INIT_CASH)


CASES = {
    # id: (trade2026 config, vectorbt arguments beyond VBT_SETTINGS)
    "long-only, fees 0.1%": (
        BacktestConfig(init_cash=INIT_CASH, fees_bps=10),
        {"fees": 0.001, "direction": "longonly"},
    ),
    "long-short (direction=both), fees 0.1%": (
        BacktestConfig(init_cash=INIT_CASH, fees_bps=10, direction="long_short"),
        {"fees": 0.001, "direction": "both"},
    ),
    "short-only, fees 0.1%": (
        BacktestConfig(init_cash=INIT_CASH, fees_bps=10, direction="short_only"),
        {"fees": 0.001, "direction": "shortonly"},
    ),
    "long-only, fees 0.1% + fixed 5 per order": (
        BacktestConfig(init_cash=INIT_CASH, fees_bps=10, fixed_fee=5.0),
        {"fees": 0.001, "fixed_fees": 5.0, "direction": "longonly"},
    ),
    "long-short, fixed fee 20 per order only": (
        BacktestConfig(init_cash=INIT_CASH, fixed_fee=20.0, direction="long_short"),
        {"fixed_fees": 20.0, "direction": "both"},
    ),
    "long-short, fees 0.1% + fixed 5 + slippage 5 bps": (
        BacktestConfig(
            init_cash=INIT_CASH, fees_bps=10, fixed_fee=5.0, slippage_bps=5, direction="long_short"
        ),
        {"fees": 0.001, "fixed_fees": 5.0, "slippage": 0.0005, "direction": "both"},
    ),
    "long-short, fixed 50 units (partial buys when cash is short)": (
        BacktestConfig(init_cash=INIT_CASH, fees_bps=10, direction="long_short", sizing=Sizing.units(50.0)),
        {"fees": 0.001, "direction": "both", "size": 50.0},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_close_fills_equal_vectorbt(sp500: dict[str, np.ndarray], case: str) -> None:
    # Given the S&P 500 closes, SMA(10/50) crossover signals and one cost/direction/sizing setting
    config, vbt_arguments = CASES[case]
    close = sp500["close"]
    # When both engines run the signals, filling at the signal bar's close
    ours = backtest_signals(close, sp500["entries"], sp500["exits"], config)
    theirs = vbt.Portfolio.from_signals(
        close, sp500["entries"], sp500["exits"], price=close, **{**VBT_SETTINGS, **vbt_arguments}
    )
    # Then final equity, the equity curve and the trade list agree
    assert_same_backtest(ours, theirs)
    assert ours.trade_count > 50


@pytest.mark.parametrize("direction", ["long_only", "long_short"])
def test_next_open_fills_equal_vectorbt_with_shifted_signals_and_open_prices(
    sp500: dict[str, np.ndarray], direction: Direction
) -> None:
    # Given signals at bar t that trade at the open of t + 1 (fees 0.1%)
    config = BacktestConfig(init_cash=INIT_CASH, fees_bps=10, fill="next_open", direction=direction)
    # When trade2026 runs them, and vectorbt runs them moved one bar later at price=open
    ours = backtest_signals(sp500["close"], sp500["entries"], sp500["exits"], config, open=sp500["open"])
    theirs = vbt.Portfolio.from_signals(
        sp500["close"],
        forward(sp500["entries"]),
        forward(sp500["exits"]),
        price=sp500["open"],
        fees=0.001,
        direction="longonly" if direction == "long_only" else "both",
        **VBT_SETTINGS,
    )
    # Then they agree, and every order of trade2026 filled at an open one bar after its signal
    assert_same_backtest(ours, theirs)
    signal_bars = np.flatnonzero(sp500["entries"] | sp500["exits"])
    assert np.isin(ours.orders.bar - 1, signal_bars).all()
    np.testing.assert_array_equal(ours.orders.price, sp500["open"][ours.orders.bar])


@pytest.mark.parametrize("direction", ["long_only", "long_short"])
def test_stops_on_high_low_equal_vectorbt(sp500: dict[str, np.ndarray], direction: Direction) -> None:
    # Given a 3% stop-loss and a 6% take-profit checked on the bars' open/high/low, slippage 5 bps
    config = BacktestConfig(
        init_cash=INIT_CASH, fees_bps=10, slippage_bps=5, direction=direction,
        stop_loss=0.03, take_profit=0.06,
    )  # fmt: skip
    bars = {name: sp500[name] for name in ("open", "high", "low")}
    # When both engines run the crossover signals with these stops
    ours = backtest_signals(sp500["close"], sp500["entries"], sp500["exits"], config, **bars)
    theirs = vbt.Portfolio.from_signals(
        sp500["close"], sp500["entries"], sp500["exits"], price=sp500["close"], fees=0.001, slippage=0.0005,
        direction="longonly" if direction == "long_only" else "both", sl_stop=0.03, tp_stop=0.06,
        **bars, **VBT_STOPS, **VBT_SETTINGS,
    )  # fmt: skip
    # Then they agree, and both kinds of stop actually fired
    assert_same_backtest(ours, theirs)
    reasons = ours.trades.exit_reason_names
    assert reasons.count("stop_loss") >= 5 and reasons.count("take_profit") >= 5
    assert (ours.orders.reason == EXIT_REASONS.index("stop_loss")).sum() == reasons.count("stop_loss")


def test_a_panel_of_twenty_stocks_equals_vectorbt_column_by_column() -> None:
    # Given 20 real stocks (T, 20) and each stock's own SMA(10/50) crossover signals
    data = load_daily("stocks20")
    symbols = list(dict.fromkeys(data["symbol"].tolist()))
    close = data["close"].reshape(len(symbols), -1).T
    assert all((data["date"][data["symbol"] == s] == data["date"][: close.shape[0]]).all() for s in symbols)
    entries, exits = crossovers(close, 10, 50)
    config = BacktestConfig(init_cash=INIT_CASH, fees_bps=10, fixed_fee=1.0, direction="long_short")
    # When both engines run the 20 columns in one call
    ours = backtest_signals(close, entries, exits, config)
    theirs = vbt.Portfolio.from_signals(
        close, entries, exits, price=close, fees=0.001, fixed_fees=1.0, direction="both", **VBT_SETTINGS
    )
    # Then every column's equity curve and trade count agree
    np.testing.assert_allclose(ours.equity, np.asarray(theirs.value()), rtol=TOLERANCE, atol=0)
    assert np.array_equal(ours.trade_count, np.asarray(theirs.trades.count()))


def test_a_batched_parameter_sweep_equals_vectorbt_column_vectorized(sp500: dict[str, np.ndarray]) -> None:
    # Given 12 (fast, slow) SMA pairs on the S&P 500 closes as (T, 12) signal columns
    pairs = [(fast, slow) for fast in (5, 10, 20) for slow in (50, 100, 150, 200)]
    signals = [crossovers(sp500["close"], fast, slow) for fast, slow in pairs]
    entries = np.column_stack([e for e, _ in signals])
    exits = np.column_stack([x for _, x in signals])
    # When trade2026 runs all of them in one call over the shared (T,) close
    ours = backtest_signals(sp500["close"], entries, exits, BacktestConfig(init_cash=INIT_CASH, fees_bps=10))
    theirs = vbt.Portfolio.from_signals(
        sp500["close"][:, None], entries, exits, price=sp500["close"][:, None], fees=0.001, **VBT_SETTINGS
    )
    # Then each column equals vectorbt's column (final equity and trade count)
    final = np.asarray(theirs.value())[-1]
    assert np.max(np.abs(ours.final_equity / final - 1.0)) <= TOLERANCE
    assert np.array_equal(ours.trade_count, np.asarray(theirs.trades.count()))
