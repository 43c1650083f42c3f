"""Vectorized backtest engine: signals or target weights -> orders, positions, equity, trades.

Two entry points, both compiled loops (numba, cached on disk) behind a thin numpy layer:

- ``backtest_signals(close, entries, exits, config)`` - boolean entry/exit signals, one asset ``(T,)`` or
  ``(T, N)`` columns. Columns are INDEPENDENT backtests, each starting with ``init_cash``: N assets, or
  the batched form of a parameter sweep (one close ``(T,)`` shared by P signal columns ``(T, P)``;
  per-column fees/stops/sizes may be given as sequences in the config). One call runs them all.
- ``backtest_weights(close, weights, config)`` - target weights, one portfolio of N assets sharing cash.

Timing - no look-ahead by construction:

- ``fill="close"``: a signal (or weight) on bar ``t`` trades at the close of ``t``;
  ``fill="next_open"``: at the open of ``t + 1``. No order ever uses a price of a bar before the one whose
  close completed the signal, and nothing a bar after ``t`` can change what happened up to ``t``
  (tests perturb the future and check the past is unchanged). Equity is marked at each bar's close
  (the last known close when a bar's close is NaN). A bar whose fill price is NaN or <= 0 trades nothing.
- At most one order per column per bar. With ``"close"`` fills a stop touched during the bar wins and
  that bar's signal is ignored (as in vectorbt). With ``"next_open"`` fills the order decided at the
  previous close executes first at the open (it is earlier in time); a stop can then only fire on a bar
  without such an order.

Stops (signals only): ``stop_loss``/``take_profit`` are fractions of the entry FILL price (after slippage).
They rest from the bar AFTER the entry bar on. ``stop_trigger="high_low"``: checked against each bar's
open/high/low; a bar that opens through the level fills at the OPEN (a gap: worse than a stop-loss level,
better than a take-profit level), a level inside [low, high] fills at the level; the stop-loss is checked
first (if both were touched in one bar, the worse outcome is assumed); slippage applies to the stop's fill
(a stop becomes a market order). Without open/high/low the bar's range is its close.
``stop_trigger="close"``: the close crossing the level acts as an exit signal on that bar, filled like any
signal. A stop exit closes the position only.

Signals: an entry and an exit on the same bar cancel. ``long_only``: entry opens long, exit closes;
``short_only``: entry opens short, exit covers; ``long_short``: entry goes long and exit goes short,
reversing an opposite position in ONE order (one fixed fee). Entries while positioned are ignored (no
pyramiding).

Equivalence with vectorbt 1.2.0 (checked by tests/unit/research/test_backtest_vs_vectorbt.py):
``backtest_signals(close, e, x, BacktestConfig(init_cash=C, fees_bps=f * 1e4, fixed_fee=F,
slippage_bps=s * 1e4, direction=D))`` with the default all-in sizing equals
``vbt.Portfolio.from_signals(close, e, x, init_cash=C, fees=f, fixed_fees=F, slippage=s, size=np.inf,
size_type="amount", direction=D without "_" ("longonly", "both", "shortonly"), min_size=0,
accumulate=False, lock_cash=False, allow_partial=True, upon_long_conflict="ignore",
upon_short_conflict="ignore", upon_dir_conflict="ignore", upon_opposite_entry="reversereduce")``.
Next-open fills = vectorbt with the signals shifted one bar forward and ``price=open``; ``Sizing.units(u)``
= ``size=u``; stops = ``sl_stop``/``tp_stop`` with ``open``/``high``/``low``,
``stop_entry_price="fillprice"``, ``stop_exit_price="stopmarket"``, ``upon_stop_exit="close"``.

Costs: the result's equity is net of every fee and of slippage. No interest is paid on cash or charged
on borrowed cash/short positions. Metrics (Sharpe, drawdowns...) are computed elsewhere from
``equity``/``returns``/``trades``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from trade2026.domain.backtest import kernels as k
from trade2026.domain.backtest.config import (
    DIRECTION_CODES,
    FILL_CODES,
    SIZING_CODES,
    TRIGGER_CODES,
    BacktestConfig,
    BacktestConfigError,
    per_column_lengths,
)
from trade2026.domain.backtest.trades import Orders, Trades

FloatArray = npt.NDArray[np.float64]
_DEFAULT_CONFIG: Final = BacktestConfig()
_NO_VOL: Final = np.full((1, 1), np.nan)


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What a backtest produced. Arrays are ``(T,)`` for one asset/column, else ``(T, N)``;
    for target weights ``equity``/``cash`` are ``(T,)`` (one portfolio) and ``positions`` per asset.

    ``equity`` = cash + positions marked at the close, after all costs; ``positions`` in units (negative =
    short). Derived series are computed on access: ``returns``, ``exposure``, ``net_exposure``, ``turnover``.
    """

    kind: Literal["signals", "weights"]
    init_cash: float
    equity: FloatArray
    cash: FloatArray
    positions: FloatArray
    trades: Trades
    orders: Orders
    gross_value: FloatArray | None = None  # target weights: sum of |position value| per bar

    @property
    def columns(self) -> int:
        return 1 if self.equity.ndim == 1 else self.equity.shape[1]

    @property
    def final_equity(self) -> FloatArray | float:
        return float(self.equity[-1]) if self.equity.ndim == 1 else self.equity[-1].copy()

    @property
    def returns(self) -> FloatArray:
        """Simple return of each bar: ``equity[t] / equity[t-1] - 1`` (``init_cash`` before bar 0)."""
        previous = np.concatenate([np.full((1, *self.equity.shape[1:]), self.init_cash), self.equity[:-1]])
        return self.equity / previous - 1.0

    @property
    def exposure(self) -> FloatArray:
        """Gross exposure: |value of positions| / equity at each close (1.0 = fully invested)."""
        gross = self.gross_value if self.gross_value is not None else np.abs(self.equity - self.cash)
        return gross / self.equity

    @property
    def net_exposure(self) -> FloatArray:
        """Signed value of positions / equity (negative when net short)."""
        return (self.equity - self.cash) / self.equity

    @property
    def turnover(self) -> FloatArray:
        """Traded notional of each bar (at fill prices) / equity at the previous close (``init_cash`` at 0)."""
        traded = np.zeros((len(self.equity), 1 if self.kind == "weights" else self.columns))
        column = np.zeros(len(self.orders), dtype=np.int64) if self.kind == "weights" else self.orders.column
        np.add.at(traded, (self.orders.bar, column), np.abs(self.orders.size) * self.orders.price)
        previous = np.concatenate([np.full((1, *self.equity.shape[1:]), self.init_cash), self.equity[:-1]])
        return traded.reshape(previous.shape) / previous

    @property
    def order_count(self) -> npt.NDArray[np.int64] | int:
        """Filled orders per column (an int for one column / one portfolio)."""
        if self.kind == "weights" or self.equity.ndim == 1:
            return len(self.orders)
        return self.orders.count(self.columns)

    @property
    def trade_count(self) -> npt.NDArray[np.int64] | int:
        """Trades per column, the one still open at the end included (an int for one column/portfolio)."""
        if self.kind == "weights" or self.equity.ndim == 1:
            return len(self.trades)
        return self.trades.count(self.columns)


