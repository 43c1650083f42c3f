"""Feature sets: named, versioned definitions computed vectorized over a symbol's bars.

Point in time: every feature at bar t is computed from bars 0..t only (trailing windows, no centring, no
normalisation over the whole sample), so a training row never sees its own future; the leakage test shifts
and alters data after t and checks that no row at or before t changes. Rows before `warmup` bars may hold
NaN (a window is not full yet); XGBoost treats NaN as missing.

A set's version changes whenever a column's definition does: the registry records (name, version) as the
lineage of every model, and the store keys rows by both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from trade2026.domain import indicators
from trade2026.domain.ml.fracdiff import ffd, ffd_weights

__all__ = ["FEATURE_SETS", "FeatureSet", "as_of_join", "compute_features", "get_feature_set"]

Bars = Mapping[str, np.ndarray]  # ts (int64 ns), open, high, low, close, volume: one symbol, oldest first
DAY_NS = 86_400_000_000_000


def _trailing_max(values: np.ndarray, window: int) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    if len(values) >= window:
        out[window - 1 :] = np.lib.stride_tricks.sliding_window_view(values, window).max(axis=1)
    return out


def _calendar(ts: np.ndarray) -> dict[str, np.ndarray]:
    days = ts // DAY_NS
    weekday = ((days + 3) % 7).astype(np.float64)  # 1970-01-01 was a Thursday: Monday = 0
    months = ts.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return {"day_of_week": weekday, "month": months.astype(np.float64)}


def _price_features(bars: Bars, ffd_d: float, ffd_threshold: float) -> dict[str, np.ndarray]:
    close = np.asarray(bars["close"], dtype=np.float64)
    log_close = np.log(close)
    one_bar = indicators.log_returns(close)
    macd = indicators.macd(close)
    bands = indicators.bollinger_bands(close, 20, 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent_b = (close - bands.lower) / (bands.upper - bands.lower)
        return {
            "ret_1": one_bar,
            "ret_5": indicators.log_returns(close, 5),
            "ret_21": indicators.log_returns(close, 21),
            "ret_63": indicators.log_returns(close, 63),
            "vol_21": indicators.rolling_std(one_bar, 21, ddof=1),
            "vol_63": indicators.rolling_std(one_bar, 63, ddof=1),
            "rsi_14": indicators.rsi(close, 14) / 100.0,
            "macd_hist": macd.hist / close,
            "bollinger_pct_b": percent_b,
            "dist_high_252": close / _trailing_max(close, 252) - 1.0,
            "ffd_log_close": ffd(log_close, ffd_d, ffd_threshold),
        }


def _volume_features(bars: Bars) -> dict[str, np.ndarray]:
    close = np.asarray(bars["close"], dtype=np.float64)
    high = np.asarray(bars["high"], dtype=np.float64)
    low = np.asarray(bars["low"], dtype=np.float64)
    volume = np.asarray(bars["volume"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_volume = np.where(volume > 0, np.log(volume), np.nan)
        return {
            "volume_z_21": indicators.zscore(log_volume, 21),
            "atr_14": indicators.atr(high, low, close, 14) / close,
            "range": (high - low) / close,
        }


@dataclass(frozen=True)
class FeatureSet:
    name: str
    version: int
    description: str
    columns: tuple[str, ...]
    compute_fn: Callable[[FeatureSet, Bars], dict[str, np.ndarray]] = field(repr=False)
    needs_volume: bool = False
    ffd_d: float = 0.4
    ffd_threshold: float = 1e-3

    @property
    def key(self) -> str:
        return f"{self.name}:v{self.version}"

    @property
    def warmup(self) -> int:
        """Bars before every column is defined (the longest window)."""
        return max(252, len(ffd_weights(self.ffd_d, self.ffd_threshold)))

    def compute(self, bars: Bars) -> np.ndarray:
        """(T, F) float64 matrix in `columns` order."""
        values = self.compute_fn(self, bars)
        matrix = np.column_stack([np.asarray(values[name], dtype=np.float64) for name in self.columns])
        matrix[np.isinf(matrix)] = (
            np.nan
        )  # a flat window (zero range or deviation) is undefined, not infinite
        return matrix

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name, "version": self.version, "key": self.key, "description": self.description,
            "columns": list(self.columns), "needs_volume": self.needs_volume, "warmup_bars": self.warmup,
            "ffd": {"d": self.ffd_d, "threshold": self.ffd_threshold},
        }  # fmt: skip


def _alpha(feature_set: FeatureSet, bars: Bars) -> dict[str, np.ndarray]:
    ts = np.asarray(bars["ts"], dtype=np.int64)
    return _price_features(bars, feature_set.ffd_d, feature_set.ffd_threshold) | _calendar(ts)


def _alpha_ohlcv(feature_set: FeatureSet, bars: Bars) -> dict[str, np.ndarray]:
    return _alpha(feature_set, bars) | _volume_features(bars)


_PRICE_COLUMNS = (
    "ret_1", "ret_5", "ret_21", "ret_63", "vol_21", "vol_63", "rsi_14", "macd_hist", "bollinger_pct_b",
    "dist_high_252", "ffd_log_close", "day_of_week", "month",
)  # fmt: skip

FEATURE_SETS: dict[str, FeatureSet] = {
    fs.name: fs
    for fs in (
        FeatureSet(
            "alpha_v1", 1,
            "Close-only: returns (1/5/21/63 bars), volatility, RSI, MACD, Bollinger %b, distance from the "
            "252-bar high, fractionally differentiated log price (d=0.4), calendar",
            _PRICE_COLUMNS, _alpha,
        ),
        FeatureSet(
            "alpha_ohlcv_v1", 1,
            "alpha_v1 plus volume z-score, ATR and bar range (needs high, low and volume)",
            (*_PRICE_COLUMNS, "volume_z_21", "atr_14", "range"), _alpha_ohlcv, needs_volume=True,
        ),
    )
}  # fmt: skip


def get_feature_set(name: str) -> FeatureSet:
    """The set named `name` (a KeyError naming the known sets otherwise)."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise KeyError(f"unknown feature set {name!r}; known: {', '.join(sorted(FEATURE_SETS))}") from None


def compute_features(name: str, bars: Bars) -> np.ndarray:
    return get_feature_set(name).compute(bars)


def as_of_join(feature_ts: np.ndarray, rows: np.ndarray, query_ts: np.ndarray) -> np.ndarray:
    """For each query time, the latest feature row stamped at or before it (NaN when there is none yet).

    The offline store's rows are stamped with their bar's time; a label or prediction at time q may use only
    rows with ts <= q. `feature_ts` must be sorted ascending.
    """
    stamps = np.asarray(feature_ts, dtype=np.int64)
    if np.any(np.diff(stamps) < 0):
        raise ValueError("feature_ts must be sorted ascending")
    matrix = np.asarray(rows, dtype=np.float64)
    position = np.searchsorted(stamps, np.asarray(query_ts, dtype=np.int64), side="right") - 1
    out = np.full((len(position), *matrix.shape[1:]), np.nan)
    found = position >= 0
    out[found] = matrix[position[found]]
    return out
