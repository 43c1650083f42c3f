"""Technical indicators equal to TA-Lib: SMA, EMA, WMA, RSI, MACD, Bollinger Bands, ATR, ADX, stochastic, OBV,
plus returns, log returns, rolling standard deviation, rolling volatility and z-score.

Conventions (the same for every function):

- Input: float arrays of shape ``(T,)`` or ``(T, N)`` (a panel: one column per asset, computed column by
  column); the output has the input's shape. Multi-input indicators (ATR, ADX, stochastic, OBV) take
  arrays of one common shape.
- Warm-up: the first ``lookback`` values are NaN, exactly where TA-Lib's Python wrapper puts NaN. The
  lookbacks are SMA/WMA ``period-1``, EMA ``period-1`` (seeded with the SMA of the first ``period``
  values, as TA-Lib), RSI/ATR/+DI/-DI ``period``, ADX ``2*period-1``, MACD ``slow+signal-2`` for all
  three lines, Bollinger ``period-1``, stochastic ``fastk+slowk+slowd-3`` for %K and %D, OBV 0,
  returns ``periods``.
- Leading NaNs are skipped column by column (as TA-Lib's wrapper does: a panel column may start later);
  the warm-up counts from a column's first bar where every input is present. A NaN *inside* a series
  makes the values after it NaN (recursions and running sums carry it, as in TA-Lib; WMA recovers within
  4 windows of the gap): fill or drop gaps first. ``rolling_std``, ``rolling_volatility`` and ``zscore``
  (not in TA-Lib) are NaN exactly while a NaN is inside their window.
- Agreement with TA-Lib 0.8.1 (tests/unit/research/test_indicators_talib.py, real S&P 500 data):
  SMA, EMA, MACD, stochastic, +DI/-DI/ADX, OBV, true range and returns repeat TA-Lib's arithmetic in its
  order and are bit-identical (EMA/MACD use a fused multiply-add like the TA-Lib wheels, so on a CPU
  without FMA they differ by an ulp). RSI and ATR apply Wilder's smoothing as ``avg*(n-1)/n + x/n`` (one
  fused multiply-add per bar, faster than TA-Lib) and stay within 1e-13 of it. WMA and the Bollinger
  standard deviation (population, ddof=0) use anchored sliding sums that are rebuilt exactly from the
  window; they are 10-100x closer to an extended-precision reference than TA-Lib (~1e-12 vs ~1e-10 on
  S&P 500 prices) and within 3e-10 of TA-Lib.
- Compilation: the sequential kernels are compiled with numba (the ``research`` extra), cached on disk
  next to this file (or in ``NUMBA_CACHE_DIR``); without numba the same code runs as plain Python
  (the same numbers to an ulp, much slower).
- No look-ahead: the value at bar t uses bars ``<= t`` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike

_numba: Any
try:
    import numba as _numba
except ImportError:  # the research extra is not installed: plain Python, same numbers, slower
    _numba = None

_F = TypeVar("_F", bound=Callable[..., Any])

# TA-Lib 0.8's zero band (TA_EPSILON): an RSI gain+loss, a true range or a variance below it counts as 0.
_TA_EPSILON = 1e-14
# Sliding sums (WMA, rolling variance) are rebuilt exactly from the window every 4 windows (so rounding cannot
# pile up), the variance sums also as soon as more than 2 of their 16 digits cancel (the market went flat).
_REBUILD_WINDOWS = 4
_CANCELLATION_LIMIT = 1e-2
TRADING_DAYS_PER_YEAR = 252


def _compiled(function: _F) -> _F:
    """numba-compile a kernel, cached on disk when a writable cache directory exists (else per process)."""
    return _compile(function, contract=False)


def _inlined(function: _F) -> _F:
    """A small helper that numba inlines into its callers (a call per bar would cost more than its work)."""
    return _compile(function, contract=False, inline=True)


def _compiled_fma(function: _F) -> _F:
    """Like ``_compiled`` but lets LLVM fuse ``a*b+c`` into one rounding (FMA), as the TA-Lib 0.8 wheels'
    C code does in its EMA recursions: EMA and MACD then agree with TA-Lib bit for bit on an FMA CPU."""
    return _compile(function, contract=True)


def _compile(function: _F, contract: bool, inline: bool = False) -> _F:
    if _numba is None:
        return function
    options: dict[str, Any] = {
        "nogil": True,
        "fastmath": {"contract"} if contract else False,
        "inline": "always" if inline else "never",
    }
    try:
        return _numba.njit(cache=True, **options)(function)
    except RuntimeError:  # read-only package without NUMBA_CACHE_DIR (e.g. a Lambda layer): no disk cache
        return _numba.njit(**options)(function)


class Macd(NamedTuple):
    line: np.ndarray  # fast EMA - slow EMA
    signal: np.ndarray  # EMA of the line
    hist: np.ndarray  # line - signal


class BollingerBands(NamedTuple):
    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


class Adx(NamedTuple):
    plus_di: np.ndarray
    minus_di: np.ndarray
    adx: np.ndarray


class Stochastic(NamedTuple):
    k: np.ndarray  # slow %K: SMA(slowk_period) of the fast %K
    d: np.ndarray  # slow %D: SMA(slowd_period) of the slow %K


# ---------------------------------------------------------------------------- input handling
def _panel(values: ArrayLike, name: str = "values") -> np.ndarray:
    """A C-contiguous float64 (T, N) view/copy of a (T,) or (T, N) array."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim == 2:
        return array
    raise ValueError(f"{name} must be 1-D (T,) or 2-D (T, N); got shape {array.shape}")