# ---------------------------------------------------------------------------- signals
def backtest_signals(
    close: npt.ArrayLike,
    entries: npt.ArrayLike,
    exits: npt.ArrayLike,
    config: BacktestConfig = _DEFAULT_CONFIG,
    *,
    open: npt.ArrayLike | None = None,
    high: npt.ArrayLike | None = None,
    low: npt.ArrayLike | None = None,
) -> BacktestResult:
    """Backtest entry/exit signals (booleans) on ``close`` ``(T,)`` or ``(T, N)``; see the module docstring.

    ``entries``/``exits``/``close`` broadcast along columns (one column is shared by all). ``open`` is
    required for ``fill="next_open"``; ``open``/``high``/``low`` (same shape as ``close``) let stops see
    the bar's range (missing high/low = max/min of open and close, as in vectorbt). The ``(T, N)`` outputs
    are column-major (``equity[:, j]`` is contiguous).
    """
    close_cm = _column_major("close", close, np.float64)
    n_bars = close_cm.shape[1]
    entries_cm = _column_major("entries", entries, np.bool_, n_bars)
    exits_cm = _column_major("exits", exits, np.bool_, n_bars)
    n_columns = _column_count(config, close_cm, entries_cm, exits_cm)
    values = config.column_values(n_columns)
    open_cm, high_cm, low_cm = _bar_range(config, close, close_cm, open, high, low)
    vol = _NO_VOL if config.sizing.kind != "vol_target" else _realized_vol(config, close_cm)
    equity, cash, positions = (np.empty((n_columns, n_bars)) for _ in range(3))
    signal_count = _signal_count(entries_cm, n_columns) + _signal_count(exits_cm, n_columns)
    orders = np.empty((2 * signal_count + 1, k.ORDER_FIELDS))
    trades = np.empty((signal_count + 1, k.TRADE_FIELDS))
    n_orders, n_trades = k.run_signals(
        close_cm, open_cm, high_cm, low_cm, entries_cm, exits_cm, vol,
        values.fee_rate, values.fixed_fee, values.slippage, values.stop_loss, values.take_profit,
        values.size_value, DIRECTION_CODES[config.direction], FILL_CODES[config.fill],
        SIZING_CODES[config.sizing.kind], TRIGGER_CODES[config.stop_trigger], config.uses_stops,
        float(config.init_cash), float(config.sizing.max_leverage), equity, cash, positions, orders, trades,
    )  # fmt: skip
    one = n_columns == 1 and all(np.ndim(a) == 1 for a in (close, entries, exits))
    return BacktestResult(
        kind="signals",
        init_cash=float(config.init_cash),
        equity=equity[0] if one else equity.T,
        cash=cash[0] if one else cash.T,
        positions=positions[0] if one else positions.T,
        trades=Trades.from_records(trades[:n_trades]),
        orders=Orders.from_records(orders[:n_orders]),
    )


