"""Alpha scanners: twelve causal signals over a panel of daily bars, their hits on a date, and forward-return
studies of their past hits.

Every scanner computes its whole signal matrix at once, shape (T, N) (bars x symbols), and the value at bar t
uses bars <= t only (the indicators are causal; cross-sectional ranks use row t only). So:

- a scan on a date is one row of the matrix (the hits, ranked by score, with the numbers behind them);
- the forward-return study is arithmetic on the matrices: for each horizon h, the mean of
  close[t+h]/close[t] - 1 over the hits (t, symbol) against the mean over every eligible (t, symbol).

Close-only data (the 20-stock set: open = high = low = close, no volume) cannot feed scanners that need bar
ranges or volume: those symbols are listed as skipped with the reason, never computed on invented data.

Pure numpy (indicators from ``trade2026.domain.indicators``, TA-Lib-exact): no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trade2026.domain import indicators as ind

HORIZONS = (1, 5, 20)
NEEDS_RANGE = "range"
NEEDS_VOLUME = "volume"


class ScannerError(ValueError):
    """Bad scanner parameters (the message names the parameter and the allowed range)."""


# ---------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Panel:
    """Daily bars of several symbols on one calendar: (T, N) arrays, NaN where a symbol has no bar."""

    symbols: tuple[str, ...]
    dates: np.ndarray  # datetime64[D], (T,), increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    has_range: np.ndarray  # (N,) bool: open/high/low are real (not copies of the close)
    has_volume: np.ndarray  # (N,) bool

    @classmethod
    def from_columns(cls, columns: Mapping[str, Mapping[str, np.ndarray]]) -> Panel:
        """Align per-symbol columns (``date`` datetime64[D] or ``ts`` ns, open, high, low, close, volume) on
        the union of their dates. Range/volume availability is read from the data itself."""
        symbols = tuple(str(s) for s in columns)
        keyed = {str(s): _dates_of(c) for s, c in columns.items()}
        data = {str(s): c for s, c in columns.items()}
        dates = np.unique(np.concatenate(list(keyed.values()))) if symbols else np.empty(0, "M8[D]")
        shape = (len(dates), len(symbols))
        arrays = {name: np.full(shape, np.nan) for name in ("open", "high", "low", "close", "volume")}
        for j, symbol in enumerate(symbols):
            rows = np.searchsorted(dates, keyed[symbol])
            for name, array in arrays.items():
                values = data[symbol].get(name)
                if values is not None:
                    array[rows, j] = np.asarray(values, dtype=np.float64)
        close = arrays["close"]
        with np.errstate(invalid="ignore"):
            flat = np.all((arrays["high"] == close) | np.isnan(close), axis=0) & np.all(
                (arrays["low"] == close) | np.isnan(close), axis=0
            )
        has_range = ~flat & np.any(np.isfinite(arrays["open"]), axis=0)
        has_volume = np.any(np.isfinite(arrays["volume"]) & (arrays["volume"] > 0), axis=0)
        return cls(symbols, dates, has_range=has_range, has_volume=has_volume, **arrays)

    def head(self, rows: int) -> Panel:
        """The first ``rows`` bars (what the panel looked like then)."""
        return replace(
            self, dates=self.dates[:rows], open=self.open[:rows], high=self.high[:rows], low=self.low[:rows],
            close=self.close[:rows], volume=self.volume[:rows],
        )  # fmt: skip

    def row_of(self, day: str | np.datetime64 | None) -> int:
        """The last bar on or before ``day`` (the latest bar when None); -1 when the data starts later."""
        if day is None:
            return len(self.dates) - 1
        return int(np.searchsorted(self.dates, np.array(day, dtype="datetime64[D]"), side="right")) - 1


def _dates_of(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    if "date" in columns:
        return np.asarray(columns["date"]).astype("datetime64[D]")
    return np.asarray(columns["ts"], dtype=np.int64).astype("datetime64[ns]").astype("datetime64[D]")


@dataclass
class Signal:
    """A scanner's output over the whole panel, (T, N) each."""

    score: np.ndarray  # larger = stronger; NaN where not computable
    hit: np.ndarray  # bool
    side: np.ndarray  # int8: +1 bullish, -1 bearish, 0 non-directional (meaningful where hit)
    values: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    minimum: float
    maximum: float
    integer: bool
    description: str