def _panels(*arrays: tuple[str, ArrayLike]) -> list[np.ndarray]:
    shapes = {name: np.shape(array) for name, array in arrays}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"inputs must have one shape; got {shapes}")
    return [_panel(array, name) for name, array in arrays]


def _shaped(result: np.ndarray, like: ArrayLike) -> np.ndarray:
    return result.reshape(np.shape(like))


def _check_period(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def _nan_like(panel: np.ndarray) -> np.ndarray:
    """An uninitialized output: the kernels write every row (NaN in the warm-up)."""
    return np.empty(panel.shape)


# ---------------------------------------------------------------------------- kernels: helpers
# Outputs are allocated uninitialized; every kernel writes each row of its outputs (NaN in the warm-up),
# which saves a full pass over memory per output compared with pre-filling NaN.
@_compiled
def _first_row(x: np.ndarray, column: int) -> int:
    """The first row of ``column`` that is not NaN (len when none)."""
    for row in range(x.shape[0]):
        if not math.isnan(x[row, column]):
            return row
    return x.shape[0]


@_compiled
def _first_row3(a: np.ndarray, b: np.ndarray, c: np.ndarray, column: int) -> int:
    """The first row where none of the three inputs is NaN (TA-Lib wrapper's begidx)."""
    for row in range(a.shape[0]):
        if not (math.isnan(a[row, column]) or math.isnan(b[row, column]) or math.isnan(c[row, column])):
            return row
    return a.shape[0]


@_compiled
def _fill_nan(out: np.ndarray, column: int, end: int) -> None:
    """NaN in out[:end, column] (the warm-up; the whole column when the data is too short)."""
    for row in range(min(end, out.shape[0])):
        out[row, column] = math.nan


@_inlined
def _true_range_at(high: float, low: float, previous_close: float) -> float:
    """TA-Lib's true range: high-low, replaced by a larger distance to the previous close."""
    # explicit comparisons, not max(): a NaN distance is ignored exactly as TA-Lib ignores it
    greatest = high - low
    to_high = abs(previous_close - high)
    if to_high > greatest:  # noqa: PLR1730
        greatest = to_high
    to_low = abs(previous_close - low)
    if to_low > greatest:  # noqa: PLR1730
        greatest = to_low
    return greatest


@_inlined
def _directional_moves(high: float, previous_high: float, low: float, previous_low: float) -> tuple:
    """(+DM1, -DM1) of one bar: the larger outside move wins, ties and inside bars give (0, 0)."""
    up = high - previous_high
    down = previous_low - low
    if down > 0 and up < down:
        return 0.0, down
    if up > 0 and up > down:
        return up, 0.0
    return 0.0, 0.0


@_inlined
def _is_zero(value: float) -> bool:
    return -_TA_EPSILON < value < _TA_EPSILON


@_compiled
def _sma_column(x: np.ndarray, column: int, start: int, period: int, out: np.ndarray) -> None:
    """TA-Lib's running-sum SMA of x[start:, column] into out[:, column] (first value at start+period-1;
    NaN before it)."""
    _fill_nan(out, column, start + period - 1)
    total = 0.0
    for row in range(start, min(start + period - 1, x.shape[0])):
        total += x[row, column]
    trailing = start
    for row in range(start + period - 1, x.shape[0]):
        total += x[row, column]
        out[row, column] = total / period
        total -= x[trailing, column]
        trailing += 1


@_inlined
def _window_sums(x: np.ndarray, column: int, begin: int, end: int) -> tuple:
    """(anchor = mean, sum of deviations, sum of squared deviations) of x[begin:end, column], two-pass."""
    anchor = 0.0
    for row in range(begin, end):
        anchor += x[row, column]
    anchor /= end - begin
    s1, s2 = 0.0, 0.0
    for row in range(begin, end):
        deviation = x[row, column] - anchor
        s1 += deviation
        s2 += deviation * deviation
    return anchor, s1, s2


@_inlined
def _advance_moments(
    x: np.ndarray,
    column: int,
    row: int,
    window: int,
    anchor: float,
    s1: float,
    s2: float,
    peak: float,
    age: int,
) -> tuple:
    """Slide the anchored sums (of x - anchor and its square) to the window ending at ``row``.

    Returns (anchor, s1, s2, peak, age, centered) where centered = sum of squared deviations from the
    window mean = window * population variance. The sums are rebuilt exactly (two-pass, anchor = mean)
    every 4 windows, and at once when ``centered`` falls below 1% of the largest sum seen since the last
    rebuild (a market going flat), so the variance keeps ~12 significant digits.
    """
    if age < _REBUILD_WINDOWS * window:
        entering, leaving = x[row, column] - anchor, x[row - window, column] - anchor
        s1 += entering - leaving
        s2 += entering * entering - leaving * leaving
        if s2 > peak:  # noqa: PLR1730 - cheaper than max() in numba
            peak = s2
        centered = s2 - s1 * s1 / window
        if centered >= _CANCELLATION_LIMIT * peak:
            return anchor, s1, s2, peak, age + 1, centered
    anchor, s1, s2 = _window_sums(x, column, row - window + 1, row + 1)
    return anchor, s1, s2, s2, 1, s2 - s1 * s1 / window


# ---------------------------------------------------------------------------- kernels: one input
@_compiled
def _sma_kernel(x: np.ndarray, period: int, out: np.ndarray) -> None:
    for column in range(x.shape[1]):
        _sma_column(x, column, _first_row(x, column), period, out)


@_compiled_fma
def _ema_kernel(x: np.ndarray, period: int, out: np.ndarray) -> None:
    k = 2.0 / (period + 1)
    for column in range(x.shape[1]):
        start = _first_row(x, column)
        _fill_nan(out, column, start + period - 1)
        if x.shape[0] - start < period:
            continue
        total = 0.0
        for row in range(start, start + period):
            total += x[row, column]
        previous = total / period
        out[start + period - 1, column] = previous
        for row in range(start + period, x.shape[0]):
            previous = (x[row, column] - previous) * k + previous
            out[row, column] = previous


@_compiled
def _wma_kernel(x: np.ndarray, period: int, out: np.ndarray) -> None:
    """Sliding weighted and plain sums of x - anchor (anchor = a window mean, so the sums stay small and
    round little), rebuilt exactly from the window every few windows; WMA = anchor + weighted / sum(1..n)."""
    scale = 1.0 / (period * (period + 1) // 2)  # 1 / sum of the weights
    for column in range(x.shape[1]):
        start = _first_row(x, column)
        _fill_nan(out, column, start + period - 1)
        anchor, plain, weighted, age = 0.0, 0.0, 0.0, _REBUILD_WINDOWS * period
        for row in range(start + period - 1, x.shape[0]):
            if age >= _REBUILD_WINDOWS * period:
                anchor, plain, weighted, age = 0.0, 0.0, 0.0, 0
                for back in range(row - period + 1, row + 1):
                    anchor += x[back, column]
                anchor /= period
                for weight in range(1, period + 1):
                    value = x[row - period + weight, column] - anchor
                    plain += value
                    weighted += value * weight
            else:  # slide: every weight drops by one (minus the old plain sum), the new bar weighs `period`
                value = x[row, column] - anchor
                # one addition per sum on the loop-carried chain (the differences are computed beside it)
                weighted += value * period - plain
                plain += value - (x[row - period, column] - anchor)
            age += 1
            out[row, column] = anchor + weighted * scale


@_inlined
def _rsi_value(gain: float, loss: float) -> float:
    total = gain + loss
    return 0.0 if _is_zero(total) else 100.0 * (gain / total)


@_compiled_fma
def _rsi_kernel(x: np.ndarray, period: int, out: np.ndarray) -> None:
    decay, weight = (period - 1) / period, 1.0 / period
    for column in range(x.shape[1]):
        start = _first_row(x, column)
        _fill_nan(out, column, start + period)
        if x.shape[0] - start <= period:
            continue
        previous, gain, loss = x[start, column], 0.0, 0.0
        for row in range(start + 1, start + period + 1):
            change = x[row, column] - previous
            previous = x[row, column]
            if change < 0.0:
                loss -= change
            else:
                gain += change
        loss /= period
        gain /= period
        out[start + period, column] = _rsi_value(gain, loss)
        for row in range(start + period + 1, x.shape[0]):
            change = x[row, column] - previous
            previous = x[row, column]
            # Wilder: avg*(n-1)/n + x/n, one fused multiply-add per bar on the dependency chain
            up, down = (0.0, -change) if change < 0.0 else (change, 0.0)  # a NaN lands in gain, as TA-Lib
            gain = gain * decay + up * weight
            loss = loss * decay + down * weight
            out[row, column] = _rsi_value(gain, loss)


@_compiled_fma
def _macd_kernel(
    x: np.ndarray, fast: int, slow: int, signal: int, line: np.ndarray, sig: np.ndarray, hist: np.ndarray
) -> None:
    fast_k, slow_k, signal_k = 2.0 / (fast + 1), 2.0 / (slow + 1), 2.0 / (signal + 1)
    for column in range(x.shape[1]):
        start = _first_row(x, column)
        first = start + slow + signal - 2
        for out in (line, sig, hist):
            _fill_nan(out, column, first)
        if x.shape[0] <= first:
            continue
        # Both EMA are seeded with the SMA of their period; the two seed windows end on one bar (slow-1)
        row, slow_sum, fast_sum = start, 0.0, 0.0
        for _ in range(slow - fast):
            slow_sum += x[row, column]
            row += 1
        for _ in range(fast):
            fast_sum += x[row, column]
            slow_sum += x[row, column]
            row += 1
        slow_ema, fast_ema = slow_sum / slow, fast_sum / fast
        value = fast_ema - slow_ema
        signal_ema = value  # the signal EMA is seeded with the SMA of the first `signal` line values
        for _ in range(signal - 1):
            price = x[row, column]
            row += 1
            fast_ema = (price - fast_ema) * fast_k + fast_ema
            slow_ema = (price - slow_ema) * slow_k + slow_ema
            value = fast_ema - slow_ema
            signal_ema += value
        signal_ema = signal_ema / signal
        line[first, column], sig[first, column], hist[first, column] = value, signal_ema, value - signal_ema
        for row in range(first + 1, x.shape[0]):
            price = x[row, column]
            fast_ema = (price - fast_ema) * fast_k + fast_ema
            slow_ema = (price - slow_ema) * slow_k + slow_ema
            value = fast_ema - slow_ema
            signal_ema = (value - signal_ema) * signal_k + signal_ema
            line[row, column], sig[row, column], hist[row, column] = value, signal_ema, value - signal_ema


@_compiled
def _bollinger_kernel(
    x: np.ndarray, period: int, k: float, upper: np.ndarray, middle: np.ndarray, lower: np.ndarray
) -> None:
    """One pass: TA-Lib's running-sum SMA for the middle band; the population variance from sums of
    deviations from an anchor (``_advance_moments``), which avoids the mean(x**2) - mean**2 cancellation
    that costs TA-Lib up to ~1e-10 on prices."""
    inverse = 1.0 / period
    for column in range(x.shape[1]):
        start = _first_row(x, column)
        for out in (upper, middle, lower):
            _fill_nan(out, column, start + period - 1)
        total = 0.0
        for row in range(start, min(start + period - 1, x.shape[0])):
            total += x[row, column]
        anchor, s1, s2, peak, age = 0.0, 0.0, 0.0, 0.0, _REBUILD_WINDOWS * period
        for row in range(start + period - 1, x.shape[0]):
            total += x[row, column]
            mean = total / period
            total -= x[row - period + 1, column]
            anchor, s1, s2, peak, age, centered = _advance_moments(
                x, column, row, period, anchor, s1, s2, peak, age
            )
            variance = centered * inverse
            width = 0.0 if variance < _TA_EPSILON else math.sqrt(variance) * k  # TA-Lib: tiny variance is 0
            middle[row, column], upper[row, column], lower[row, column] = mean, mean + width, mean - width


@_compiled
def _rolling_mean_std_kernel(
    x: np.ndarray, window: int, ddof: int, mean: np.ndarray, std: np.ndarray
) -> None:
    """Rolling mean and std (anchored sums, ``_advance_moments``), NaN while a NaN is in the window."""
    for column in range(x.shape[1]):
        nans, anchor, s1, s2, peak, age = 0, 0.0, 0.0, 0.0, 0.0, _REBUILD_WINDOWS * window
        for row in range(x.shape[0]):
            if math.isnan(x[row, column]):
                nans += 1
            if row >= window and math.isnan(x[row - window, column]):
                nans -= 1
            if row < window - 1 or nans > 0:
                mean[row, column], std[row, column] = math.nan, math.nan
                age = _REBUILD_WINDOWS * window  # rebuild from scratch on the next clean window
                continue
            anchor, s1, s2, peak, age, centered = _advance_moments(
                x, column, row, window, anchor, s1, s2, peak, age
            )
            variance = centered / (window - ddof)
            mean[row, column] = anchor + s1 / window
            std[row, column] = math.sqrt(variance) if variance > 0.0 else 0.0


# ---------------------------------------------------------------------------- kernels: high/low/close
@_compiled
def _true_range_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, out: np.ndarray) -> None:
    for column in range(high.shape[1]):
        start = _first_row3(high, low, close, column)
        _fill_nan(out, column, start + 1)
        for row in range(start + 1, high.shape[0]):
            out[row, column] = _true_range_at(high[row, column], low[row, column], close[row - 1, column])


@_compiled_fma
def _atr_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, out: np.ndarray) -> None:
    decay, weight = (period - 1) / period, 1.0 / period
    for column in range(high.shape[1]):
        start = _first_row3(high, low, close, column)
        _fill_nan(out, column, start + period)
        if high.shape[0] - start <= period:
            continue
        total = 0.0
        for row in range(start + 1, start + period + 1):
            total += _true_range_at(high[row, column], low[row, column], close[row - 1, column])
        average = total / period
        out[start + period, column] = average
        for row in range(start + period + 1, high.shape[0]):
            true_range = _true_range_at(high[row, column], low[row, column], close[row - 1, column])
            average = average * decay + true_range * weight  # Wilder, one fused multiply-add per bar
            out[row, column] = average


