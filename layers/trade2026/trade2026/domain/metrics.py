"""Performance metrics of per-bar returns, vectorized over columns (numpy only).

Conventions shared by every function here:

- ``returns`` are SIMPLE per-bar returns ``r_t = V_t / V_(t-1) - 1``: shape ``(T,)`` for one strategy or
  ``(T, N)`` for N strategies side by side (a sweep's configurations); results have shape ``()`` or ``(N,)``,
  one value per column, so a whole sweep's metrics come from one call.
- NaN bars (a configuration that has not started yet) are left out of means, deviations and counts, and
  compound as 0 (flat). ``n_bars`` below always means the non-NaN bars of a column.
- ``periods_per_year`` annualizes: 252 for daily bars (default), 52 weekly, 12 monthly, 252 * 390 for US
  regular-session one-minute bars. Volatility and Sharpe scale by ``sqrt(periods_per_year)``; returns
  compound geometrically: ``(1 + total) ** (periods_per_year / n_bars) - 1``.
- ``risk_free`` is an ANNUAL rate, turned into a per-bar rate geometrically:
  ``(1 + risk_free) ** (1 / periods_per_year) - 1`` (as quantstats does).
- Standard deviations are sample deviations (``ddof=1``); skewness and kurtosis are the population moment
  ratios ``m3 / m2**1.5`` and ``m4 / m2**2`` (kurtosis NOT excess: 3 for a normal distribution), the
  definitions the probabilistic and deflated Sharpe ratios use.
- Undefined values are NaN, never an exception: a Sharpe ratio of a column with zero volatility, a profit
  factor without trades. A ratio whose denominator is an exact zero but whose numerator is positive is +inf
  (Sortino without a losing bar, Calmar without a drawdown, profit factor without a losing trade).
- Drawdowns are measured on the equity curve that starts at the initial capital BEFORE the first bar, so a
  loss on the first bar is a drawdown; indices into that curve count bars: index k is the equity after k bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DAILY = 252
_FLAT_VARIANCE = 1e-10  # relative variance below which a rolling window counts as flat


# ---------------------------------------------------------------------------- shape helpers
def _columns(values: ArrayLike) -> FloatArray:
    """A 2-D float view (T, N) of a (T,) or (T, N) input."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array[:, None]
    if array.ndim != 2:
        raise ValueError(f"expected shape (T,) or (T, N), got {array.shape}")
    return array


def _per_column(values: NDArray[Any], like: ArrayLike) -> NDArray[Any]:
    """One value per column back in the caller's shape: () for a (T,) input, (N,) for (T, N)."""
    return values.reshape(()) if np.ndim(like) == 1 else values


def _bar_rate(risk_free: float, periods_per_year: float) -> float:
    return float((1.0 + risk_free) ** (1.0 / periods_per_year) - 1.0)


