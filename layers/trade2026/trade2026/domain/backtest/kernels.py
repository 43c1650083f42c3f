"""Compiled (numba) loops of the backtest engine: the cash/position recursion is sequential by nature.

``run_signals`` takes COLUMN-MAJOR inputs and outputs, shape ``(columns, bars)`` C-contiguous, so each
backtest column streams through contiguous memory (the engine hands out ``.T`` views); an input with ONE
row is shared by every column (``_col`` picks row 0), so a sweep of P signal columns over one asset never
copies the prices. ``run_weights`` walks bars then assets and takes ``(bars, assets)`` arrays.
Orders and trades are written into float64 record buffers the caller allocates from an upper bound
(their field indexes are the ``ORDER_*`` / ``TRADE_*`` constants; ``trades.py`` turns them into typed
columns). The buffers are never re-assigned inside the loops: a re-assigned array costs numba
reference counting on every iteration (measured: 30x slower).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Codes shared with config.py (direction, fill, sizing, stop trigger) and trades.py (exit reasons).
LONG_ONLY: Final = 0
LONG_SHORT: Final = 1
SHORT_ONLY: Final = 2
FILL_CLOSE: Final = 0
FILL_NEXT_OPEN: Final = 1
SIZE_UNITS: Final = 0
SIZE_FRACTION: Final = 1
SIZE_VOL_TARGET: Final = 2
TRIGGER_HIGH_LOW: Final = 0
TRIGGER_CLOSE: Final = 1
REASON_SIGNAL: Final = 0
REASON_STOP_LOSS: Final = 1
REASON_TAKE_PROFIT: Final = 2
REASON_OPEN: Final = 3
NO_ACTION: Final = 2  # an action is a target side: -1 short, 0 flat, +1 long; 2 = do nothing

# Order record fields.
ORDER_COLUMN, ORDER_BAR, ORDER_SIZE, ORDER_PRICE, ORDER_FEES, ORDER_REASON = range(6)
ORDER_FIELDS: Final = 6
# Trade record fields.
(
    TRADE_COLUMN,
    TRADE_ENTRY_BAR,
    TRADE_EXIT_BAR,
    TRADE_DIRECTION,
    TRADE_SIZE,
    TRADE_ENTRY_PRICE,
    TRADE_EXIT_PRICE,
    TRADE_ENTRY_FEES,
    TRADE_EXIT_FEES,
    TRADE_PNL,
    TRADE_RETURN,
    TRADE_EXIT_REASON,
) = range(12)
TRADE_FIELDS: Final = 12
# Open-trade state per asset: units/value bought into and sold out of the trade, fees of each side.
ST_ENTRY_BAR, ST_DIRECTION, ST_IN_UNITS, ST_IN_VALUE, ST_OUT_UNITS, ST_OUT_VALUE, ST_FEES_IN, ST_FEES_OUT = (
    range(8)
)
STATE_FIELDS: Final = 8

_DUST: Final = 1e-9  # a target-weight order smaller than this fraction of equity is not sent


@njit(cache=True)
def _col(array: FloatArray | BoolArray, column: int) -> int:
    """The row of a column-major ``array`` that serves ``column`` (one shared row, or its own)."""
    return column if array.shape[0] > 1 else 0


# ---------------------------------------------------------------------------- trade book-keeping
@njit(cache=True)
def _finish_trade(
    state: FloatArray, asset: int, column: int, bar: int, reason: int, trades: FloatArray, n_trades: int
) -> int:
    """Write the trade of ``state[asset]`` (all its units sold out) and clear the state."""
    record, st = trades[n_trades], state[asset]
    direction = st[ST_DIRECTION]
    entry_price = st[ST_IN_VALUE] / st[ST_IN_UNITS]
    exit_price = st[ST_OUT_VALUE] / st[ST_OUT_UNITS]
    size = st[ST_IN_UNITS]
    pnl = (size * exit_price - size * entry_price) * direction - st[ST_FEES_IN] - st[ST_FEES_OUT]
    record[TRADE_COLUMN] = column
    record[TRADE_ENTRY_BAR] = st[ST_ENTRY_BAR]
    record[TRADE_EXIT_BAR] = bar
    record[TRADE_DIRECTION] = direction
    record[TRADE_SIZE] = size
    record[TRADE_ENTRY_PRICE] = entry_price
    record[TRADE_EXIT_PRICE] = exit_price
    record[TRADE_ENTRY_FEES] = st[ST_FEES_IN]
    record[TRADE_EXIT_FEES] = st[ST_FEES_OUT]
    record[TRADE_PNL] = pnl
    record[TRADE_RETURN] = pnl / (size * entry_price)
    record[TRADE_EXIT_REASON] = reason
    st[:] = 0.0
    return n_trades + 1


@njit(cache=True)
def _book(
    state: FloatArray,
    asset: int,
    column: int,
    bar: int,
    position_before: float,
    delta: float,
    price: float,
    fee: float,
    reason: int,
    orders: FloatArray,
    n_orders: int,
    trades: FloatArray,
    n_trades: int,
) -> tuple[int, int]:
    """Record one filled order and update the open trade: the part that reduces the position closes
    units of the trade (a trade ends when the position reaches zero or flips), the rest opens units.
    The order's fees are split between the two parts in proportion to their units."""
    order = orders[n_orders]
    order[ORDER_COLUMN] = column
    order[ORDER_BAR] = bar
    order[ORDER_SIZE] = delta
    order[ORDER_PRICE] = price
    order[ORDER_FEES] = fee
    order[ORDER_REASON] = reason
    size = abs(delta)
    opening = size
    if position_before != 0.0 and (delta > 0.0) != (position_before > 0.0):
        closing = min(size, abs(position_before))
        opening = size - closing
        st = state[asset]
        st[ST_OUT_UNITS] += closing
        st[ST_OUT_VALUE] += closing * price
        st[ST_FEES_OUT] += closing / size * fee
        position_after = position_before + delta
        if position_after == 0.0 or (position_after > 0.0) != (position_before > 0.0):
            n_trades = _finish_trade(state, asset, column, bar, reason, trades, n_trades)
    if opening > 0.0:
        st = state[asset]
        if st[ST_DIRECTION] == 0.0:
            st[ST_ENTRY_BAR] = bar
            st[ST_DIRECTION] = 1.0 if delta > 0.0 else -1.0
        st[ST_IN_UNITS] += opening
        st[ST_IN_VALUE] += opening * price
        st[ST_FEES_IN] += opening / size * fee
    return n_orders + 1, n_trades