Compute = Callable[[Panel, Mapping[str, Any], "np.ndarray | None"], Signal]


@dataclass(frozen=True)
class Scanner:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    needs: frozenset[str]
    compute: Compute
    min_bars: Callable[[Mapping[str, Any]], int]
    cross_sectional: bool = False
    sampled: bool = False  # the signal is computed on a grid of bars (every `step`), not every bar

    def validate(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(given or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ScannerError(f"{self.name}: unknown parameter(s) {unknown}; known: {sorted(known)}")
        checked: dict[str, Any] = {}
        for p in self.params:
            value = given.get(p.name, p.default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ScannerError(f"{self.name}: {p.name} must be a number; got {value!r}")
            if p.integer and float(value) != int(value):
                raise ScannerError(f"{self.name}: {p.name} must be an integer; got {value!r}")
            if not p.minimum <= value <= p.maximum:
                raise ScannerError(
                    f"{self.name}: {p.name} must be in [{p.minimum:g}, {p.maximum:g}]; got {value!r}"
                )
            checked[p.name] = int(value) if p.integer else float(value)
        self._check_relations(checked)
        return checked

    def _check_relations(self, params: Mapping[str, Any]) -> None:
        if self.name == "momentum_12_1" and params["skip"] >= params["lookback"]:
            raise ScannerError(
                f"momentum_12_1: skip ({params['skip']}) must be < lookback ({params['lookback']})"
            )
        if self.name == "ma_cross" and params["fast"] >= params["slow"]:
            raise ScannerError(f"ma_cross: fast ({params['fast']}) must be < slow ({params['slow']})")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "needs": sorted(self.needs),
            "cross_sectional": self.cross_sectional,
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "type": "integer" if p.integer else "number",
                    "description": p.description,
                }
                for p in self.params
            ],
        }


