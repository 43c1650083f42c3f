"""PRISM physics signals over time for a universe: lake bars -> returns -> the domain signals -> UI series."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, model_validator

from trade2026.domain import physics
from trade2026.errors import BadRequest

BarReader = Callable[[str], Mapping[str, np.ndarray]]  # symbol -> bar columns (ts ns, close, volume)


class PhysicsRequest(BaseModel):
    symbols: list[str] = Field(min_length=1, max_length=50)
    start: str | None = Field(None, description="YYYY-MM-DD (inclusive)")
    end: str | None = Field(None, description="YYYY-MM-DD (inclusive)")
    entropy_window: int = Field(
        63, ge=5, le=5_000, description="days of the rolling Shannon/permutation entropy"
    )
    entropy_bins: int = Field(10, ge=2, le=100)
    permutation_order: int = Field(3, ge=2, le=7)
    permutation_delay: int = Field(1, ge=1, le=20)
    turbulence_window: int = Field(252, ge=10, le=5_000, description="trailing days of the mean/covariance")
    pressure_window: int = Field(20, ge=1, le=5_000)
    warning_window: int = Field(
        60, ge=5, le=5_000, description="days of the rolling variance/autocorrelation"
    )
    trend_window: int = Field(60, ge=5, le=5_000, description="values in the Kendall-tau trend")
    percolation_window: int = Field(60, ge=5, le=5_000)
    percolation_threshold: float = Field(0.5, gt=0, le=1, description="|correlation| needed for an edge")
    score_lookback: int = Field(
        252, ge=10, le=5_000, description="days of the percentile ranks in regime_score"
    )
    max_points: int = Field(
        1_000, ge=10, le=20_000, description="dates returned (evenly spaced, last included)"
    )

    @model_validator(mode="after")
    def _unique(self) -> PhysicsRequest:
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be unique")
        return self


@dataclass(frozen=True)
class Universe:
    symbols: tuple[str, ...]
    ts: np.ndarray  # int64 ns, common dates
    close: np.ndarray  # (T, N)
    volume: np.ndarray  # (T, N), NaN where unknown


def lake_reader(lake: Any, start: str | None, end: str | None) -> BarReader:
    """Daily bars (ts, close, volume) of a symbol over the range, from the lake (see marketdata_query)."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    first = mq.parse_time(start, end_of_day=False, default=mq.EARLIEST_NS)
    last = mq.parse_time(end, end_of_day=True, default=mq.LATEST_NS)
    if first > last:
        raise BadRequest("empty date range: start is after end")

    def read(symbol: str) -> Mapping[str, np.ndarray]:
        meta = get_symbol(symbol)
        if meta is None:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        query = mq.BarsQuery(symbol, "1d", first, last, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        return {"ts": bars.start, "close": bars.close, "volume": bars.volume}

    return read


def load_universe(symbols: list[str], read: BarReader) -> Universe:
    """Bars of every symbol on their common dates (close must be complete; volume may be missing)."""
    columns = {symbol: read(symbol) for symbol in symbols}
    common: np.ndarray | None = None
    for bars in columns.values():
        ts = np.asarray(bars["ts"], dtype=np.int64)
        common = ts if common is None else np.intersect1d(common, ts)
    assert common is not None
    if len(common) == 0:
        raise BadRequest("empty date range: no common bars for " + ", ".join(symbols))

    def field(name: str) -> np.ndarray:
        out = []
        for bars in columns.values():
            ts = np.asarray(bars["ts"], dtype=np.int64)
            out.append(np.asarray(bars[name], dtype=np.float64)[np.searchsorted(ts, common)])
        return np.column_stack(out)

    close = field("close")
    if not np.all(np.isfinite(close)) or np.any(close <= 0):
        raise BadRequest("the close prices have gaps or non-positive values in the requested range")
    return Universe(tuple(symbols), common, close, field("volume"))


def _points(length: int, max_points: int) -> np.ndarray:
    return np.unique(np.linspace(0, length - 1, min(length, max_points)).round().astype(np.int64))


def _json(values: np.ndarray, idx: np.ndarray) -> list[float | None]:
    picked = np.asarray(values, dtype=np.float64)[idx]
    return [None if not np.isfinite(v) else round(float(v), 8) for v in picked]


def _symbol_signals(
    req: PhysicsRequest, r: np.ndarray, volume: np.ndarray, idx: np.ndarray
) -> dict[str, Any]:
    ew = physics.early_warnings(r, req.warning_window, req.trend_window)
    out: dict[str, Any] = {
        "shannon_entropy": _json(
            physics.rolling_shannon_entropy(r, req.entropy_window, req.entropy_bins, True), idx
        ),
        "permutation_entropy": _json(
            physics.rolling_permutation_entropy(
                r, req.entropy_window, req.permutation_order, req.permutation_delay
            ),
            idx,
        ),
        "variance": _json(ew.variance, idx),
        "autocorrelation": _json(ew.autocorrelation, idx),
        "variance_trend": _json(ew.variance_trend, idx),
        "autocorrelation_trend": _json(ew.autocorrelation_trend, idx),
        "early_warning": _json(ew.indicator, idx),
    }
    try:
        out["pressure"] = _json(physics.pressure(r, volume, req.pressure_window), idx)
    except physics.MissingVolume as exc:
        out["pressure"] = None
        out["pressure_note"] = str(exc)
    return out


def compute_signals(req: PhysicsRequest, universe: Universe) -> dict[str, Any]:
    """Every signal of every symbol (and the cross-sectional ones for 2+ symbols) on at most max_points dates."""
    returns = universe.close[1:] / universe.close[:-1] - 1.0
    volume = universe.volume[1:]
    t_len, n = returns.shape
    longest = max(req.entropy_window, req.warning_window + req.trend_window - 1, req.pressure_window)
    if n >= 2:
        longest = max(longest, req.turbulence_window + 1, req.percolation_window)
    if longest > t_len:
        raise BadRequest(f"the windows need {longest} daily returns; the range has {t_len}")
    idx = _points(t_len, req.max_points)
    dates = universe.ts[1:].astype("datetime64[ns]").astype("datetime64[D]")
    try:
        result: dict[str, Any] = {
            "dates": [str(d) for d in dates[idx]],
            "returns_used": t_len,
            "symbols": {
                s: _symbol_signals(req, returns[:, j], volume[:, j], idx)
                for j, s in enumerate(universe.symbols)
            },
        }
        if n >= 2:
            turb = physics.turbulence(returns, req.turbulence_window)
            perc = physics.percolation(returns, req.percolation_window, req.percolation_threshold)
            market = returns.mean(axis=1)  # equal-weight market: its entropy enters the regime score
            ent = physics.rolling_shannon_entropy(market, req.entropy_window, req.entropy_bins, True)
            score = physics.regime_score(turb, ent, perc, req.score_lookback)
            result["cross_section"] = {
                "turbulence": _json(turb, idx),
                "percolation": _json(perc, idx),
                "market_entropy": _json(ent, idx),
                "regime_score": _json(score, idx),
            }
        else:
            result["cross_section"] = None
            result["cross_section_note"] = "turbulence, percolation and regime_score need at least 2 symbols"
    except physics.PhysicsError as exc:
        raise BadRequest(str(exc)) from None
    return result