def realized_volatility(
    close: npt.ArrayLike, window: int = 20, periods_per_year: float = 252.0
) -> FloatArray:
    """The volatility ``Sizing.vol_target`` divides by, same shape as ``close`` ``(T,)``/``(T, N)``: sample
    std (ddof=1) of the last ``window`` close-to-close log returns ending at each bar, times
    ``sqrt(periods_per_year)``; NaN for the first ``window`` bars (warm-up) and windows with a NaN."""
    if window < 2:
        raise BacktestConfigError(f"window must be at least 2, got {window}")
    close_cm = _column_major("close", close, np.float64)
    vol = k.realized_vol(close_cm, int(window), float(periods_per_year))
    return vol[0] if np.ndim(close) == 1 else vol.T


# ---------------------------------------------------------------------------- target weights
def backtest_weights(
    close: npt.ArrayLike,
    weights: npt.ArrayLike,
    config: BacktestConfig = _DEFAULT_CONFIG,
    *,
    open: npt.ArrayLike | None = None,
) -> BacktestResult:
    """Backtest target weights ``(T, N)`` (or ``(T,)``) of one portfolio holding N assets with shared cash.

    A finite ``weights[t, i]`` moves asset i to ``w * E*`` of value, where ``E*`` is the equity right after
    this bar's rebalance (its fees and slippage paid - solved exactly, so weights hold after costs);
    ``NaN`` means no order for that asset on that bar (rebalance monthly by leaving the other rows NaN).
    The sum of |weights| may exceed 1 (leverage; cash goes negative, no interest). ``direction`` restricts
    the sign of the weights; ``Sizing.fraction(f)`` scales every weight by ``f``; ``Sizing.vol_target``
    scales asset i by ``min(max_leverage, sigma / realized_vol[t, i])`` (no order while it is undefined).
    Fills follow ``config.fill`` like signals. Stops and ``Sizing.units`` do not apply here.
    """
    close2d = _prices("close", close)
    n_bars, n_assets = close2d.shape
    weights2d = _for_kernel(np.asarray(weights, dtype=np.float64).reshape(n_bars, -1))
    if weights2d.shape != close2d.shape:
        raise BacktestConfigError(
            f"weights {np.shape(weights)} must have the shape of close {np.shape(close)}"
        )
    _check_weights(config, weights2d)
    if per_column_lengths(config):
        raise BacktestConfigError("target weights take one fee/slippage/size setting, not one per column")
    values = config.column_values(1)
    open2d = close2d if open is None else _same_shape("open", open, close2d)
    if config.fill == "next_open" and open is None:
        raise BacktestConfigError("fill='next_open' needs the open prices")
    vol = _NO_VOL
    if config.sizing.kind == "vol_target":  # the weights kernel walks bars then assets: (T, N) layout
        vol = np.ascontiguousarray(_realized_vol(config, np.ascontiguousarray(close2d.T)).T)
    equity, cash, gross = (np.empty((n_bars, 1)) for _ in range(3))
    positions = np.empty((n_bars, n_assets))
    capacity = int(np.count_nonzero(~np.isnan(weights2d))) + 1
    orders, trades = np.empty((capacity, k.ORDER_FIELDS)), np.empty((capacity, k.TRADE_FIELDS))
    n_orders, n_trades = k.run_weights(
        close2d, open2d, weights2d, vol, float(values.fee_rate[0]), float(values.fixed_fee[0]),
        float(values.slippage[0]), SIZING_CODES[config.sizing.kind], float(values.size_value[0]),
        FILL_CODES[config.fill], float(config.init_cash), float(config.sizing.max_leverage),
        equity, cash, positions, gross, orders, trades,
    )  # fmt: skip
    one = np.ndim(close) == 1
    return BacktestResult(
        kind="weights",
        init_cash=float(config.init_cash),
        equity=equity[:, 0],
        cash=cash[:, 0],
        positions=positions[:, 0] if one else positions,
        trades=Trades.from_records(trades[:n_trades]),
        orders=Orders.from_records(orders[:n_orders]),
        gross_value=gross[:, 0],
    )