@njit(cache=True)
def _finish_open_trade(
    state: FloatArray,
    asset: int,
    column: int,
    position: float,
    last_price: float,
    last_bar: int,
    trades: FloatArray,
    n_trades: int,
) -> int:
    """A trade still open at the end: its remaining units are marked at the last price, no exit fee."""
    st = state[asset]
    st[ST_OUT_UNITS] += abs(position)
    st[ST_OUT_VALUE] += abs(position) * last_price
    return _finish_trade(state, asset, column, last_bar, REASON_OPEN, trades, n_trades)


# ---------------------------------------------------------------------------- signal decisions
@njit(cache=True)
def _decide(direction: int, position: float, entry: bool, exit_: bool) -> int:
    """The target side a bar's signals ask for, given the position (NO_ACTION when nothing changes).

    An entry and an exit on the same bar cancel (vectorbt's ``upon_*_conflict='ignore'``)."""
    if entry == exit_:
        return NO_ACTION
    if direction == LONG_ONLY:
        if entry:
            return 1 if position == 0.0 else NO_ACTION
        return 0 if position > 0.0 else NO_ACTION
    if direction == SHORT_ONLY:
        if entry:
            return -1 if position == 0.0 else NO_ACTION
        return 0 if position < 0.0 else NO_ACTION
    if entry:
        return 1 if position <= 0.0 else NO_ACTION
    return -1 if position >= 0.0 else NO_ACTION