@_compiled
def _adx_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: int,
    plus_di: np.ndarray,
    minus_di: np.ndarray,
    adx: np.ndarray,
) -> None:
    for column in range(high.shape[1]):
        start = _first_row3(high, low, close, column)
        _fill_nan(plus_di, column, start + period)
        _fill_nan(minus_di, column, start + period)
        _fill_nan(adx, column, start + 2 * period - 1)
        plus_dm, minus_dm, tr, dx_sum, average = 0.0, 0.0, 0.0, 0.0, 0.0
        for row in range(start + 1, high.shape[0]):
            plus, minus = _directional_moves(
                high[row, column], high[row - 1, column], low[row, column], low[row - 1, column]
            )
            true_range = _true_range_at(high[row, column], low[row, column], close[row - 1, column])
            bar = row - start  # Wilder sums for bars 1..period-1, smooths from bar `period` on
            if bar < period:
                plus_dm += plus
                minus_dm += minus
                tr += true_range
                continue
            plus_dm = plus_dm - plus_dm / period + plus
            minus_dm = minus_dm - minus_dm / period + minus
            tr = tr - tr / period + true_range
            dx = _directional_index(plus_dm, minus_dm, tr, plus_di, minus_di, row, column)
            if bar < 2 * period:  # the first ADX is the mean of `period` DX (an undefined DX counts 0)
                dx_sum += 0.0 if math.isnan(dx) else dx
                if bar == 2 * period - 1:
                    average = dx_sum / period
                    adx[row, column] = average
                continue
            if not math.isnan(dx):  # TA-Lib keeps the previous ADX when DX is undefined
                average = (average * (period - 1) + dx) / period
            adx[row, column] = average


