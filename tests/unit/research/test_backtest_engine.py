"""The backtest engine: hand-checked fills and costs, stops, sizing, target weights, no look-ahead.

Prices here are small hand-made series or a SEEDED synthetic random walk (stated per test); the oracle
comparison on real data is in test_backtest_vs_vectorbt.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from trade2026.domain.backtest import (
    EXIT_REASONS,
    BacktestConfig,
    BacktestConfigError,
    BacktestResult,
    Direction,
    Fill,
    Sizing,
    backtest_signals,
    backtest_weights,
    realized_volatility,
)

STOP_LOSS, TAKE_PROFIT, OPEN = (EXIT_REASONS.index(name) for name in ("stop_loss", "take_profit", "open"))


def flags(n: int, *bars: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(bars)] = True
    return out


def random_bars(n: int, seed: int, columns: int | None = None) -> dict[str, np.ndarray]:
    """SYNTHETIC OHLC: a seeded log random walk (1%/bar) with gaps and consistent high/low."""
    rng = np.random.default_rng(seed)
    shape = (n,) if columns is None else (n, columns)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, shape), axis=0))
    previous = np.concatenate([np.full((1, *shape[1:]), 100.0), close[:-1]])
    open_ = previous * np.exp(rng.normal(0.0, 0.004, shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.005, shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.005, shape)))
    return {"open": open_, "high": high, "low": low, "close": close}


def random_signals(
    n: int, seed: int, rate: float = 0.06, columns: int | None = None
) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    shape = (n,) if columns is None else (n, columns)
    return rng.random(shape) < rate, rng.random(shape) < rate


# ---------------------------------------------------------------------------- fills and costs by hand
def test_an_all_in_long_trade_matches_hand_arithmetic() -> None:
    # Given 5 closes, an entry on bar 0, an exit on bar 3, fees 10 bps + 1 per order, 1,000 cash
    close = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
    config = BacktestConfig(init_cash=1000.0, fees_bps=10, fixed_fee=1.0)
    # When backtested (fills at the close)
    result = backtest_signals(close, flags(5, 0), flags(5, 3), config)
    # Then the entry spends all cash, fees included, and the exit sells every unit at 11
    units = (1000.0 - 1.0) / 1.001 / 10.0
    entry_fees = units * 10.0 * 0.001 + 1.0
    cash_in_trade = 1000.0 - units * 10.0 - entry_fees
    exit_fees = units * 11.0 * 0.001 + 1.0
    final_cash = cash_in_trade + units * 11.0 - exit_fees
    expected_equity = [cash_in_trade + units * 10.0, cash_in_trade + units * 11.0, cash_in_trade + units * 12.0,
                       final_cash, final_cash]  # fmt: skip
    np.testing.assert_allclose(result.equity, expected_equity, rtol=1e-13)
    np.testing.assert_allclose(result.positions, [units, units, units, 0.0, 0.0], rtol=1e-13)
    assert abs(cash_in_trade) < 1e-9
    trades = result.trades
    assert len(trades) == 1 and trades.entry_bar[0] == 0 and trades.exit_bar[0] == 3
    assert trades.direction[0] == 1 and trades.exit_reason_names == ["signal"]
    np.testing.assert_allclose(trades.pnl[0], units * 1.0 - entry_fees - exit_fees, rtol=1e-12)
    np.testing.assert_allclose(trades.returns[0], trades.pnl[0] / (units * 10.0), rtol=1e-12)
    np.testing.assert_allclose(
        [trades.entry_fees[0], trades.exit_fees[0]], [entry_fees, exit_fees], rtol=1e-12
    )
    assert result.order_count == 2


def test_slippage_moves_both_fills_against_the_trader() -> None:
    # Given a long entry and exit with 20 bps slippage and no fees
    close = np.array([10.0, 10.0, 10.0])
    result = backtest_signals(
        close, flags(3, 0), flags(3, 2), BacktestConfig(init_cash=100.0, slippage_bps=20)
    )
    # Then the buy fills 20 bps above the close and the sell 20 bps below, and the round trip loses that
    np.testing.assert_allclose(result.orders.price, [10.0 * 1.002, 10.0 * 0.998], rtol=1e-15)
    np.testing.assert_allclose(result.final_equity, 100.0 * 0.998 / 1.002, rtol=1e-13)


def test_next_open_fills_trade_at_the_following_open_and_a_last_bar_signal_never_trades() -> None:
    # Given signals on bars 1 (entry) and 3 (exit) and an entry on the last bar 5
    close = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    open_ = close - 0.5
    config = BacktestConfig(init_cash=1000.0, fill="next_open")
    # When filled at the next open
    result = backtest_signals(close, flags(6, 1, 5), flags(6, 3), config, open=open_)
    # Then the entry fills at open[2], the exit at open[4], and bar 5's entry does nothing
    np.testing.assert_array_equal(result.orders.bar, [2, 4])
    np.testing.assert_array_equal(result.orders.price, [open_[2], open_[4]])
    np.testing.assert_allclose(result.final_equity, 1000.0 / open_[2] * open_[4], rtol=1e-13)
    # And the equity is marked at the closes in between
    np.testing.assert_allclose(result.equity[2], 1000.0 / open_[2] * close[2], rtol=1e-13)


def test_long_short_reverses_in_one_order_and_splits_its_fees_between_the_two_trades() -> None:
    # Given an exit (go short) on bar 1 and an entry (go long) on bar 3, fees 10 bps + 2 fixed
    close = np.array([10.0, 10.0, 9.0, 9.5, 10.5])
    config = BacktestConfig(init_cash=1000.0, fees_bps=10, fixed_fee=2.0, direction="long_short")
    # When backtested
    result = backtest_signals(close, flags(5, 3), flags(5, 1), config)
    # Then there are 2 orders (open short, reverse), the second trade is still open
    assert result.order_count == 2
    assert result.trades.direction.tolist() == [-1, 1]
    assert result.trades.exit_reason_names == ["signal", "open"]
    # And the reversal's fees are split by units between the closed short and the new long
    reversal = 1
    short_units, reversal_units = -result.orders.size[0], result.orders.size[reversal]
    closed_share = short_units / reversal_units
    np.testing.assert_allclose(
        result.trades.exit_fees[0], result.orders.fees[reversal] * closed_share, rtol=1e-12
    )
    np.testing.assert_allclose(
        result.trades.entry_fees[1], result.orders.fees[reversal] * (1 - closed_share), rtol=1e-12
    )


def test_an_entry_and_an_exit_on_the_same_bar_cancel() -> None:
    # Given entry and exit both on bar 1
    close = np.array([10.0, 11.0, 12.0])
    # When backtested in each direction
    directions: tuple[Direction, ...] = ("long_only", "long_short", "short_only")
    for direction in directions:
        result = backtest_signals(close, flags(3, 1), flags(3, 1), BacktestConfig(direction=direction))
        # Then nothing trades
        assert result.order_count == 0 and (result.equity == 100_000.0).all()


# ---------------------------------------------------------------------------- no look-ahead
LOOKAHEAD_CONFIGS = {
    "close fills, long-only": BacktestConfig(fees_bps=10),
    "close fills, long-short, stops": BacktestConfig(
        fees_bps=10, fixed_fee=1.0, slippage_bps=3, direction="long_short", stop_loss=0.02, take_profit=0.03
    ),
    "next-open fills, long-short, stops": BacktestConfig(
        fees_bps=10, direction="long_short", fill="next_open", stop_loss=0.02, take_profit=0.03
    ),
    "next-open, close-triggered stops": BacktestConfig(
        direction="short_only", fill="next_open", stop_loss=0.02, stop_trigger="close"
    ),
    "vol target sizing, leverage 2": BacktestConfig(
        direction="long_short", sizing=Sizing.vol_target(0.2, window=10, max_leverage=2.0)
    ),
    "fixed units": BacktestConfig(sizing=Sizing.units(5.0), direction="long_short"),
}


@pytest.mark.parametrize("name", list(LOOKAHEAD_CONFIGS))
def test_perturbing_the_future_never_changes_the_past(name: str) -> None:
    # Given SYNTHETIC bars and signals, and a copy whose prices and signals after bar k are re-drawn
    config, n, k = LOOKAHEAD_CONFIGS[name], 400, 250
    bars, (entries, exits) = random_bars(n, seed=1), random_signals(n, seed=2)
    future_bars, (future_entries, future_exits) = random_bars(n, seed=3), random_signals(n, seed=4)
    scale = bars["close"][k] / future_bars["open"][k + 1] * 1.07  # the future continues with a 7% gap
    changed = {
        name: np.concatenate([bars[name][: k + 1], future_bars[name][k + 1 :] * scale]) for name in bars
    }
    changed_entries = np.concatenate([entries[: k + 1], future_entries[k + 1 :]])
    changed_exits = np.concatenate([exits[: k + 1], future_exits[k + 1 :]])
    # When both are backtested
    original = backtest_signals(bars["close"], entries, exits, config, **_ohlc(bars))
    perturbed = backtest_signals(changed["close"], changed_entries, changed_exits, config, **_ohlc(changed))
    # Then everything up to bar k is identical (and the futures did differ afterwards)
    for series in ("equity", "cash", "positions"):
        np.testing.assert_array_equal(getattr(original, series)[: k + 1], getattr(perturbed, series)[: k + 1])
    before = original.orders.bar <= k
    assert before.sum() == (perturbed.orders.bar <= k).sum() > 3
    np.testing.assert_array_equal(original.orders.price[before], perturbed.orders.price[: before.sum()])
    assert not np.array_equal(original.equity[k + 1 :], perturbed.equity[k + 1 :])


def _ohlc(bars: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: bars[name] for name in ("open", "high", "low")}


def test_no_order_ever_fills_before_its_signal_bar() -> None:
    # Given sparse SYNTHETIC signals, long-short, with both fill timings
    bars, (entries, exits) = random_bars(300, seed=5), random_signals(300, seed=6, rate=0.05)
    signal_bars = np.flatnonzero(entries | exits)
    timings: tuple[tuple[Fill, int], ...] = (("close", 0), ("next_open", 1))
    for fill, lag in timings:
        config = BacktestConfig(direction="long_short", fill=fill)
        result = backtest_signals(bars["close"], entries, exits, config, open=bars["open"])
        # Then every order sits exactly `lag` bars after a signal bar (none earlier)
        assert np.isin(result.orders.bar - lag, signal_bars).all() and result.order_count > 5


# ---------------------------------------------------------------------------- stops
def _stop_bars(bar1: tuple[float, float, float, float]) -> dict[str, np.ndarray]:
    """Bar 0 closes at 100 (the entry); bar 1 = (open, high, low, close); bar 2 closes flat."""
    o, h, low, c = bar1
    return {
        "open": np.array([100.0, o, c]),
        "high": np.array([100.0, h, c]),
        "low": np.array([100.0, low, c]),
        "close": np.array([100.0, c, c]),
    }


@pytest.mark.parametrize(
    ("bar1", "side", "fills_at", "expected_reason"),
    [
        ((99.0, 100.0, 94.0, 96.0), 1, 0.95, STOP_LOSS),  # long: the low reaches the 5% stop -> the level
        ((90.0, 92.0, 89.0, 91.0), 1, "open", STOP_LOSS),  # long: opens through it -> the (worse) open
        ((101.0, 111.0, 100.0, 105.0), 1, 1.10, TAKE_PROFIT),  # long: the high reaches +10% -> the level
        ((112.0, 113.0, 111.0, 112.0), 1, "open", TAKE_PROFIT),  # long: gaps above it -> the (better) open
        ((100.0, 111.0, 94.0, 100.0), 1, 0.95, STOP_LOSS),  # long: both touched -> the stop-loss is assumed
        ((101.0, 106.0, 99.0, 103.0), -1, 1.05, STOP_LOSS),  # short: the high reaches +5% -> the level
        ((99.0, 100.0, 89.0, 92.0), -1, 0.90, TAKE_PROFIT),  # short: the low reaches -10% -> the level
    ],
)
def test_stops_fill_at_the_level_or_at_a_gapping_open(
    bar1: tuple[float, float, float, float], side: int, fills_at: float | str, expected_reason: int
) -> None:
    # Given an entry at the close of bar 0 (100), a 5% stop-loss, a 10% take-profit, slippage 10 bps
    bars = _stop_bars(bar1)
    direction: Direction = "long_only" if side > 0 else "short_only"
    config = BacktestConfig(direction=direction, stop_loss=0.05, take_profit=0.10, slippage_bps=10)
    # When bar 1 trades through the range given
    result = backtest_signals(bars["close"], flags(3, 0), flags(3), config, **_ohlc(bars))
    # Then the position is closed on bar 1 at the level (relative to the slipped entry fill) or at the
    # open, itself slipped against the trader
    entry_fill = 100.0 * (1 + side * 0.001)
    raw = bar1[0] if fills_at == "open" else entry_fill * float(fills_at)
    assert result.orders.bar.tolist() == [0, 1]
    np.testing.assert_allclose(result.orders.price[1], raw * (1 - side * 0.001), rtol=1e-12)
    assert result.trades.exit_reason[0] == expected_reason and result.positions[1] == 0.0


def test_a_stop_never_fires_on_the_entry_bar() -> None:
    # Given a next-open entry on bar 1 whose own bar falls 20% below the 5% stop, then a quiet bar 2
    bars = {
        "open": np.array([100.0, 100.0, 90.0]),
        "high": np.array([100.0, 100.0, 90.0]),
        "low": np.array([100.0, 80.0, 90.0]),
        "close": np.array([100.0, 90.0, 90.0]),
    }
    config = BacktestConfig(fill="next_open", stop_loss=0.05)
    # When the signal on bar 0 fills at bar 1's open
    result = backtest_signals(bars["close"], flags(3, 0), flags(3), config, **_ohlc(bars))
    # Then the stop is only checked from bar 2 on (which opens below it: filled at that open)
    assert result.orders.bar.tolist() == [1, 2]
    assert result.orders.price[1] == 90.0 and result.trades.exit_reason[0] == STOP_LOSS


def test_a_close_trigger_ignores_the_intrabar_low_and_a_stop_bar_ignores_its_signal() -> None:
    # Given a long from bar 0; bar 1 dips to 90 intrabar but closes at 97; bar 2 closes at 94 (below 95)
    close = np.array([100.0, 97.0, 94.0, 94.0])
    low = np.array([100.0, 90.0, 94.0, 94.0])
    config = BacktestConfig(stop_loss=0.05, stop_trigger="close")
    # When an entry signal also shows up on bar 2
    result = backtest_signals(close, flags(4, 0, 2), flags(4), config, open=close, high=close, low=low)
    # Then the stop closes at bar 2's close, and that bar's entry signal is not taken
    assert result.orders.bar.tolist() == [0, 2] and result.orders.price[1] == 94.0
    assert result.trades.exit_reason[0] == STOP_LOSS and result.positions[-1] == 0.0


# ---------------------------------------------------------------------------- sizing
def test_fixed_units_buy_is_cut_to_the_cash_available() -> None:
    # Given 1,000 cash, a price of 10 and 200 units asked (2,000 of stock), fees 10 bps + 1
    close = np.full(3, 10.0)
    config = BacktestConfig(init_cash=1000.0, fees_bps=10, fixed_fee=1.0, sizing=Sizing.units(200.0))
    # When the entry fills
    result = backtest_signals(close, flags(3, 0), flags(3), config)
    # Then it buys what 1,000 pays for, fees included; 50 units would be bought whole
    np.testing.assert_allclose(result.positions[0], (1000.0 - 1.0) / 1.001 / 10.0, rtol=1e-13)
    small = backtest_signals(
        close, flags(3, 0), flags(3), BacktestConfig(init_cash=1000.0, sizing=Sizing.units(50.0))
    )
    assert small.positions[0] == 50.0


def test_a_fraction_of_equity_commits_that_share_fees_included() -> None:
    # Given 40% of equity per entry, fees 10 bps + 3 fixed, after a first profitable round trip
    close = np.array([10.0, 12.0, 12.0, 15.0])
    config = BacktestConfig(init_cash=1000.0, fees_bps=10, fixed_fee=3.0, sizing=Sizing.fraction(0.4))
    # When two trades run (entries on bars 0 and 2, exit on bar 1)
    result = backtest_signals(close, flags(4, 0, 2), flags(4, 1), config)
    # Then each entry's notional is (0.4 * equity - fixed) / (1 + fee) of the equity at that fill
    for order, equity_before in ((0, 1000.0), (2, result.equity[1])):
        notional = result.orders.size[order] * result.orders.price[order]
        np.testing.assert_allclose(notional, (0.4 * equity_before - 3.0) / 1.001, rtol=1e-13)


def test_volatility_target_sizes_each_entry_from_the_trailing_realized_volatility() -> None:
    # Given SYNTHETIC closes, a 15% annual target over a 20-bar window and entries on bars 10, 60, 160
    n, window, target = 200, 20, 0.15
    close = random_bars(n, seed=7)["close"]
    expected_vol = _numpy_vol(close, window, 252.0)
    for max_leverage in (0.5, 3.0):
        config = BacktestConfig(fees_bps=10, sizing=Sizing.vol_target(target, window, max_leverage))
        # When backtested (each trade exits a bar later)
        result = backtest_signals(close, flags(n, 10, 60, 160), flags(n, 11, 61, 161), config)
        # Then no entry happens during the warm-up (bar 10), and the others commit min(cap, 15% / vol)
        assert result.orders.bar.tolist() == [60, 61, 160, 161]
        for order in (0, 2):
            bar = result.orders.bar[order]
            fraction = min(max_leverage, target / expected_vol[bar])
            notional = result.orders.size[order] * result.orders.price[order]
            np.testing.assert_allclose(notional, fraction * result.equity[bar - 1] / 1.001, rtol=1e-9)


def _numpy_vol(close: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    returns = np.log(close[1:] / close[:-1])
    out = np.full(len(close), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(returns, window)
    out[window:] = windows.std(axis=1, ddof=1) * math.sqrt(periods_per_year)
    return out


def test_realized_volatility_equals_a_numpy_rolling_std_with_nan_warm_up() -> None:
    # Given SYNTHETIC closes of 3 assets
    close = random_bars(500, seed=8, columns=3)["close"]
    # When the engine's realized volatility is computed
    vol = realized_volatility(close, window=30, periods_per_year=365.0)
    # Then it is NaN for exactly 30 bars and equals the sliding-window std afterwards
    for column in range(3):
        expected = _numpy_vol(close[:, column], 30, 365.0)
        assert np.isnan(vol[:30, column]).all() and not np.isnan(vol[30:, column]).any()
        np.testing.assert_allclose(vol[30:, column], expected[30:], rtol=1e-9)


# ---------------------------------------------------------------------------- columns and accounting
def test_a_batched_call_equals_one_call_per_column_including_per_column_settings() -> None:
    # Given 5 signal columns over one SYNTHETIC asset, with a different stop and fee per column
    bars, (entries, exits) = random_bars(300, seed=9), random_signals(300, seed=10, columns=5)
    stops, fees = [0.01, 0.02, 0.03, 0.05, 0.08], [0.0, 5.0, 10.0, 20.0, 1.0]
    batched_config = BacktestConfig(direction="long_short", stop_loss=stops, fees_bps=fees)
    # When run in one call and column by column
    batched = backtest_signals(bars["close"], entries, exits, batched_config, **_ohlc(bars))
    # Then each column equals its own run exactly
    for column in range(5):
        alone_config = BacktestConfig(direction="long_short", stop_loss=stops[column], fees_bps=fees[column])
        alone = backtest_signals(
            bars["close"], entries[:, column], exits[:, column], alone_config, **_ohlc(bars)
        )
        np.testing.assert_array_equal(batched.equity[:, column], alone.equity)
        np.testing.assert_array_equal(batched.positions[:, column], alone.positions)
        assert batched.trades.for_column(column).pnl.tolist() == alone.trades.pnl.tolist()
    assert np.asarray(batched.order_count).tolist() == [np.sum(batched.orders.column == c) for c in range(5)]


ACCOUNTING_CONFIGS = [
    BacktestConfig(fees_bps=10, fixed_fee=2.0),
    BacktestConfig(fees_bps=5, slippage_bps=5, direction="long_short", stop_loss=0.02, take_profit=0.04),
    BacktestConfig(fixed_fee=1.0, direction="short_only", fill="next_open", sizing=Sizing.fraction(0.7)),
]


@pytest.mark.parametrize("config", ACCOUNTING_CONFIGS)
def test_cash_trades_and_equity_reconcile(config: BacktestConfig) -> None:
    # Given SYNTHETIC bars and signals
    bars, (entries, exits) = random_bars(500, seed=11), random_signals(500, seed=12)
    # When backtested
    result = backtest_signals(bars["close"], entries, exits, config, **_ohlc(bars))
    orders, trades = result.orders, result.trades
    # Then cash = initial cash - what orders paid (fees included); equity = cash + position at the close
    np.testing.assert_allclose(
        result.cash[-1], config.init_cash - np.sum(orders.size * orders.price) - orders.fees.sum()
    )
    np.testing.assert_allclose(result.equity, result.cash + result.positions * bars["close"], rtol=1e-12)
    # And the trades' pnl adds up to the profit, their fees to the orders' fees
    np.testing.assert_allclose(trades.pnl.sum(), result.final_equity - config.init_cash, rtol=1e-9)
    np.testing.assert_allclose(
        trades.entry_fees.sum() + trades.exit_fees.sum(), orders.fees.sum(), rtol=1e-12
    )
    assert len(trades) > 5 and (trades.exit_bar >= trades.entry_bar).all()


def test_derived_series_follow_their_definitions() -> None:
    # Given an all-in long from bar 1, reversed to short on bar 3 (long-short), fees 10 bps
    close = np.array([10.0, 10.0, 11.0, 12.0, 12.0, 11.0])
    result = backtest_signals(
        close, flags(6, 1), flags(6, 3), BacktestConfig(fees_bps=10, direction="long_short")
    )
    # Then returns chain the equity from init_cash, exposure is |position value| / equity
    np.testing.assert_allclose(np.cumprod(1 + result.returns) * 100_000.0, result.equity, rtol=1e-13)
    np.testing.assert_allclose(result.exposure[:3], [0.0, 1.0, 1.0], rtol=1e-12)
    assert result.net_exposure[2] > 0.99 and result.net_exposure[3] < -0.99 and result.net_exposure[5] < 0
    # And turnover is the notional traded over the previous equity (a reversal trades about twice)
    np.testing.assert_allclose(result.turnover[1], 1 / 1.001, rtol=1e-12)
    reversal = abs(result.orders.size[1]) * result.orders.price[1]
    np.testing.assert_allclose(result.turnover[3], reversal / result.equity[2], rtol=1e-12)
    assert result.turnover[3] > 2.0 and result.turnover[0] == result.turnover[2] == 0.0


# ---------------------------------------------------------------------------- target weights
def test_weights_of_one_and_zero_equal_the_all_in_signals() -> None:
    # Given SYNTHETIC closes and random signals turned into weights 1 (entry) / 0 (exit) / NaN (hold)
    close = random_bars(400, seed=13)["close"]
    entries, exits = random_signals(400, seed=14)
    weights = np.where(entries & ~exits, 1.0, np.where(exits & ~entries, 0.0, np.nan))
    config = BacktestConfig(fees_bps=10, fixed_fee=2.0, slippage_bps=4)
    # When backtested both ways
    by_signals = backtest_signals(close, entries, exits, config)
    by_weights = backtest_weights(close, weights, config)
    # Then they are the same backtest
    np.testing.assert_allclose(by_weights.equity, by_signals.equity, rtol=1e-11)
    np.testing.assert_allclose(by_weights.positions, by_signals.positions, rtol=1e-11)
    assert (
        by_weights.order_count == by_signals.order_count and by_weights.trade_count == by_signals.trade_count
    )


def test_rebalancing_reaches_the_target_weights_after_costs() -> None:
    # Given 4 SYNTHETIC assets, long-short weights every 21 bars (NaN between), fees and slippage
    n = 252
    bars = random_bars(n, seed=15, columns=4)
    rng = np.random.default_rng(16)
    weights = np.full((n, 4), np.nan)
    rebalance_bars = np.arange(0, n, 21)
    weights[rebalance_bars] = rng.uniform(-0.6, 0.6, (len(rebalance_bars), 4))
    config = BacktestConfig(fees_bps=10, fixed_fee=5.0, slippage_bps=5, direction="long_short")
    timings: tuple[tuple[Fill, int, np.ndarray], ...] = (
        ("close", 0, bars["close"]),
        ("next_open", 1, bars["open"]),
    )
    for fill, lag, prices in timings:
        # When backtested with this fill timing
        result = backtest_weights(bars["close"], weights, replace(config, fill=fill), open=bars["open"])
        # Then orders happen only on rebalance bars, and right after each fill the weights equal the targets
        assert set(result.orders.bar.tolist()) <= set((rebalance_bars + lag).tolist())
        for bar in rebalance_bars[:-1] + lag:
            post_equity = result.cash[bar] + np.sum(result.positions[bar] * prices[bar])
            held = result.positions[bar] * prices[bar] / post_equity
            np.testing.assert_allclose(held, weights[bar - lag], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            result.equity, result.cash + (result.positions * bars["close"]).sum(axis=1)
        )
        np.testing.assert_allclose(result.trades.pnl.sum(), result.final_equity - config.init_cash, rtol=1e-9)


def test_weights_respect_the_direction_and_allow_leverage() -> None:
    # Given a 150% long weight on one asset
    close = np.array([10.0, 11.0, 12.0])
    result = backtest_weights(close, np.array([1.5, np.nan, np.nan]), BacktestConfig(init_cash=1000.0))
    # Then cash is borrowed (negative) and the gross exposure is 1.5 after the fill
    assert result.cash[0] == pytest.approx(-500.0) and result.exposure[0] == pytest.approx(1.5)
    # And a negative weight is refused unless shorts are allowed
    with pytest.raises(BacktestConfigError, match="negative weights"):
        backtest_weights(close, np.array([-0.5, np.nan, np.nan]))
    short = backtest_weights(close, np.array([-0.5, np.nan, 0.0]), BacktestConfig(direction="long_short"))
    assert short.trades.direction.tolist() == [-1] and short.trades.exit_bar.tolist() == [2]


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BacktestConfig(fees_bps=-1), "fees_bps must be >= 0"),
        (lambda: BacktestConfig(fixed_fee=[1.0, -2.0]), "fixed_fee must be >= 0"),
        (lambda: BacktestConfig(stop_loss=0.0), "stop_loss must be > 0"),
        (lambda: BacktestConfig(direction="sideways"), "direction must be one of"),  # type: ignore[arg-type]
        (lambda: BacktestConfig(fill="tomorrow"), "fill must be one of"),  # type: ignore[arg-type]
        (lambda: BacktestConfig(init_cash=0.0), "init_cash must be a positive"),
        (lambda: BacktestConfig(sizing=Sizing.vol_target(0.1, window=1)), "vol_window"),
        (lambda: backtest_signals(np.ones(5), np.ones(5), np.zeros(5, bool)), "entries must be booleans"),
        (lambda: backtest_signals(np.ones(5), np.ones(4, bool), np.zeros(5, bool)), r"must be \(T,\)"),
        (lambda: backtest_signals(np.ones((5, 2)), np.ones((5, 3), bool), np.zeros(5, bool)), "do not broadcast"),
        (lambda: backtest_signals(np.ones(5), np.ones(5, bool), np.zeros(5, bool), BacktestConfig(fill="next_open")),
         "needs the open"),
        (lambda: backtest_signals(np.ones(5), np.ones((5, 2), bool), np.zeros(5, bool),
                                  BacktestConfig(fees_bps=[1, 2, 3])), "do not broadcast"),
        (lambda: backtest_weights(np.ones(5), np.ones(5), BacktestConfig(stop_loss=0.1)), "apply to signals"),
        (lambda: backtest_weights(np.ones((5, 2)), np.ones(5)), "must have the shape of close"),
    ],
)  # fmt: skip
def test_bad_settings_and_inputs_raise_a_config_error_saying_why(
    make: Callable[[], object], message: str
) -> None:
    # Given an invalid setting or input / When used / Then a BacktestConfigError (a ValueError) names it
    with pytest.raises(BacktestConfigError, match=message):
        make()
    assert issubclass(BacktestConfigError, ValueError)


def test_results_have_one_dimension_for_one_asset_and_two_for_columns() -> None:
    # Given the same data as (T,) and as (T, 1)
    close = np.array([10.0, 11.0, 12.0])
    one = backtest_signals(close, flags(3, 0), flags(3))
    two = backtest_signals(close[:, None], flags(3, 0)[:, None], flags(3)[:, None])
    # Then the shapes follow the input and the numbers are the same
    assert isinstance(one, BacktestResult) and one.equity.shape == (3,) and two.equity.shape == (3, 1)
    np.testing.assert_array_equal(one.equity, two.equity[:, 0])
    assert one.trades.exit_reason.tolist() == [OPEN] and isinstance(one.final_equity, float)