@njit(cache=True)
def _stop_hit(
    position: float,
    entry_price: float,
    stop_loss: float,
    take_profit: float,
    open_: float,
    high: float,
    low: float,
) -> tuple[float, int]:
    """(raw fill price, reason) of a stop touched during this bar, (NaN, REASON_SIGNAL) if none.

    A level the bar OPENS through fills at the open (a gap); a level inside [low, high] fills at the level.
    The stop-loss is checked first: when both could have been hit in one bar the worse is assumed."""
    side = 1.0 if position > 0.0 else -1.0
    if not np.isnan(stop_loss):
        level = entry_price * (1.0 - side * stop_loss)
        if (open_ - level) * side <= 0.0:
            return open_, REASON_STOP_LOSS
        if low <= level <= high:
            return level, REASON_STOP_LOSS
    if not np.isnan(take_profit):
        level = entry_price * (1.0 + side * take_profit)
        if (open_ - level) * side >= 0.0:
            return open_, REASON_TAKE_PROFIT
        if low <= level <= high:
            return level, REASON_TAKE_PROFIT
    return np.nan, REASON_SIGNAL


@njit(cache=True)
def _close_stop(
    position: float, entry_price: float, stop_loss: float, take_profit: float, close: float
) -> int:
    """The stop a CLOSE crosses (``stop_trigger='close'``), REASON_SIGNAL if none."""
    side = 1.0 if position > 0.0 else -1.0
    if not np.isnan(stop_loss) and (close - entry_price * (1.0 - side * stop_loss)) * side <= 0.0:
        return REASON_STOP_LOSS
    if not np.isnan(take_profit) and (close - entry_price * (1.0 + side * take_profit)) * side >= 0.0:
        return REASON_TAKE_PROFIT
    return REASON_SIGNAL


@njit(cache=True)
def _entry_fraction(sizing: int, size_value: float, vol: float, max_leverage: float) -> float:
    """Fraction of equity an entry commits (units sizing ignores it; NaN = cannot size yet)."""
    if sizing != SIZE_VOL_TARGET:
        return size_value
    if not vol > 0.0:
        return np.nan
    return min(max_leverage, size_value / vol)


@njit(cache=True)
def _order_delta(
    target: int,
    position: float,
    cash: float,
    raw_price: float,
    fee_rate: float,
    fixed_fee: float,
    slippage: float,
    sizing: int,
    size_value: float,
    fraction: float,
) -> tuple[float, float]:
    """(signed units, fill price) of the order moving ``position`` to side ``target`` (0 units = none).

    Same arithmetic as vectorbt's ``buy_nb``/``sell_nb`` for all-in (fraction 1) and fixed units."""
    if target == 0:
        fill = raw_price * (1.0 - slippage) if position > 0.0 else raw_price * (1.0 + slippage)
        return -position, fill
    fill = raw_price * (1.0 + slippage) if target > 0 else raw_price * (1.0 - slippage)
    if sizing == SIZE_UNITS:
        units = size_value
    else:
        # Equity left after closing the current position at this fill (its proportional fee paid).
        available = cash + position * fill - abs(position) * fill * fee_rate
        notional = (fraction * available - fixed_fee) / (1.0 + fee_rate)
        units = notional / fill if notional > 0.0 else 0.0
    delta = target * units - position
    if sizing == SIZE_UNITS and delta > 0.0:
        # A buy never spends more than the cash (vectorbt: partial fill, fees included).
        cost = delta * fill * (1.0 + fee_rate) + fixed_fee
        if cost > cash and abs(cost - cash) > 1e-9 * max(abs(cost), abs(cash)):
            affordable = (cash - fixed_fee) / (1.0 + fee_rate)
            delta = affordable / fill if affordable > 0.0 else 0.0
    return delta, fill