@_inlined
def _directional_index(
    plus_dm: float,
    minus_dm: float,
    tr: float,
    plus_di: np.ndarray,
    minus_di: np.ndarray,
    row: int,
    column: int,
) -> float:
    """Write +DI/-DI of one bar (0 when the true range is 0) and return its DX (NaN when undefined)."""
    if _is_zero(tr):
        plus_di[row, column], minus_di[row, column] = 0.0, 0.0
        return math.nan
    minus_value = 100.0 * (minus_dm / tr)
    plus_value = 100.0 * (plus_dm / tr)
    plus_di[row, column], minus_di[row, column] = plus_value, minus_value
    di_sum = minus_value + plus_value
    return math.nan if _is_zero(di_sum) else 100.0 * (abs(minus_value - plus_value) / di_sum)


@_compiled
def _fast_k_column(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    column: int,
    start: int,
    period: int,
    out: np.ndarray,
) -> None:
    """Fast %K = 100 * (close - lowest low) / (highest high - lowest low) over `period` bars; 0 when flat."""
    lowest_at, highest_at, lowest, highest = -1, -1, 0.0, 0.0
    for row in range(start + period - 1, high.shape[0]):
        trailing = row - period + 1
        if lowest_at < trailing:  # the extreme left the window: rescan it (TA-Lib's method)
            lowest_at, lowest = trailing, low[trailing, column]
            for back in range(trailing + 1, row + 1):
                if low[back, column] < lowest:
                    lowest_at, lowest = back, low[back, column]
        elif low[row, column] <= lowest:
            lowest_at, lowest = row, low[row, column]
        if highest_at < trailing:
            highest_at, highest = trailing, high[trailing, column]
            for back in range(trailing + 1, row + 1):
                if high[back, column] > highest:
                    highest_at, highest = back, high[back, column]
        elif high[row, column] >= highest:
            highest_at, highest = row, high[row, column]
        spread = highest - lowest
        flat = abs(spread) <= _TA_EPSILON * (abs(highest) + abs(lowest))  # TA-Lib 0.8's relative zero test
        out[row, column] = 0.0 if flat else ((close[row, column] - lowest) / spread) * 100.0