# ---------------------------------------------------------------------------- helpers (causal)
def lag(x: np.ndarray, periods: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    if periods < len(x):
        out[periods:] = x[: len(x) - periods]
    return out


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def rolling(x: np.ndarray, window: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """reduce over the last ``window`` rows including the current one (NaN in the warm-up)."""
    out = np.full(x.shape, np.nan)
    if window <= len(x):
        out[window - 1 :] = reduce(sliding_window_view(x, window, axis=0), axis=-1)
    return out


def _rolling_percentile(x: np.ndarray, window: int) -> np.ndarray:
    """Share of the last ``window`` values (current included) that are <= the current value."""
    out = np.full(x.shape, np.nan)
    if window <= len(x):
        views = sliding_window_view(x, window, axis=0)  # (T-w+1, N, w)
        current = x[window - 1 :, :, None]
        with np.errstate(invalid="ignore"):
            share = (views <= current).mean(axis=-1)
        complete = np.isfinite(views).all(axis=-1) & np.isfinite(x[window - 1 :])
        out[window - 1 :] = np.where(complete, share, np.nan)
    return out


def _cross_section(score: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the top ``fraction`` of valid scores (bullish) and the bottom one (bearish)."""
    valid = np.isfinite(score)
    count = valid.sum(axis=1, keepdims=True)
    take = np.floor(fraction * count)
    filled = np.where(valid, score, np.inf)
    ranks = np.empty(score.shape, dtype=np.int64)  # 0 = lowest valid score
    np.put_along_axis(ranks, np.argsort(filled, axis=1, kind="stable"),
                      np.arange(score.shape[1])[None, :].repeat(len(score), axis=0), axis=1)  # fmt: skip
    top = valid & (take >= 1) & (ranks >= count - take)
    bottom = valid & (take >= 1) & (ranks < take) & ~top
    return top, bottom


def _directional(score: np.ndarray, hit: np.ndarray, side: np.ndarray, **values: np.ndarray) -> Signal:
    return Signal(score, hit & np.isfinite(score), np.where(hit, side, 0).astype(np.int8), values)


# ---------------------------------------------------------------------------- the scanners
def _momentum(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    c = panel.close
    score = ratio(lag(c, p["skip"]), lag(c, p["lookback"])) - 1.0
    top, bottom = _cross_section(score, p["fraction"])
    return _directional(score, top | bottom, np.where(top, 1, -1), **{"return_12_1": score})


def _reversal(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    ret = ratio(panel.close, lag(panel.close, p["lookback"])) - 1.0
    score = -ret  # the biggest losers score highest (expected to bounce)
    top, bottom = _cross_section(score, p["fraction"])
    return _directional(score, top | bottom, np.where(top, 1, -1), **{"return": ret})


def _high_52w(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    n = p["lookback"]
    high = np.where(np.isfinite(panel.high), panel.high, panel.close)
    high_n = rolling(high, n, np.max)
    prior_high = lag(high_n, 1)
    proximity = ratio(panel.close, high_n)
    with np.errstate(invalid="ignore"):
        breakout = panel.close > prior_high
    hit = (proximity >= p["threshold"]) | breakout
    return _directional(
        proximity, hit, np.ones(hit.shape), high_52w=high_n, proximity=proximity,
        breakout=np.where(np.isfinite(prior_high), breakout.astype(float), np.nan),
    )  # fmt: skip


def _rsi_extremes(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    rsi = ind.rsi(panel.close, p["period"])
    score = np.maximum(p["lower"] - rsi, rsi - p["upper"])  # > 0 beyond a threshold
    with np.errstate(invalid="ignore"):
        hit = (rsi < p["lower"]) | (rsi > p["upper"])
    return _directional(score, hit, np.where(rsi < p["lower"], 1, -1), rsi=rsi)


def _bollinger_squeeze(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    bands = ind.bollinger_bands(panel.close, p["period"], p["k"])
    width = ratio(bands.upper - bands.lower, bands.middle)
    pct = _rolling_percentile(width, p["lookback"])
    with np.errstate(invalid="ignore"):
        hit = pct <= p["percentile"]
    return _directional(1.0 - pct, hit, np.zeros(hit.shape), bandwidth=width, bandwidth_percentile=pct)


def _relative_volume(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    volume = np.where(panel.has_volume[None, :], panel.volume, np.nan)
    average = lag(rolling(volume, p["window"], np.mean), 1)  # the previous `window` sessions
    rel = ratio(volume, average)
    change = panel.close - lag(panel.close, 1)
    with np.errstate(invalid="ignore"):
        hit = rel >= p["threshold"]
    return _directional(rel, hit, np.sign(np.nan_to_num(change)), relative_volume=rel, average_volume=average)


def _gaps(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    opens = np.where(panel.has_range[None, :], panel.open, np.nan)
    gap = ratio(opens, lag(panel.close, 1)) - 1.0
    with np.errstate(invalid="ignore"):
        hit = np.abs(gap) >= p["min_gap"]
    return _directional(np.abs(gap), hit, np.sign(np.nan_to_num(gap)), gap=gap)


def _ma_cross(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    fast, slow = ind.sma(panel.close, p["fast"]), ind.sma(panel.close, p["slow"])
    with np.errstate(invalid="ignore"):
        above = fast > slow
        valid = np.isfinite(fast) & np.isfinite(slow)
    previous_above, previous_valid = lag(above.astype(float), 1) == 1, lag(valid.astype(float), 1) == 1
    golden = valid & previous_valid & above & ~previous_above
    death = valid & previous_valid & ~above & previous_above
    within = p["within"]
    recent_golden = rolling(golden.astype(float), within, np.max) == 1
    recent_death = rolling(death.astype(float), within, np.max) == 1
    # Hit: a cross in the last `within` bars that still holds today.
    hit = (recent_golden & above) | (recent_death & ~above & valid)
    spread = ratio(fast, slow) - 1.0
    return _directional(np.abs(spread), hit & valid, np.where(above, 1, -1), sma_fast=fast, sma_slow=slow,
                        spread=spread)  # fmt: skip


def _volatility_contraction(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    ok = panel.has_range[None, :]
    high, low = np.where(ok, panel.high, np.nan), np.where(ok, panel.low, np.nan)
    bar_range = high - low
    narrowest = rolling(bar_range, p["nr"], np.min)
    with np.errstate(invalid="ignore"):
        nr = (bar_range <= narrowest) & np.isfinite(narrowest)
    atr_pct = ratio(ind.atr(high, low, panel.close, p["atr_period"]), panel.close)
    pct = _rolling_percentile(atr_pct, p["lookback"])
    with np.errstate(invalid="ignore"):
        hit = nr & (pct <= p["max_percentile"])
    return _directional(1.0 - pct, hit, np.zeros(hit.shape), range=bar_range, narrowest_range=narrowest,
                        atr_pct=atr_pct, atr_percentile=pct)  # fmt: skip


def _adx_trend(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    ok = panel.has_range[None, :]
    high, low = np.where(ok, panel.high, np.nan), np.where(ok, panel.low, np.nan)
    result = ind.adx(high, low, panel.close, p["period"])
    with np.errstate(invalid="ignore"):
        hit = result.adx >= p["threshold"]
    side = np.where(result.plus_di >= result.minus_di, 1, -1)
    return _directional(
        result.adx, hit, side, adx=result.adx, plus_di=result.plus_di, minus_di=result.minus_di
    )


def _zscore_reversion(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    z = ind.zscore(panel.close, p["window"])
    with np.errstate(invalid="ignore"):
        hit = np.abs(z) >= p["threshold"]
    return _directional(np.abs(z), hit, -np.sign(np.nan_to_num(z)), zscore=z)


def _time_machine(panel: Panel, p: Mapping[str, Any], rows: np.ndarray | None) -> Signal:
    """Score at bar t: mean forward return (over ``horizon``) of the ``k`` nearest past windows of the same
    symbol to its window ending at t, among windows that end before that window starts and whose forward
    return was known at t."""
    m, k, h = p["window"], p["k"], p["horizon"]
    t_count, n_symbols = panel.close.shape
    if rows is None:
        rows = np.arange(0, t_count, p["step"])
    score = np.full(panel.close.shape, np.nan)
    analogues = np.full(panel.close.shape, np.nan)
    for j in range(n_symbols):
        score[rows, j], analogues[rows, j] = _analogue_scores(panel.close[:, j], rows, m, k, h)
    top, bottom = _cross_section(score, p["fraction"])
    return _directional(score, top | bottom, np.where(top, 1, -1), analogue_forward_return=score,
                        analogues=analogues)  # fmt: skip


def _analogue_scores(
    close: np.ndarray, rows: np.ndarray, m: int, k: int, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized over all query bars at once: z-normalized windows, one matrix product for every distance."""
    out, counts = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    if len(close) < m:
        return out, counts
    views = sliding_window_view(close, m)  # window s covers bars s .. s+m-1
    mean, std = views.mean(axis=1), views.std(axis=1)
    usable = np.isfinite(std) & (std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    z = np.where(usable[:, None], (views - mean[:, None]) / np.where(usable, std, 1.0)[:, None], 0.0)
    ends = np.arange(len(views)) + m - 1
    forward = np.full(len(views), np.nan)
    known = ends + h < len(close)
    forward[known] = close[ends[known] + h] / close[ends[known]] - 1.0
    query_rows = rows[(rows >= m - 1)]
    starts = query_rows - m + 1
    good = usable[starts]
    query_rows, starts = query_rows[good], starts[good]
    if len(starts) == 0:
        return out, counts
    distance2 = 2.0 * m - 2.0 * (z[starts] @ z.T)  # (queries, windows)
    allowed = (
        usable[None, :] & np.isfinite(forward)[None, :] & (ends[None, :] + max(h, m) <= query_rows[:, None])
    )
    distance2 = np.where(allowed, distance2, np.inf)
    picked_sum, picked = np.zeros(len(starts)), np.zeros(len(starts))
    columns = np.arange(len(views))[None, :]
    for _ in range(k):
        best = np.argmin(distance2, axis=1)
        found = np.isfinite(distance2[np.arange(len(starts)), best])
        picked_sum += np.where(found, forward[best], 0.0)
        picked += found
        distance2[np.abs(columns - best[:, None]) < m] = np.inf  # exclusion zone around the chosen window
    position = np.searchsorted(rows, query_rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[position] = np.where(picked >= k, picked_sum / picked, np.nan)
    counts[position] = picked
    return out, counts


def _p(name: str, default: float, low: float, high: float, integer: bool, text: str) -> Param:
    return Param(name, default, low, high, integer, text)


FRACTION = _p("fraction", 0.2, 0.01, 0.5, False, "share of the universe taken at each end of the ranking")
SCANNERS: dict[str, Scanner] = {
    s.name: s
    for s in (
        Scanner("momentum_12_1", "12-1 momentum",
                "Return from 12 months to 1 month ago, ranked across the universe: top = bullish, bottom = bearish",
                (_p("lookback", 252, 20, 1000, True, "bars back to the start"),
                 _p("skip", 21, 0, 250, True, "most recent bars left out"), FRACTION),
                frozenset(), _momentum, lambda p: p["lookback"] + 1, cross_sectional=True),
        Scanner("short_term_reversal", "Short-term reversal",
                "Biggest recent losers (bullish) and winners (bearish) across the universe",
                (_p("lookback", 5, 1, 60, True, "bars of the recent return"), FRACTION),
                frozenset(), _reversal, lambda p: p["lookback"] + 1, cross_sectional=True),
        Scanner("high_52w", "52-week high proximity / breakout",
                "Close within `threshold` of the highest high of `lookback` bars, or above the prior high",
                (_p("lookback", 252, 20, 1000, True, "bars of the high"),
                 _p("threshold", 0.98, 0.5, 1.0, False, "close / high at or above which a symbol is a hit")),
                frozenset(), _high_52w, lambda p: p["lookback"] + 1),
        Scanner("rsi_extremes", "RSI extremes", "Wilder RSI below `lower` (bullish) or above `upper` (bearish)",
                (_p("period", 14, 2, 200, True, "RSI period"), _p("lower", 30, 1, 50, False, "oversold below"),
                 _p("upper", 70, 50, 99, False, "overbought above")),
                frozenset(), _rsi_extremes, lambda p: p["period"] + 1),
        Scanner("bollinger_squeeze", "Bollinger squeeze",
                "Band width (upper-lower)/middle in the lowest `percentile` of its last `lookback` values",
                (_p("period", 20, 2, 200, True, "band period"), _p("k", 2.0, 0.5, 5.0, False, "band width in std"),
                 _p("lookback", 126, 10, 1000, True, "bars of the width's history"),
                 _p("percentile", 0.1, 0.0, 1.0, False, "hit at or below this percentile")),
                frozenset(), _bollinger_squeeze, lambda p: p["period"] + p["lookback"] - 1),
        Scanner("relative_volume", "Relative-volume spike",
                "Volume at least `threshold` times its average of the previous `window` sessions",
                (_p("window", 20, 2, 250, True, "sessions of the average"),
                 _p("threshold", 2.0, 1.0, 100.0, False, "hit at or above this multiple")),
                frozenset({NEEDS_VOLUME}), _relative_volume, lambda p: p["window"] + 1),
        Scanner("gaps", "Gaps", "Open at least `min_gap` away from the previous close (up: bullish, down: bearish)",
                (_p("min_gap", 0.02, 0.001, 0.5, False, "absolute gap, as a fraction"),),
                frozenset({NEEDS_RANGE}), _gaps, lambda p: 2),
        Scanner("ma_cross", "Golden / death cross",
                "SMA(fast) crossed SMA(slow) within the last `within` bars and is still on that side",
                (_p("fast", 50, 2, 500, True, "fast SMA"), _p("slow", 200, 3, 1000, True, "slow SMA"),
                 _p("within", 1, 1, 60, True, "bars since the cross")),
                frozenset(), _ma_cross, lambda p: p["slow"] + 1),
        Scanner("volatility_contraction", "Volatility contraction (NR7 / ATR percentile)",
                "Narrowest range of the last `nr` bars and ATR/close in the lowest `max_percentile` of its history",
                (_p("nr", 7, 2, 50, True, "bars of the narrow-range test"),
                 _p("atr_period", 14, 2, 200, True, "ATR period"),
                 _p("lookback", 252, 20, 1000, True, "bars of the ATR percentile"),
                 _p("max_percentile", 0.2, 0.0, 1.0, False, "hit at or below this ATR percentile")),
                frozenset({NEEDS_RANGE}), _volatility_contraction, lambda p: p["atr_period"] + p["lookback"]),
        Scanner("adx_trend", "Trend strength (ADX)", "ADX at or above `threshold`; side from +DI vs -DI",
                (_p("period", 14, 2, 200, True, "ADX period"), _p("threshold", 25, 1, 100, False, "hit at or above")),
                frozenset({NEEDS_RANGE}), _adx_trend, lambda p: 2 * p["period"]),
        Scanner("zscore_reversion", "Z-score mean reversion",
                "Close at least `threshold` rolling standard deviations from its rolling mean (fade the move)",
                (_p("window", 20, 2, 500, True, "bars of the mean and std"),
                 _p("threshold", 2.0, 0.5, 10.0, False, "hit at or above |z|")),
                frozenset(), _zscore_reversion, lambda p: p["window"]),
        Scanner("time_machine", "Time machine",
                "Symbols whose current window's nearest past analogues (same symbol) had the best forward returns",
                (_p("window", 60, 10, 250, True, "bars of the pattern"), _p("k", 10, 1, 50, True, "analogues"),
                 _p("horizon", 20, 1, 120, True, "forward bars of the analogues' returns"), FRACTION,
                 _p("step", 21, 5, 252, True, "the study evaluates every `step`-th bar")),
                frozenset(), _time_machine, lambda p: p["window"] + p["horizon"] + p["k"] * p["window"],
                cross_sectional=True, sampled=True),
    )
}  # fmt: skip


def get_scanner(name: str) -> Scanner | None:
    return SCANNERS.get(name)


def describe_scanners() -> list[dict[str, Any]]:
    return [s.describe() for s in SCANNERS.values()]


# ---------------------------------------------------------------------------- a scan on one date
def compute(
    scanner: Scanner, panel: Panel, params: Mapping[str, Any], rows: np.ndarray | None = None
) -> Signal:
    return scanner.compute(panel, params, rows)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def skip_reason(
    scanner: Scanner, panel: Panel, params: Mapping[str, Any], row: int, column: int
) -> str | None:
    """Why a symbol has no value on bar ``row`` (None when it has one)."""
    if NEEDS_RANGE in scanner.needs and not panel.has_range[column]:
        return "close-only data: no open/high/low ranges for this symbol"
    if NEEDS_VOLUME in scanner.needs and not panel.has_volume[column]:
        return "no volume in the data for this symbol"
    if row < 0 or not np.isfinite(panel.close[row, column]):
        last = np.nonzero(np.isfinite(panel.close[: max(row, 0) + 1, column]))[0]
        when = str(panel.dates[row]) if row >= 0 else "that date"
        return f"no bar on {when}" + (f" (last bar {panel.dates[last[-1]]})" if len(last) else "")
    bars = int(np.isfinite(panel.close[: row + 1, column]).sum())
    needed = scanner.min_bars(params)
    if bars < needed:
        return f"not enough history: {bars} bars up to {panel.dates[row]}, needs {needed}"
    return None


def scan(
    scanner: Scanner,
    panel: Panel,
    params: Mapping[str, Any],
    row: int,
    limit: int = 100,
    signal: Signal | None = None,
) -> dict[str, Any]:
    """The hits on bar ``row`` ranked by score, with the values behind them; skipped symbols with reasons.
    ``signal``: the scanner's signal already computed over the panel (else it is computed for that row)."""
    if signal is None or (scanner.sampled and not np.isfinite(signal.score[row]).any()):
        signal = compute(scanner, panel, params, np.array([row]) if scanner.sampled else None)
    hits: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    scored = 0
    for j, symbol in enumerate(panel.symbols):
        reason = skip_reason(scanner, panel, params, row, j)
        if reason is None and not np.isfinite(signal.score[row, j]):
            reason = "no value on this date (gaps in the window or a flat series)"
        if reason is not None:
            skipped.append({"symbol": symbol, "reason": reason})
            continue
        scored += 1
        if signal.hit[row, j]:
            side = int(signal.side[row, j])
            hits.append({
                "symbol": symbol,
                "score": float(signal.score[row, j]),
                "side": {1: "bullish", -1: "bearish"}.get(side, "neutral"),
                "close": float(panel.close[row, j]),
                "values": {name: _finite(v[row, j]) for name, v in signal.values.items()},
            })  # fmt: skip
    hits.sort(key=lambda h: -h["score"])
    for rank, hit in enumerate(hits, 1):
        hit["rank"] = rank
    return {
        "scanner": scanner.name,
        "as_of": str(panel.dates[row]),
        "params": dict(params),
        "universe": len(panel.symbols),
        "scored": scored,
        "hits": hits[:limit],
        "hits_total": len(hits),
        "skipped": skipped,
    }


# ---------------------------------------------------------------------------- forward-return study
def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """close[t+h] / close[t] - 1 at row t (NaN past the end of the data)."""
    return ratio(lag(close[::-1], horizon)[::-1], close) - 1.0


def study(signal: Signal, panel: Panel, horizons: Sequence[int] = HORIZONS, *, start: int = 0,
          until: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Average forward returns of the past hits against the universe, per horizon, without look-ahead: the hit
    at bar t used bars <= t; its forward return is counted only when bar t+h exists (and t+h <= ``until``)."""
    t_count = len(panel.dates)
    last = t_count - 1 if until is None else min(until, t_count - 1)
    index = np.arange(t_count)[:, None]
    eligible_base = np.isfinite(signal.score) & (index >= start)
    out: dict[str, Any] = {"horizons": {}, "first_date": None, "last_date": None}
    hit_rows = np.nonzero((signal.hit & eligible_base)[: last + 1].any(axis=1))[0]
    if len(hit_rows):
        out["first_date"], out["last_date"] = str(panel.dates[hit_rows[0]]), str(panel.dates[hit_rows[-1]])
    for h in horizons:
        forward = forward_returns(panel.close, h)
        eligible = eligible_base & np.isfinite(forward) & (index + h <= last)
        hits = signal.hit & eligible
        bullish, bearish = hits & (signal.side > 0), hits & (signal.side < 0)
        signed = np.where(signal.side != 0, signal.side, 1) * forward
        out["horizons"][str(h)] = {
            "hits": int(hits.sum()),
            "hit_mean": _mean(forward, hits),
            "hit_positive": _mean((forward > 0).astype(float), hits),
            "bullish_hits": int(bullish.sum()),
            "bullish_mean": _mean(forward, bullish),
            "bearish_hits": int(bearish.sum()),
            "bearish_mean": _mean(forward, bearish),
            "signed_mean": _mean(signed, hits),
            "universe_observations": int(eligible.sum()),
            "universe_mean": _mean(forward, eligible),
            "excess_mean": _excess(_mean(forward, hits), _mean(forward, eligible)),
        }
    return out


def _mean(values: np.ndarray, mask: np.ndarray) -> float | None:
    count = int(mask.sum())
    return float(values[mask].sum() / count) if count else None


def _excess(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