# ---------------------------------------------------------------------------- signals
@njit(cache=True)
def run_signals(  # noqa: C901, PLR0912, PLR0915 - one loop keeps per-bar state in registers
    close: FloatArray,
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    entries: BoolArray,
    exits: BoolArray,
    vol: FloatArray,
    fee_rate: FloatArray,
    fixed_fee: FloatArray,
    slippage: FloatArray,
    stop_loss: FloatArray,
    take_profit: FloatArray,
    size_value: FloatArray,
    direction: int,
    fill: int,
    sizing: int,
    trigger: int,
    use_stops: bool,
    init_cash: float,
    max_leverage: float,
    equity: FloatArray,
    cash_out: FloatArray,
    positions: FloatArray,
    orders: FloatArray,
    trades: FloatArray,
) -> tuple[int, int]:
    """Simulate every column of signals independently (own cash ``init_cash``); fill the ``(N, T)``
    outputs and the record buffers, return (orders written, trades written).

    Capacity needed: orders <= 2 x (entries + exits), trades <= entries + exits (+ 1), summed over columns
    (every order is a signal's, or a stop exit of a position a signal's order opened)."""
    n_columns, n_bars = equity.shape
    n_orders = 0
    n_trades = 0
    state = np.zeros((1, STATE_FIELDS))
    for column in range(n_columns):
        pc = _col(close, column)
        close_row, open_row, high_row, low_row = close[pc], open_[pc], high[pc], low[pc]
        entry_row, exit_row = entries[_col(entries, column)], exits[_col(exits, column)]
        vol_row = vol[_col(vol, column)]
        equity_row, cash_row, position_row = equity[column], cash_out[column], positions[column]
        fee, fixed, slip = fee_rate[column], fixed_fee[column], slippage[column]
        sl, tp, value = stop_loss[column], take_profit[column], size_value[column]
        stops_on = use_stops and (not np.isnan(sl) or not np.isnan(tp))
        cash = init_cash
        position = 0.0
        last_price = np.nan
        entry_price = np.nan
        entry_bar = -1
        pending = NO_ACTION
        pending_reason = REASON_SIGNAL
        pending_bar = -1
        state[0, :] = 0.0
        for bar in range(n_bars):
            close_now = close_row[bar]
            traded = False
            # 1. next-open fills: the decision taken at the previous close trades at this open.
            if pending != NO_ACTION:
                raw = open_row[bar]
                if raw > 0.0 and np.isfinite(raw):
                    sigma = vol_row[pending_bar] if sizing == SIZE_VOL_TARGET else np.nan
                    fraction = _entry_fraction(sizing, value, sigma, max_leverage)
                    delta, price = _order_delta(
                        pending, position, cash, raw, fee, fixed, slip, sizing, value, fraction
                    )
                    if delta != 0.0:
                        fees = abs(delta) * price * fee + fixed
                        n_orders, n_trades = _book(
                            state, 0, column, bar, position, delta, price, fees, pending_reason,
                            orders, n_orders, trades, n_trades,
                        )  # fmt: skip
                        cash -= delta * price + fees
                        before = position
                        position = 0.0 if pending == 0 else position + delta
                        if position != 0.0 and (before == 0.0 or (position > 0.0) != (before > 0.0)):
                            entry_price, entry_bar = price, bar
                        if np.isnan(last_price):
                            last_price = raw
                        traded = True
                pending = NO_ACTION
            if not np.isnan(close_now):
                last_price = close_now
            # 2. stops resting in the book: touched by this bar's range (never on the entry bar).
            if (
                stops_on
                and trigger == TRIGGER_HIGH_LOW
                and not traded
                and position != 0.0
                and entry_bar < bar
            ):
                raw, reason = _stop_hit(
                    position, entry_price, sl, tp, open_row[bar], high_row[bar], low_row[bar]
                )
                if not np.isnan(raw):
                    price = raw * (1.0 - slip) if position > 0.0 else raw * (1.0 + slip)
                    delta = -position
                    fees = abs(delta) * price * fee + fixed
                    n_orders, n_trades = _book(
                        state, 0, column, bar, position, delta, price, fees, reason,
                        orders, n_orders, trades, n_trades,
                    )  # fmt: skip
                    cash -= delta * price + fees
                    position = 0.0
                    traded = True
            # 3. the decision at this close: a close-triggered stop first, else the signals.
            action = NO_ACTION
            reason = REASON_SIGNAL
            # (with next-open fills the entry's own close may already trigger: the entry was at the open)
            close_stop_armed = entry_bar < bar or fill == FILL_NEXT_OPEN
            if stops_on and trigger == TRIGGER_CLOSE and position != 0.0 and close_stop_armed:
                reason = _close_stop(position, entry_price, sl, tp, close_now)
                if reason != REASON_SIGNAL:
                    action = 0
            if action == NO_ACTION:
                action = _decide(direction, position, entry_row[bar], exit_row[bar])
            if action != NO_ACTION:
                if fill == FILL_NEXT_OPEN:
                    pending, pending_reason, pending_bar = action, reason, bar
                elif not traded and close_now > 0.0 and np.isfinite(close_now):
                    sigma = vol_row[bar] if sizing == SIZE_VOL_TARGET else np.nan
                    fraction = _entry_fraction(sizing, value, sigma, max_leverage)
                    delta, price = _order_delta(
                        action, position, cash, close_now, fee, fixed, slip, sizing, value, fraction
                    )
                    if delta != 0.0:
                        fees = abs(delta) * price * fee + fixed
                        n_orders, n_trades = _book(
                            state, 0, column, bar, position, delta, price, fees, reason,
                            orders, n_orders, trades, n_trades,
                        )  # fmt: skip
                        cash -= delta * price + fees
                        before = position
                        position = 0.0 if action == 0 else position + delta
                        if position != 0.0 and (before == 0.0 or (position > 0.0) != (before > 0.0)):
                            entry_price, entry_bar = price, bar
            equity_row[bar] = cash + position * last_price if position != 0.0 else cash
            cash_row[bar] = cash
            position_row[bar] = position
        if position != 0.0:
            n_trades = _finish_open_trade(
                state, 0, column, position, last_price, n_bars - 1, trades, n_trades
            )
    return n_orders, n_trades