@_compiled
def _stochastic_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    fastk: int,
    slowk: int,
    slowd: int,
    fast_k: np.ndarray,
    slow_k: np.ndarray,
    slow_d: np.ndarray,
) -> None:
    for column in range(high.shape[1]):
        start = _first_row3(high, low, close, column)
        first = start + fastk + slowk + slowd - 3
        if high.shape[0] <= first:
            _fill_nan(slow_k, column, first)
            _fill_nan(slow_d, column, first)
            continue
        _fast_k_column(high, low, close, column, start, fastk, fast_k)
        _sma_column(fast_k, column, start + fastk - 1, slowk, slow_k)
        _sma_column(slow_k, column, start + fastk + slowk - 2, slowd, slow_d)
        _fill_nan(slow_k, column, first)  # TA-Lib reports %K only where %D exists


@_compiled
def _obv_kernel(close: np.ndarray, volume: np.ndarray, out: np.ndarray) -> None:
    for column in range(close.shape[1]):
        start = _first_row3(close, volume, volume, column)
        _fill_nan(out, column, start)
        if start >= close.shape[0]:
            continue
        balance, previous = volume[start, column], close[start, column]
        for row in range(start, close.shape[0]):
            price = close[row, column]
            if price > previous:
                balance += volume[row, column]
            elif price < previous:
                balance -= volume[row, column]
            out[row, column] = balance
            previous = price


