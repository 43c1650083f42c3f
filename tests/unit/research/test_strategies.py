"""Built-in strategies: no look-ahead, signals equal straightforward loops, parameter validation messages."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import talib

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import strategies as st
from trade2026.domain.strategies import (
    STRATEGIES,
    Signals,
    describe_strategies,
    run_strategy,
    validate_params,
)


@pytest.fixture(scope="module")
def sp500() -> dict[str, np.ndarray]:
    return load_daily("sp500")


@pytest.fixture(scope="module")
def stocks() -> tuple[np.ndarray, np.ndarray]:
    """(dates, (T, 20) adjusted closes) of the 20-stock panel."""
    data = load_daily("stocks20")
    symbols = np.unique(data["symbol"])
    closes = np.column_stack([data["close"][data["symbol"] == symbol] for symbol in symbols])
    return data["date"][data["symbol"] == symbols[0]], closes


def signal_arrays(signals: Signals) -> dict[str, np.ndarray]:
    fields = ("entries", "exits", "target_weights", "rebalance")
    return {name: getattr(signals, name) for name in fields if getattr(signals, name) is not None}


# Parameters that make every strategy trade a lot on daily data (short windows) plus the defaults.
SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    ("ma_crossover", {"fast": 10, "slow": 50}),
    ("ma_crossover", {"fast": 5, "slow": 20, "ma": "ema"}),
    ("rsi_mean_reversion", {"period": 14, "lower": 30, "upper": 70}),
    ("rsi_mean_reversion", {"period": 2, "lower": 10, "upper": 90}),
    ("bollinger_breakout", {"period": 20, "k": 2.0}),
    ("bollinger_breakout", {"period": 10, "k": 1.0}),
    ("ts_momentum", {"lookback": 63, "rebalance": "daily", "long_short": True}),
    ("ts_momentum", {}),
    ("cross_sectional_momentum", {}),
    ("cross_sectional_momentum", {"lookback": 63, "skip": 5, "top_fraction": 0.25, "rebalance": "daily"}),
]


def scenario_prices(
    name: str, sp500: dict[str, np.ndarray], stocks: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    if STRATEGIES[name].needs_panel:
        return stocks
    return sp500["date"], sp500["close"]


@pytest.mark.parametrize(("name", "params"), SCENARIOS, ids=[f"{n}{p}" for n, p in SCENARIOS])
def test_changing_future_prices_never_changes_past_signals(
    sp500: dict[str, np.ndarray], stocks: tuple[np.ndarray, np.ndarray], name: str, params: dict[str, Any]
) -> None:
    # Given real prices and the strategy's signals on them
    dates, close = scenario_prices(name, sp500, stocks)
    original = signal_arrays(run_strategy(name, close, params, dates=dates))
    assert any(values.any() for values in original.values())  # it does signal something
    rng = np.random.default_rng(2026)
    for cut in rng.integers(len(close) // 4, len(close) - 1, size=6):
        # When every price after bar `cut` is replaced by a different random path (or cut off)
        shocked = close.copy()
        shocked[cut + 1 :] *= np.exp(np.cumsum(rng.normal(0, 0.05, shocked[cut + 1 :].shape), axis=0))
        changed = signal_arrays(run_strategy(name, shocked, params, dates=dates))
        truncated = signal_arrays(run_strategy(name, close[: cut + 1], params, dates=dates[: cut + 1]))
        # Then no signal at or before `cut` changes
        for field, values in original.items():
            np.testing.assert_array_equal(changed[field][: cut + 1], values[: cut + 1], err_msg=field)
            np.testing.assert_array_equal(truncated[field], values[: cut + 1], err_msg=field)


def naive_crossover(close: np.ndarray, fast: int, slow: int, ma: str) -> tuple[np.ndarray, np.ndarray]:
    """Crossover signals by a plain loop over bars, moving averages computed window by window."""

    def average(window: int) -> list[float | None]:
        if ma == "sma":
            return [
                None if t < window - 1 else float(np.mean(close[t - window + 1 : t + 1]))
                for t in range(len(close))
            ]
        values: list[float | None] = [None] * len(close)
        k, level = 2.0 / (window + 1), float(np.mean(close[:window]))
        values[window - 1] = level
        for t in range(window, len(close)):
            level = level + k * (close[t] - level)
            values[t] = level
        return values

    f, s = average(fast), average(slow)
    entries, exits = np.zeros(len(close), bool), np.zeros(len(close), bool)
    for t in range(1, len(close)):
        if None in (f[t], s[t], f[t - 1], s[t - 1]):
            continue
        entries[t] = f[t] > s[t] and f[t - 1] <= s[t - 1]
        exits[t] = f[t] < s[t] and f[t - 1] >= s[t - 1]
    return entries, exits


@pytest.mark.parametrize(("fast", "slow", "ma"), [(10, 50, "sma"), (20, 100, "sma"), (5, 20, "ema")])
def test_crossover_signals_equal_a_naive_loop(
    sp500: dict[str, np.ndarray], fast: int, slow: int, ma: str
) -> None:
    # Given S&P 500 closes
    close = sp500["close"]
    # When the crossover strategy and a bar-by-bar loop produce signals
    signals = st.ma_crossover(close, fast=fast, slow=slow, ma=ma)
    entries, exits = naive_crossover(close, fast, slow, ma)
    # Then they are the same bars, and entries alternate with exits
    assert signals.entries is not None and signals.exits is not None
    assert entries.sum() > 20
    np.testing.assert_array_equal(signals.entries, entries)
    np.testing.assert_array_equal(signals.exits, exits)
    events = np.where(entries, 1, 0) - np.where(exits, 1, 0)
    sequence = events[events != 0]
    assert (np.diff(sequence) != 0).all()


def test_crossover_on_a_panel_equals_each_column(stocks: tuple[np.ndarray, np.ndarray]) -> None:
    # Given the 20-stock panel
    _, closes = stocks
    # When the crossover runs on the panel and on single columns
    panel = st.ma_crossover(closes, fast=20, slow=100)
    # Then every column equals the single-asset run
    for column in (0, 7, 19):
        single = st.ma_crossover(closes[:, column], fast=20, slow=100)
        assert panel.entries is not None and single.entries is not None
        np.testing.assert_array_equal(panel.entries[:, column], single.entries)


def test_rsi_and_bollinger_signals_follow_their_talib_indicators(sp500: dict[str, np.ndarray]) -> None:
    # Given S&P 500 closes and TA-Lib's RSI and Bollinger Bands
    close = sp500["close"]
    rsi = talib.RSI(close, 14)
    upper, middle, _ = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    # When the two strategies run
    reversion = st.rsi_mean_reversion(close, period=14, lower=30, upper=70)
    breakout = st.bollinger_breakout(close, period=20, k=2.0)
    # Then their signals are the documented comparisons (NaN warm-up never signals)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(reversion.entries, rsi < 30)
        np.testing.assert_array_equal(reversion.exits, rsi > 70)
        np.testing.assert_array_equal(breakout.entries, close > upper)
        np.testing.assert_array_equal(breakout.exits, close < middle)


def test_ts_momentum_holds_the_sign_of_the_trailing_return_from_month_starts(
    sp500: dict[str, np.ndarray],
) -> None:
    # Given S&P 500 closes and dates
    close, dates = sp500["close"], sp500["date"]
    # When time-series momentum runs long/short with monthly rebalancing
    signals = st.ts_momentum(close, lookback=126, rebalance="monthly", long_short=True, dates=dates)
    assert signals.target_weights is not None and signals.rebalance is not None
    # Then a naive loop over bars gives the same targets: re-set on each month's first bar, held otherwise
    months = dates.astype("datetime64[M]")
    expected, current = np.zeros(len(close)), 0.0
    for t in range(len(close)):
        if t >= 126 and months[t] != months[t - 1]:
            current = 1.0 if close[t] / close[t - 126] - 1 > 0 else -1.0
        expected[t] = current
    np.testing.assert_array_equal(signals.target_weights, expected)
    first_of_month = np.r_[True, months[1:] != months[:-1]] & (np.arange(len(close)) >= 126)
    np.testing.assert_array_equal(signals.rebalance, first_of_month)


def test_cross_sectional_momentum_buys_the_top_decile_in_equal_weights(
    stocks: tuple[np.ndarray, np.ndarray],
) -> None:
    # Given the 20-stock panel
    dates, closes = stocks
    # When 12-1 momentum picks the top decile each month
    signals = st.cross_sectional_momentum(closes, lookback=252, skip=21, top_fraction=0.1, dates=dates)
    weights, rebalance = signals.target_weights, signals.rebalance
    assert weights is not None and rebalance is not None
    # Then at every rebalance bar it holds the 2 best 12-1 returns at 1/2 each, and nothing else changes
    assert rebalance.sum() > 300
    for t in np.flatnonzero(rebalance):
        score = closes[t - 21] / closes[t - 252] - 1
        best = set(np.argsort(-score, kind="stable")[:2])
        assert set(np.flatnonzero(weights[t])) == best
        np.testing.assert_array_equal(weights[t][list(best)], [0.5, 0.5])
    held = np.flatnonzero(rebalance)
    between = np.ones(len(weights), bool)
    between[held] = False
    between[: held[0]] = False
    np.testing.assert_array_equal(weights[between], weights[np.flatnonzero(between) - 1])
    assert (weights[: held[0]] == 0).all()


@pytest.mark.parametrize(
    ("name", "params", "n_bars", "message"),
    [
        ("buy_and_pray", {}, 500, r"unknown strategy 'buy_and_pray'; known: bollinger_breakout, "),
        ("ma_crossover", {"fast": 50, "slow": 20}, 500, r"fast \(50\) must be < slow \(20\) for ma_crossover"),
        ("ma_crossover", {"slow": 200}, 150, r"window longer than the data: ma_crossover with fast=10, slow=200 "
         r"needs at least 201 bars, the data has 150"),
        ("ts_momentum", {}, 252, r"window longer than the data: .* needs at least 253 bars, the data has 252"),
        ("ma_crossover", {"fast": "ten"}, 500, r"fast must be an integer; got 'ten'"),
        ("ma_crossover", {"fast": 10.5}, 500, r"fast must be an integer; got 10.5"),
        ("ma_crossover", {"fast": True}, 500, r"fast must be an integer; got True"),
        ("ma_crossover", {"ma": "hull"}, 500, r"ma must be one of sma, ema; got 'hull'"),
        ("ma_crossover", {"speed": 3}, 500, r"unknown parameter\(s\) for ma_crossover: speed; allowed: fast, slow, ma"),
        ("rsi_mean_reversion", {"lower": 75}, 500, r"lower \(75.0\) must be < upper \(70.0\)"),
        ("rsi_mean_reversion", {"upper": 120}, 500, r"upper must be <= 100; got 120"),
        ("rsi_mean_reversion", {"period": 1}, 500, r"period must be >= 2; got 1"),
        ("bollinger_breakout", {"k": float("nan")}, 500, r"k must be a finite number; got nan"),
        ("ts_momentum", {"long_short": "yes"}, 500, r"long_short must be true or false; got 'yes'"),
        ("cross_sectional_momentum", {"skip": 300}, 500, r"skip \(300\) must be < lookback \(252\)"),
        ("bollinger_breakout", {}, 0, r"no data: bollinger_breakout needs bars, the data has 0"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused_with_a_clear_reason(
    name: str, params: dict[str, Any], n_bars: int, message: str
) -> None:
    # Given a request for a strategy on n_bars of data
    # When its parameters are validated
    # Then a ValueError names the problem
    with pytest.raises(ValueError, match=message):
        validate_params(name, params, n_bars)


def test_cross_sectional_strategies_refuse_a_single_asset(sp500: dict[str, np.ndarray]) -> None:
    # Given one price series
    # When cross-sectional momentum is validated or run on it
    # Then it is refused: ranking needs at least two assets
    with pytest.raises(ValueError, match="needs at least 2; got 1"):
        validate_params("cross_sectional_momentum", {}, 5000, n_assets=1)
    with pytest.raises(ValueError, match="needs at least 2; got 1"):
        run_strategy("cross_sectional_momentum", sp500["close"], {}, dates=sp500["date"])


def test_monthly_rebalancing_without_dates_is_refused(sp500: dict[str, np.ndarray]) -> None:
    # Given closes without their dates
    # When time-series momentum with monthly rebalancing is run
    # Then it says it needs the dates
    with pytest.raises(ValueError, match="monthly rebalancing needs the bar dates"):
        run_strategy("ts_momentum", sp500["close"], {"rebalance": "monthly"})


def test_validation_fills_defaults_and_normalizes_json_numbers() -> None:
    # Given a JSON-style request (integral floats, ints for floats)
    # When it is validated
    values = validate_params("ma_crossover", {"fast": 20.0}, 1000)
    reversion = validate_params("rsi_mean_reversion", {"lower": 25}, 1000)
    # Then the defaults are filled in and the values carry the declared types
    assert values == {"fast": 20, "slow": 50, "ma": "sma"}
    assert isinstance(values["fast"], int)
    assert reversion == {"period": 14, "lower": 25.0, "upper": 70.0}
    assert isinstance(reversion["lower"], float)


def test_every_registered_strategy_runs_with_its_defaults(
    sp500: dict[str, np.ndarray], stocks: tuple[np.ndarray, np.ndarray]
) -> None:
    # Given each registry entry
    for name, spec in STRATEGIES.items():
        dates, close = scenario_prices(name, sp500, stocks)
        # When it runs with its defaults
        signals = run_strategy(name, close, None, dates=dates)
        # Then it produces the declared kind of output, shaped like the prices
        assert signals.kind == spec.output
        for values in signal_arrays(signals).values():
            assert values.shape[0] == len(close)
        n_assets = 1 if close.ndim == 1 else close.shape[1]
        assert validate_params(name, None, len(close), n_assets=n_assets) == spec.defaults()


def test_the_registry_describes_itself_as_json() -> None:
    # Given the registry
    # When it is described for an API listing
    described = json.loads(json.dumps(describe_strategies()))
    # Then every strategy is there with typed parameters, bounds and constraints
    by_name = {entry["name"]: entry for entry in described}
    assert set(by_name) == set(STRATEGIES)
    crossover = by_name["ma_crossover"]
    assert crossover["constraints"] == ["fast < slow"]
    assert crossover["params"][0] == {
        "name": "fast",
        "type": "integer",
        "default": 10,
        "minimum": 1,
        "maximum": 10000,
        "description": "fast moving-average window (bars)",
    }
    assert by_name["cross_sectional_momentum"]["needs_panel"] is True
    assert by_name["ts_momentum"]["output"] == "target_weights"


def test_rebalance_weights_leave_the_bars_between_rebalances_without_orders(
    stocks: tuple[np.ndarray, np.ndarray],
) -> None:
    # Given monthly cross-sectional momentum targets on the panel
    dates, closes = stocks
    signals = st.cross_sectional_momentum(closes, dates=dates)
    assert signals.target_weights is not None and signals.rebalance is not None
    # When they are turned into the engine's order form
    orders = signals.rebalance_weights()
    # Then rebalance rows carry the targets and every other row is NaN (no order)
    np.testing.assert_array_equal(orders[signals.rebalance], signals.target_weights[signals.rebalance])
    assert np.isnan(orders[~signals.rebalance]).all()
    with pytest.raises(ValueError, match="entries/exits, not target weights"):
        st.ma_crossover(closes[:, 0]).rebalance_weights()