# ---------------------------------------------------------------------------- target weights
@njit(cache=True)
def _rebalance_costs(
    post_equity: float,
    weights: FloatArray,
    tradable: BoolArray,
    positions: FloatArray,
    values_at: FloatArray,
    fee_rate: float,
    fixed_fee: float,
    slippage: float,
    equity: float,
) -> float:
    """Fees plus slippage of moving every tradable asset to ``weight * post_equity`` (at raw prices)."""
    total = 0.0
    for asset in range(weights.shape[0]):
        if tradable[asset]:
            delta = weights[asset] * post_equity / values_at[asset] - positions[asset]
            notional = abs(delta) * values_at[asset]
            if notional > _DUST * abs(equity):
                side_slip = 1.0 + slippage if delta > 0.0 else 1.0 - slippage
                total += notional * slippage + notional * side_slip * fee_rate + fixed_fee
    return total


@njit(cache=True)
def _post_trade_equity(
    weights: FloatArray,
    tradable: BoolArray,
    positions: FloatArray,
    values_at: FloatArray,
    fee_rate: float,
    fixed_fee: float,
    slippage: float,
    equity: float,
) -> float:
    """The equity E* left after the rebalance's costs, solving E* = equity - costs(weights * E*).

    A fixed point iteration; it contracts by about sum(|w|) * (fee + slippage) per step."""
    post = equity
    for _ in range(100):
        costs = _rebalance_costs(
            post, weights, tradable, positions, values_at, fee_rate, fixed_fee, slippage, equity
        )
        updated = equity - costs
        if abs(updated - post) <= 1e-15 * abs(equity):
            return updated
        post = updated
    return post