# ---------------------------------------------------------------------------- public: moving averages
def sma(values: ArrayLike, period: int) -> np.ndarray:
    """Simple moving average (TA-Lib SMA); NaN for the first ``period-1`` bars."""
    period = _check_period("period", period, 1)
    x = _panel(values)
    out = _nan_like(x)
    _sma_kernel(x, period, out)
    return _shaped(out, values)


def ema(values: ArrayLike, period: int) -> np.ndarray:
    """Exponential moving average, k = 2/(period+1), seeded with the SMA of the first ``period`` values
    (TA-Lib EMA, default compatibility); NaN for the first ``period-1`` bars."""
    period = _check_period("period", period, 1)
    x = _panel(values)
    out = _nan_like(x)
    _ema_kernel(x, period, out)
    return _shaped(out, values)


def wma(values: ArrayLike, period: int) -> np.ndarray:
    """Linearly weighted moving average, weights 1..period (newest heaviest) (TA-Lib WMA)."""
    period = _check_period("period", period, 1)
    x = _panel(values)
    out = _nan_like(x)
    _wma_kernel(x, period, out)
    return _shaped(out, values)


# ---------------------------------------------------------------------------- public: oscillators
def rsi(values: ArrayLike, period: int = 14) -> np.ndarray:
    """Wilder's RSI in [0, 100] (TA-Lib RSI): first average gain/loss is the mean of ``period`` changes,
    then ``avg = (avg*(period-1) + change)/period``; 0 when there was neither gain nor loss. NaN for the
    first ``period`` bars."""
    period = _check_period("period", period, 2)
    x = _panel(values)
    out = _nan_like(x)
    _rsi_kernel(x, period, out)
    return _shaped(out, values)