def _safe_divide(numerator: NDArray[Any], denominator: NDArray[Any]) -> FloatArray:
    """numerator / denominator; 0/0 -> NaN, x/0 -> +-inf, without warnings."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(numerator / denominator, dtype=np.float64)


def _sample_std(columns: FloatArray) -> FloatArray:
    """ddof=1 standard deviation per column, NaN bars left out; NaN with fewer than 2 bars."""
    n = np.sum(~np.isnan(columns), axis=0)
    mean = _nanmean(columns)
    squares = np.nansum((columns - mean) ** 2, axis=0)
    return np.sqrt(_safe_divide(squares, n - 1.0))


def _nanmean(columns: FloatArray) -> FloatArray:
    """Mean per column of the non-NaN bars (NaN for an all-NaN column, without a warning)."""
    n = np.sum(~np.isnan(columns), axis=0)
    return _safe_divide(np.nansum(columns, axis=0), n)


# ---------------------------------------------------------------------------- returns and risk
def n_bars(returns: ArrayLike) -> IntArray:
    """Number of non-NaN bars per column."""
    return _per_column(np.sum(~np.isnan(_columns(returns)), axis=0).astype(np.int64), returns)


def total_return(returns: ArrayLike) -> FloatArray:
    """Compounded return over the whole series: prod(1 + r) - 1 (NaN bars flat)."""
    columns = np.nan_to_num(_columns(returns), nan=0.0)
    return _per_column(np.prod(1.0 + columns, axis=0) - 1.0, returns)


def annualized_return(returns: ArrayLike, periods_per_year: float = DAILY) -> FloatArray:
    """Geometric annual growth: (1 + total) ** (periods_per_year / n_bars) - 1 (NaN when wiped below -100%)."""
    growth = 1.0 + _columns_total(returns)
    bars = np.sum(~np.isnan(_columns(returns)), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        annual = np.power(growth, periods_per_year / bars) - 1.0
    return _per_column(np.where(bars > 0, annual, np.nan), returns)


def _columns_total(returns: ArrayLike) -> FloatArray:
    return np.prod(1.0 + np.nan_to_num(_columns(returns), nan=0.0), axis=0) - 1.0


def annualized_volatility(returns: ArrayLike, periods_per_year: float = DAILY) -> FloatArray:
    """Sample standard deviation of the per-bar returns (ddof=1) times sqrt(periods_per_year)."""
    return _per_column(_sample_std(_columns(returns)) * np.sqrt(periods_per_year), returns)


def sharpe_ratio(returns: ArrayLike, risk_free: float = 0.0, periods_per_year: float = DAILY) -> FloatArray:
    """Annualized Sharpe ratio: mean(r - rf_bar) / std(r - rf_bar, ddof=1) * sqrt(periods_per_year).

    NaN when the volatility is zero (a configuration that never trades).
    """
    excess = _columns(returns) - _bar_rate(risk_free, periods_per_year)
    std = _sample_std(excess)
    sharpe = _safe_divide(_nanmean(excess), std) * np.sqrt(periods_per_year)
    return _per_column(np.where(std > 0, sharpe, np.nan), returns)


def downside_deviation(returns: ArrayLike, target: float = 0.0) -> FloatArray:
    """Per-bar target downside deviation: sqrt(mean(min(r - target, 0) ** 2)) over ALL (non-NaN) bars.

    The Sortino & Price (1994) lower partial moment of order 2, as empyrical/quantstats/vectorbt compute it:
    bars above the target count as zeros (the mean is over every bar, not only the losing ones).
    """
    shortfall = np.minimum(_columns(returns) - target, 0.0)
    return _per_column(np.sqrt(_nanmean(shortfall**2)), returns)


def sortino_ratio(returns: ArrayLike, risk_free: float = 0.0, periods_per_year: float = DAILY) -> FloatArray:
    """mean(r - rf_bar) / downside_deviation(r, target=rf_bar) * sqrt(periods_per_year); +inf without a losing bar."""
    bar_rate = _bar_rate(risk_free, periods_per_year)
    columns = _columns(returns)
    downside = np.sqrt(_nanmean(np.minimum(columns - bar_rate, 0.0) ** 2))
    sortino = _safe_divide(_nanmean(columns - bar_rate), downside) * np.sqrt(periods_per_year)
    return _per_column(sortino, returns)


def skewness(returns: ArrayLike) -> FloatArray:
    """Population skewness m3 / m2**1.5 of the non-NaN bars."""
    columns = _columns(returns)
    deviations = columns - _nanmean(columns)
    m2, m3 = _nanmean(deviations**2), _nanmean(deviations**3)
    return _per_column(_safe_divide(m3, m2**1.5), returns)


def kurtosis(returns: ArrayLike) -> FloatArray:
    """Population kurtosis m4 / m2**2 of the non-NaN bars (NOT excess: 3 for a normal distribution)."""
    columns = _columns(returns)
    deviations = columns - _nanmean(columns)
    m2, m4 = _nanmean(deviations**2), _nanmean(deviations**4)
    return _per_column(_safe_divide(m4, m2**2), returns)


def rolling_sharpe(
    returns: ArrayLike, window: int, risk_free: float = 0.0, periods_per_year: float = DAILY
) -> FloatArray:
    """Annualized Sharpe ratio over each trailing window of ``window`` bars, same shape as ``returns``.

    The first ``window - 1`` rows are NaN (warm-up), and so is every window holding a NaN bar or having zero
    volatility. O(T * N) from running sums of the column-centred returns (centring keeps the variance exact).
    """
    if window < 2:
        raise ValueError("window must be at least 2 bars")
    columns = _columns(returns) - _bar_rate(risk_free, periods_per_year)
    missing = np.isnan(columns)
    # Centring on the column mean keeps the running-sum variance exact; the mean is added back for the
    # Sharpe ratio (which, unlike the variance, is not shift invariant).
    shift = np.nan_to_num(_nanmean(columns), nan=0.0)
    centred = np.where(missing, 0.0, columns - shift)
    sums = _window_sums(centred, window)
    squares = _window_sums(centred**2, window)
    holes = _window_sums(missing.astype(np.float64), window)
    variance = (squares - sums**2 / window) / (window - 1)
    std = np.sqrt(np.maximum(variance, 0.0))
    sharpe = _safe_divide(sums / window + shift, std) * np.sqrt(periods_per_year)
    # A flat window (no position) leaves rounding noise ~1e-16 of its mean square: that is zero volatility.
    flat = variance <= _FLAT_VARIANCE * squares / window
    valid = (holes == 0) & ~flat
    result = np.full(columns.shape, np.nan)
    result[window - 1 :] = np.where(valid, sharpe, np.nan)
    return result.reshape(np.shape(returns))


def _window_sums(values: FloatArray, window: int) -> FloatArray:
    """Sums over each trailing window: rows window-1 .. T-1 of the input, shape (T - window + 1, N)."""
    cumulative = np.cumsum(values, axis=0)
    sums = cumulative[window - 1 :].copy()
    sums[1:] -= cumulative[:-window]
    return sums


# ---------------------------------------------------------------------------- drawdowns
def equity_curve(returns: ArrayLike, initial: float = 1.0) -> FloatArray:
    """Equity after each bar with the initial capital first: shape (T + 1,) or (T + 1, N); NaN bars are flat."""
    columns = np.nan_to_num(_columns(returns), nan=0.0)
    curve = np.empty((columns.shape[0] + 1, columns.shape[1]))
    curve[0] = initial
    np.cumprod(1.0 + columns, axis=0, out=curve[1:])
    curve[1:] *= initial
    return curve[:, 0] if np.ndim(returns) == 1 else curve


def drawdowns(equity: ArrayLike) -> FloatArray:
    """Drawdown at each point of a positive equity curve: equity / running peak - 1 (0 at a new high, < 0 below)."""
    curve = np.asarray(equity, dtype=np.float64)
    return curve / np.maximum.accumulate(curve, axis=0) - 1.0


@dataclass(frozen=True)
class DrawdownStats:
    """The deepest drawdown and the longest time under water of each column of an equity curve.

    Indices are rows of the equity curve given (for ``equity_curve(returns)``: equity after that many bars).
    ``max_drawdown`` is <= 0 (-0.25 = a 25% fall from the peak). The max-drawdown episode runs from ``peak``
    (the last high before the trough) through ``trough``; ``start`` is the first row below the peak and ``end``
    the last one (the row before the recovery, or the last row when ``recovered`` is False);
    ``duration = end - start + 1`` bars spent under the peak. ``longest_*`` describe the longest run of
    consecutive rows under water, whichever its depth. Columns that never fall have depth 0, duration 0 and
    indices -1.
    """

    max_drawdown: FloatArray
    peak: IntArray
    trough: IntArray
    start: IntArray
    end: IntArray
    duration: IntArray
    recovered: BoolArray
    longest_duration: IntArray
    longest_start: IntArray
    longest_end: IntArray


def drawdown_stats(equity: ArrayLike) -> DrawdownStats:
    """Depth, dates and durations of drawdowns of an equity curve (T,) or (T, N), positive and finite."""
    curve = _columns(equity)
    rows_count, width = curve.shape
    running_peak = np.maximum.accumulate(curve, axis=0)
    depth = curve / running_peak - 1.0
    rows = np.arange(rows_count)[:, None]
    at_high = curve >= running_peak
    last_high = np.maximum.accumulate(np.where(at_high, rows, 0), axis=0)
    columns = np.arange(width)
    trough = np.argmin(depth, axis=0)
    max_drawdown = depth[trough, columns]
    peak = last_high[trough, columns]
    back_at_peak = at_high & (rows > trough)
    recovered = back_at_peak.any(axis=0)
    end = np.where(recovered, np.argmax(back_at_peak, axis=0) - 1, rows_count - 1)
    fell = max_drawdown < 0
    under_water = rows - last_high  # bars since the last high (0 at a high)
    longest = under_water.max(axis=0)
    longest_end = np.argmax(under_water, axis=0)

    def shaped(values: NDArray[Any], absent: int) -> IntArray:
        return _per_column(np.where(fell, values, absent).astype(np.int64), equity)

    return DrawdownStats(
        max_drawdown=_per_column(np.where(fell, max_drawdown, 0.0), equity),
        peak=shaped(peak, -1),
        trough=shaped(trough, -1),
        start=shaped(peak + 1, -1),
        end=shaped(end, -1),
        duration=shaped(end - peak, 0),
        recovered=_per_column(recovered | ~fell, equity),
        longest_duration=shaped(longest, 0),
        longest_start=shaped(longest_end - longest + 1, -1),
        longest_end=shaped(longest_end, -1),
    )


def max_drawdown(returns: ArrayLike) -> FloatArray:
    """Deepest fall of the compounded equity from a previous peak (initial capital included), <= 0."""
    return drawdown_stats(equity_curve(returns)).max_drawdown


def calmar_ratio(returns: ArrayLike, periods_per_year: float = DAILY) -> FloatArray:
    """annualized_return / |max_drawdown| over the whole series (+inf when growing without a drawdown)."""
    return _safe_divide(annualized_return(returns, periods_per_year), np.abs(max_drawdown(returns)))


# ---------------------------------------------------------------------------- positions and trades
def exposure(positions: ArrayLike) -> FloatArray:
    """Share of (non-NaN) bars with a non-zero position: time in the market, 0..1."""
    columns = _columns(positions)
    held = np.where(np.isnan(columns), np.nan, (columns != 0).astype(np.float64))
    return _per_column(_nanmean(held), positions)


def turnover(weights: ArrayLike, periods_per_year: float = DAILY) -> FloatArray:
    """Annualized turnover: mean over bars of sum |w_t - w_(t-1)| (w_(-1) = 0) times periods_per_year.

    ``weights`` are positions as fractions of equity (T,) or (T, N); NaN is flat. Both legs count: going
    fully long and back to cash is a turnover of 2.0.
    """
    columns = np.nan_to_num(_columns(weights), nan=0.0)
    changes = np.abs(np.diff(columns, axis=0, prepend=0.0))
    return _per_column(changes.mean(axis=0) * periods_per_year, weights)


@dataclass(frozen=True)
class TradeStats:
    """Statistics of closed trades, one value per column (group).

    A trade wins when its pnl > 0 and loses when pnl < 0 (a zero-pnl trade counts in ``n_trades`` only).
    ``average_loss`` is negative; ``expectancy`` is the mean pnl per trade
    (= hit_rate * average_win + loss_rate * average_loss). The ``*_return`` fields are the same statistics of
    the trades' returns (classified by pnl), NaN when returns were not given.
    """

    n_trades: IntArray
    hit_rate: FloatArray
    profit_factor: FloatArray
    average_win: FloatArray
    average_loss: FloatArray
    expectancy: FloatArray
    average_win_return: FloatArray
    average_loss_return: FloatArray
    expectancy_return: FloatArray


def trade_stats(
    pnl: ArrayLike,
    returns: ArrayLike | None = None,
    column: ArrayLike | None = None,
    n_columns: int | None = None,
) -> TradeStats:
    """Hit rate, profit factor, average win/loss and expectancy of a trade list, vectorized over groups.

    ``pnl`` (and optional ``returns``) hold one value per closed trade. ``column`` gives each trade's column
    (configuration) index, so one flat trade list of a whole sweep yields (n_columns,) arrays; without it the
    trades form one group and every field is 0-d.
    """
    profit = np.asarray(pnl, dtype=np.float64).ravel()
    groups = np.zeros(profit.size, dtype=np.int64) if column is None else np.asarray(column, dtype=np.int64)
    width = n_columns if n_columns is not None else (int(groups.max()) + 1 if groups.size else 1)

    def total(weights: NDArray[Any]) -> FloatArray:
        return np.bincount(groups, weights=weights, minlength=width).astype(np.float64)

    wins, losses = profit > 0, profit < 0
    count, n_wins, n_losses = total(np.ones_like(profit)), total(wins), total(losses)
    gross_profit, gross_loss = total(np.where(wins, profit, 0.0)), total(np.where(losses, profit, 0.0))
    trade_returns = (
        np.full(profit.size, np.nan) if returns is None else np.asarray(returns, dtype=np.float64).ravel()
    )
    fields = {
        "n_trades": count.astype(np.int64),
        "hit_rate": _safe_divide(n_wins, count),
        "profit_factor": np.where(count > 0, _safe_divide(gross_profit, np.abs(gross_loss)), np.nan),
        "average_win": _safe_divide(gross_profit, n_wins),
        "average_loss": _safe_divide(gross_loss, n_losses),
        "expectancy": _safe_divide(total(profit), count),
        "average_win_return": _safe_divide(total(np.where(wins, trade_returns, 0.0)), n_wins),
        "average_loss_return": _safe_divide(total(np.where(losses, trade_returns, 0.0)), n_losses),
        "expectancy_return": _safe_divide(total(trade_returns), count),
    }
    if column is None:
        fields = {name: values.reshape(()) for name, values in fields.items()}
    return TradeStats(**fields)


# ---------------------------------------------------------------------------- calendar
@dataclass(frozen=True)
class MonthlyReturns:
    """Compounded return of each calendar month present (UTC), in time order.

    ``year`` and ``month`` (1-12) have shape (M,); ``returns`` has shape (M,) or (M, N) like the input.
    """

    year: IntArray
    month: IntArray
    returns: FloatArray


def monthly_returns(returns: ArrayLike, timestamps_ns: ArrayLike) -> MonthlyReturns:
    """Group per-bar returns by calendar (year, month) of their epoch-nanosecond UTC timestamps and compound.

    The bar's timestamp decides its month (use the bar's close time for bars stamped at their end). Timestamps
    need not be sorted; NaN bars are flat. The input for a monthly-returns heat map (see ``monthly_table``).
    """
    columns = np.nan_to_num(_columns(returns), nan=0.0)
    stamps = np.asarray(timestamps_ns, dtype=np.int64)
    if stamps.shape != (columns.shape[0],):
        raise ValueError("timestamps_ns needs one timestamp per bar")
    months = stamps.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    keys, inverse = np.unique(months, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(keys.size))
    growth = np.multiply.reduceat(1.0 + columns[order], starts, axis=0) - 1.0 if keys.size else columns[:0]
    result = growth if np.ndim(returns) == 2 else growth[:, 0]
    return MonthlyReturns(
        year=(keys // 12 + 1970).astype(np.int64), month=(keys % 12 + 1).astype(np.int64), returns=result
    )


def monthly_table(monthly: MonthlyReturns) -> tuple[IntArray, FloatArray]:
    """(years, table): table[i, m - 1] is the return of month m of years[i]; NaN where the month has no bar.

    Shape (Y, 12) for one strategy, (Y, 12, N) for N.
    """
    years = np.unique(monthly.year)
    values = np.asarray(monthly.returns)
    table = np.full((years.size, 12, *values.shape[1:]), np.nan)
    table[np.searchsorted(years, monthly.year), monthly.month - 1] = values
    return years, table


# ---------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class PerformanceSummary:
    """Every headline metric of each column (shape () or (N,)); see the module docstring for conventions."""

    n_bars: IntArray
    total_return: FloatArray
    annualized_return: FloatArray
    annualized_volatility: FloatArray
    sharpe: FloatArray
    sortino: FloatArray
    calmar: FloatArray
    max_drawdown: FloatArray
    max_drawdown_duration: IntArray
    max_drawdown_start: IntArray
    max_drawdown_end: IntArray
    longest_drawdown_duration: IntArray
    skewness: FloatArray
    kurtosis: FloatArray
    exposure: FloatArray
    turnover: FloatArray

    def records(self) -> list[dict[str, float | int | None]]:
        """One JSON-ready dict per column (NaN and inf become None)."""
        fields = {name: np.atleast_1d(value) for name, value in vars(self).items()}
        width = len(fields["n_bars"])
        return [{name: _json_number(values[i]) for name, values in fields.items()} for i in range(width)]


def _json_number(value: Any) -> float | int | None:
    if isinstance(value, np.integer):
        return int(value)
    number = float(value)
    return number if np.isfinite(number) else None


def performance_summary(
    returns: ArrayLike,
    periods_per_year: float = DAILY,
    risk_free: float = 0.0,
    positions: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> PerformanceSummary:
    """All headline metrics in one call; exposure from ``positions`` and turnover from ``weights`` (NaN if absent)."""
    columns = _columns(returns)
    dd = drawdown_stats(equity_curve(columns))
    annual = annualized_return(columns, periods_per_year)
    missing = np.full(columns.shape[1], np.nan)

    def shaped(values: NDArray[Any]) -> NDArray[Any]:
        return _per_column(np.asarray(values), returns)

    return PerformanceSummary(
        n_bars=shaped(n_bars(columns)),
        total_return=shaped(total_return(columns)),
        annualized_return=shaped(annual),
        annualized_volatility=shaped(annualized_volatility(columns, periods_per_year)),
        sharpe=shaped(sharpe_ratio(columns, risk_free, periods_per_year)),
        sortino=shaped(sortino_ratio(columns, risk_free, periods_per_year)),
        calmar=shaped(_safe_divide(annual, np.abs(dd.max_drawdown))),
        max_drawdown=shaped(dd.max_drawdown),
        max_drawdown_duration=shaped(dd.duration),
        max_drawdown_start=shaped(dd.start),
        max_drawdown_end=shaped(dd.end),
        longest_drawdown_duration=shaped(dd.longest_duration),
        skewness=shaped(skewness(columns)),
        kurtosis=shaped(kurtosis(columns)),
        exposure=shaped(missing if positions is None else exposure(_columns(positions))),
        turnover=shaped(missing if weights is None else turnover(_columns(weights), periods_per_year)),
    )


def bar_dates_ns(dates: ArrayLike) -> IntArray:
    """Epoch nanoseconds of datetime64 dates (e.g. the demo data's ``date`` column) for ``monthly_returns``."""
    return np.asarray(dates).astype("datetime64[ns]").astype(np.int64)


__all__ = [
    "DAILY",
    "DrawdownStats",
    "MonthlyReturns",
    "PerformanceSummary",
    "TradeStats",
    "annualized_return",
    "annualized_volatility",
    "bar_dates_ns",
    "calmar_ratio",
    "downside_deviation",
    "drawdown_stats",
    "drawdowns",
    "equity_curve",
    "exposure",
    "kurtosis",
    "max_drawdown",
    "monthly_returns",
    "monthly_table",
    "n_bars",
    "performance_summary",
    "rolling_sharpe",
    "sharpe_ratio",
    "skewness",
    "sortino_ratio",
    "total_return",
    "trade_stats",
    "turnover",
]