@njit(cache=True)
def run_weights(  # noqa: C901, PLR0912, PLR0915 - one loop keeps the portfolio state local
    close: FloatArray,
    open_: FloatArray,
    weights: FloatArray,
    vol: FloatArray,
    fee_rate: float,
    fixed_fee: float,
    slippage: float,
    sizing: int,
    size_value: float,
    fill: int,
    init_cash: float,
    max_leverage: float,
    equity: FloatArray,
    cash_out: FloatArray,
    positions: FloatArray,
    gross_value: FloatArray,
    orders: FloatArray,
    trades: FloatArray,
) -> tuple[int, int]:
    """One portfolio of N assets sharing cash: each finite weight ``w[t, i]`` moves asset i to
    ``w * E*`` (E* = equity after this rebalance's costs); NaN = no order for that asset on that bar.
    Capacity needed: orders and trades <= the number of finite weights."""
    n_bars, n_assets = positions.shape
    n_orders = 0
    n_trades = 0
    state = np.zeros((n_assets, STATE_FIELDS))
    held = np.zeros(n_assets)
    last = np.full(n_assets, np.nan)
    target = np.zeros(n_assets)
    values_at = np.zeros(n_assets)
    raw_prices = np.zeros(n_assets)
    tradable = np.zeros(n_assets, dtype=np.bool_)
    cash = init_cash
    for bar in range(n_bars):
        if fill == FILL_CLOSE:
            for asset in range(n_assets):
                if not np.isnan(close[bar, asset]):
                    last[asset] = close[bar, asset]
        row = bar if fill == FILL_CLOSE else bar - 1
        any_tradable = False
        if row >= 0:
            for asset in range(n_assets):
                raw = close[bar, asset] if fill == FILL_CLOSE else open_[bar, asset]
                raw_prices[asset] = raw
                good_price = raw > 0.0 and np.isfinite(raw)
                values_at[asset] = raw if good_price else last[asset]
                sigma = vol[row, asset] if sizing == SIZE_VOL_TARGET else np.nan
                scale = _entry_fraction(sizing, size_value, sigma, max_leverage)
                target[asset] = weights[row, asset] * scale
                tradable[asset] = good_price and not np.isnan(target[asset])
                any_tradable = any_tradable or tradable[asset]
        if any_tradable:
            equity_now = cash
            for asset in range(n_assets):
                if held[asset] != 0.0:
                    equity_now += held[asset] * values_at[asset]
            post = _post_trade_equity(
                target, tradable, held, values_at, fee_rate, fixed_fee, slippage, equity_now
            )
            for asset in range(n_assets):
                if not tradable[asset]:
                    continue
                delta = (
                    -held[asset]
                    if target[asset] == 0.0
                    else target[asset] * post / values_at[asset] - held[asset]
                )
                if abs(delta) * values_at[asset] <= _DUST * abs(equity_now):
                    continue
                raw = raw_prices[asset]
                price = raw * (1.0 + slippage) if delta > 0.0 else raw * (1.0 - slippage)
                fees = abs(delta) * price * fee_rate + fixed_fee
                n_orders, n_trades = _book(
                    state, asset, asset, bar, held[asset], delta, price, fees, REASON_SIGNAL,
                    orders, n_orders, trades, n_trades,
                )  # fmt: skip
                cash -= delta * price + fees
                held[asset] = 0.0 if target[asset] == 0.0 else held[asset] + delta
        if fill == FILL_NEXT_OPEN:
            for asset in range(n_assets):
                if not np.isnan(close[bar, asset]):
                    last[asset] = close[bar, asset]
                elif np.isnan(last[asset]) and held[asset] != 0.0:
                    last[asset] = raw_prices[asset]
        total, gross = cash, 0.0
        for asset in range(n_assets):
            positions[bar, asset] = held[asset]
            if held[asset] != 0.0:
                total += held[asset] * last[asset]
                gross += abs(held[asset] * last[asset])
        equity[bar, 0] = total
        cash_out[bar, 0] = cash
        gross_value[bar, 0] = gross
    for asset in range(n_assets):
        if held[asset] != 0.0:
            n_trades = _finish_open_trade(
                state, asset, asset, held[asset], last[asset], n_bars - 1, trades, n_trades
            )
    return n_orders, n_trades


# ---------------------------------------------------------------------------- realized volatility
@njit(cache=True)
def realized_vol(close: FloatArray, window: int, periods_per_year: float) -> FloatArray:
    """Annualized sample std (ddof=1) of the last ``window`` close-to-close log returns ending at each bar,
    for column-major ``close`` ``(columns, bars)``; NaN until ``window`` returns exist and whenever the
    window holds a NaN return. Rolling sums of the returns minus the column's first return keep the
    cancellation error small."""
    n_columns, n_bars = close.shape
    out = np.full((n_columns, n_bars), np.nan)
    annual = np.sqrt(periods_per_year)
    returns = np.empty(n_bars)
    for column in range(n_columns):
        prices = close[column]
        returns[0] = np.nan
        for bar in range(1, n_bars):
            returns[bar] = np.log(prices[bar] / prices[bar - 1])
        shift = np.nan
        for bar in range(n_bars):
            if not np.isnan(returns[bar]):
                shift = returns[bar]
                break
        total, squares, missing = 0.0, 0.0, 0
        for bar in range(n_bars):
            value = returns[bar] - shift
            if not np.isnan(value):
                total += value
                squares += value * value
            else:
                missing += 1
            if bar >= window:
                old = returns[bar - window] - shift
                if not np.isnan(old):
                    total -= old
                    squares -= old * old
                else:
                    missing -= 1
            if bar >= window and missing == 0:
                variance = max((squares - total * total / window) / (window - 1), 0.0)
                out[column, bar] = np.sqrt(variance) * annual
    return out