def macd(values: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    """MACD line (EMA(fast) - EMA(slow), both seeded with SMAs whose windows end on bar ``slow-1``), its
    signal EMA and the histogram (TA-Lib MACD). All three are NaN for the first ``slow+signal-2`` bars."""
    fast = _check_period("fast", fast, 2)
    slow = _check_period("slow", slow, 2)
    signal = _check_period("signal", signal, 1)
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be < slow ({slow})")
    x = _panel(values)
    line, sig, hist = _nan_like(x), _nan_like(x), _nan_like(x)
    _macd_kernel(x, fast, slow, signal, line, sig, hist)
    return Macd(_shaped(line, values), _shaped(sig, values), _shaped(hist, values))


def stochastic(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> Stochastic:
    """Slow stochastic (TA-Lib STOCH with SMA smoothing, its defaults 5/3/3): %K = SMA(slowk) of the fast
    %K, %D = SMA(slowd) of %K; both NaN for the first ``fastk+slowk+slowd-3`` bars."""
    fastk_period = _check_period("fastk_period", fastk_period, 1)
    slowk_period = _check_period("slowk_period", slowk_period, 1)
    slowd_period = _check_period("slowd_period", slowd_period, 1)
    h, lo, c = _panels(("high", high), ("low", low), ("close", close))
    fast_k, slow_k, slow_d = _nan_like(c), _nan_like(c), _nan_like(c)
    _stochastic_kernel(h, lo, c, fastk_period, slowk_period, slowd_period, fast_k, slow_k, slow_d)
    return Stochastic(_shaped(slow_k, close), _shaped(slow_d, close))


# ---------------------------------------------------------------------------- public: volatility / trend
def bollinger_bands(values: ArrayLike, period: int = 20, k: float = 2.0) -> BollingerBands:
    """Middle = SMA(period); upper/lower = middle +/- k * population standard deviation (ddof=0) over the
    same window (TA-Lib BBANDS, SMA type, nbdevup = nbdevdn = k). NaN for the first ``period-1`` bars."""
    period = _check_period("period", period, 2)
    if not math.isfinite(k) or k < 0:
        raise ValueError(f"k must be a finite number >= 0; got {k!r}")
    x = _panel(values)
    upper, middle, lower = _nan_like(x), _nan_like(x), _nan_like(x)
    _bollinger_kernel(x, period, float(k), upper, middle, lower)
    return BollingerBands(_shaped(upper, values), _shaped(middle, values), _shaped(lower, values))


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> np.ndarray:
    """max(high-low, |high-previous close|, |low-previous close|) (TA-Lib TRANGE); NaN on the first bar."""
    h, lo, c = _panels(("high", high), ("low", low), ("close", close))
    out = _nan_like(c)
    _true_range_kernel(h, lo, c, out)
    return _shaped(out, close)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> np.ndarray:
    """Wilder's average true range (TA-Lib ATR): the mean of the first ``period`` true ranges, then
    ``(atr*(period-1) + tr)/period``. NaN for the first ``period`` bars."""
    period = _check_period("period", period, 1)
    if period == 1:
        return true_range(high, low, close)
    h, lo, c = _panels(("high", high), ("low", low), ("close", close))
    out = _nan_like(c)
    _atr_kernel(h, lo, c, period, out)
    return _shaped(out, close)


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> Adx:
    """Wilder's directional movement (TA-Lib PLUS_DI, MINUS_DI, ADX): +DI/-DI from Wilder-smoothed +DM,
    -DM and true range (NaN for the first ``period`` bars); ADX = Wilder average of DX (NaN for the first
    ``2*period-1`` bars)."""
    period = _check_period("period", period, 2)
    h, lo, c = _panels(("high", high), ("low", low), ("close", close))
    plus_di, minus_di, average = _nan_like(c), _nan_like(c), _nan_like(c)
    _adx_kernel(h, lo, c, period, plus_di, minus_di, average)
    return Adx(_shaped(plus_di, close), _shaped(minus_di, close), _shaped(average, close))


def obv(close: ArrayLike, volume: ArrayLike) -> np.ndarray:
    """On-balance volume (TA-Lib OBV): starts at the first bar's volume, then adds the volume of up bars
    and subtracts that of down bars."""
    c, v = _panels(("close", close), ("volume", volume))
    out = _nan_like(c)
    _obv_kernel(c, v, out)
    return _shaped(out, close)


# ---------------------------------------------------------------------------- public: returns and statistics
def returns(prices: ArrayLike, periods: int = 1) -> np.ndarray:
    """Simple returns (p[t] - p[t-periods]) / p[t-periods] (TA-Lib ROCP); NaN for the first ``periods``."""
    periods = _check_period("periods", periods, 1)
    p = np.asarray(prices, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[periods:] = (p[periods:] - p[:-periods]) / p[:-periods]
    return out


def log_returns(prices: ArrayLike, periods: int = 1) -> np.ndarray:
    """log(p[t] / p[t-periods]); NaN for the first ``periods`` bars."""
    periods = _check_period("periods", periods, 1)
    p = np.asarray(prices, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[periods:] = np.log(p[periods:] / p[:-periods])
    return out


def _rolling_mean_std(values: ArrayLike, window: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    window = _check_period("window", window, 2)
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1; got {ddof!r}")
    x = _panel(values)
    mean, std = _nan_like(x), _nan_like(x)
    _rolling_mean_std_kernel(x, window, ddof, mean, std)
    return _shaped(mean, values), _shaped(std, values)


def rolling_std(values: ArrayLike, window: int, ddof: int = 0) -> np.ndarray:
    """Standard deviation over the last ``window`` values (ddof=0: population, as TA-Lib STDDEV)."""
    return _rolling_mean_std(values, window, ddof)[1]


def rolling_volatility(
    prices: ArrayLike, window: int = 20, periods_per_year: int = TRADING_DAYS_PER_YEAR, ddof: int = 1
) -> np.ndarray:
    """Annualized volatility: the sample (ddof=1) standard deviation of the last ``window`` log returns
    times sqrt(periods_per_year) (252 for daily bars). NaN for the first ``window`` bars (a return needs
    two prices)."""
    periods_per_year = _check_period("periods_per_year", periods_per_year, 1)
    return rolling_std(log_returns(prices), window, ddof) * math.sqrt(periods_per_year)


def zscore(values: ArrayLike, window: int, ddof: int = 0) -> np.ndarray:
    """(x - rolling mean) / rolling std over the last ``window`` values, std with ``ddof`` (0 default);
    NaN for the first ``window-1`` bars and where the window is flat (std 0)."""
    mean, std = _rolling_mean_std(values, window, ddof)
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0.0, (x - mean) / std, np.nan)