# ---------------------------------------------------------------------------- input checks
def _prices(name: str, values: npt.ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise BacktestConfigError(f"{name} must be (T,) or (T, N) with T >= 1, got shape {array.shape}")
    return _for_kernel(array.reshape(array.shape[0], -1))


def _same_shape(name: str, values: npt.ArrayLike, close2d: FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.size != close2d.size or array.shape[0] != close2d.shape[0]:
        raise BacktestConfigError(f"{name} {array.shape} must have the shape of close")
    return _for_kernel(array.reshape(close2d.shape))


def _column_major(
    name: str, values: npt.ArrayLike, dtype: type[np.generic], n_bars: int | None = None
) -> npt.NDArray[Any]:
    """``(T,)`` or ``(T, N)`` as a C-contiguous ``(columns, T)`` array (a view when no copy is needed)."""
    array = np.asarray(values)
    if dtype is np.bool_ and array.dtype != np.bool_:
        raise BacktestConfigError(f"{name} must be booleans, got {array.dtype}")
    array = array.astype(dtype, copy=False)
    if array.ndim not in (1, 2) or array.shape[0] == 0 or (n_bars is not None and array.shape[0] != n_bars):
        expected = "T >= 1" if n_bars is None else f"T = {n_bars}"
        raise BacktestConfigError(f"{name} must be (T,) or (T, N) with {expected}, got shape {array.shape}")
    return _for_kernel(array.reshape(1, -1) if array.ndim == 1 else array.T)


def _for_kernel(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """C-contiguous and writable (copied only if not): numba compiles, and caches, one specialization per
    layout and read-only flag, so every call must hand the kernels the same kind of array."""
    return np.require(array, requirements=("C_CONTIGUOUS", "WRITEABLE"))


def _signal_count(signals_cm: npt.NDArray[np.bool_], n_columns: int) -> int:
    """True values summed over the ``n_columns`` backtest columns (a shared row counts N times)."""
    count = int(np.count_nonzero(signals_cm))
    return count * n_columns if signals_cm.shape[0] == 1 else count


def _column_count(config: BacktestConfig, *arrays: npt.NDArray[Any]) -> int:
    counts = {a.shape[0] for a in arrays} | set(per_column_lengths(config))
    columns = max(counts)
    if not counts <= {1, columns}:
        raise BacktestConfigError(f"column counts {sorted(counts)} do not broadcast (each must be 1 or N)")
    return columns


def _bar_range(
    config: BacktestConfig,
    close: npt.ArrayLike,
    close_cm: FloatArray,
    open_: npt.ArrayLike | None,
    high: npt.ArrayLike | None,
    low: npt.ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Column-major (open, high, low) for the kernel; the close stands in for what is missing."""
    if config.fill == "next_open" and open_ is None:
        raise BacktestConfigError("fill='next_open' needs the open prices")
    open_cm = close_cm if open_ is None else _like_close("open", open_, close, close_cm)
    if not (config.uses_stops and config.stop_trigger == "high_low"):
        return open_cm, close_cm, close_cm
    high_cm = np.maximum(open_cm, close_cm) if high is None else _like_close("high", high, close, close_cm)
    low_cm = np.minimum(open_cm, close_cm) if low is None else _like_close("low", low, close, close_cm)
    return open_cm, high_cm, low_cm


def _like_close(name: str, values: npt.ArrayLike, close: npt.ArrayLike, close_cm: FloatArray) -> FloatArray:
    if np.shape(values) != np.shape(close):
        raise BacktestConfigError(f"{name} {np.shape(values)} must have the shape of close {np.shape(close)}")
    return _column_major(name, values, np.float64).reshape(close_cm.shape)


def _realized_vol(config: BacktestConfig, close_cm: FloatArray) -> FloatArray:
    return k.realized_vol(close_cm, config.sizing.vol_window, float(config.periods_per_year))


def _check_weights(config: BacktestConfig, weights2d: FloatArray) -> None:
    if config.uses_stops:
        raise BacktestConfigError("stop_loss/take_profit apply to signals, not to target weights")
    if config.sizing.kind == "units":
        raise BacktestConfigError(
            "target weights size positions themselves: use Sizing.fraction or vol_target"
        )
    if np.isinf(weights2d).any():
        raise BacktestConfigError("weights must be finite or NaN (no order)")
    if config.direction == "long_only" and (weights2d < 0).any():
        raise BacktestConfigError("negative weights need direction='long_short' or 'short_only'")
    if config.direction == "short_only" and (weights2d > 0).any():
        raise BacktestConfigError("positive weights need direction='long_short' or 'long_only'")
