"""Built-in strategies: pure functions of prices and parameters that return signals for the backtest engine.

Contract with the engine (``Signals``):

- ``entries`` / ``exits``: boolean arrays shaped like ``close`` ((T,) or (T, N)); True at bar t means
  "be long from t" / "be flat from t" (long-only strategies).
- ``target_weights``: float array shaped like ``close``: the fraction of equity each asset should hold
  (negative = short), applied at the bars where ``rebalance`` ((T,) bool) is True and held (positions
  left to drift) in between; 0 during the warm-up. The strategy's wish after the last rebalance bar is
  forward-filled, so ``target_weights[t]`` is always the current target. ``Signals.rebalance_weights()``
  gives the engine's form (NaN = no order on that bar).
- Timing: every value at bar t is computed from data up to and including bar t (its close). The engine
  fills at t's close or at t+1's open, never earlier, so there is no look-ahead by construction;
  ``tests/unit/research/test_strategies.py`` checks it by changing future prices.

The registry (``STRATEGIES``) describes each strategy's parameters (type, default, bounds, choices, which
must be smaller than which) so an API can validate a request with ``validate_params`` before running it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from trade2026.domain import indicators as ind

Rebalance = Literal["daily", "monthly"]


@dataclass(frozen=True, eq=False)
class Signals:
    """A strategy's output: entries/exits (long/flat) or target weights with their rebalance bars."""

    entries: np.ndarray | None = None
    exits: np.ndarray | None = None
    target_weights: np.ndarray | None = None
    rebalance: np.ndarray | None = None

    @property
    def kind(self) -> Literal["entries_exits", "target_weights"]:
        return "target_weights" if self.target_weights is not None else "entries_exits"

    def rebalance_weights(self) -> np.ndarray:
        """Target weights on rebalance bars and NaN ("no order") elsewhere: the form
        ``backtest.backtest_weights`` takes, so positions drift between rebalances."""
        if self.target_weights is None or self.rebalance is None:
            raise ValueError("these signals are entries/exits, not target weights")
        mask = self.rebalance if self.target_weights.ndim == 1 else self.rebalance[:, None]
        return np.where(mask, self.target_weights, np.nan)


# ---------------------------------------------------------------------------- helpers
def _as_prices(close: np.ndarray) -> np.ndarray:
    prices = np.asarray(close, dtype=np.float64)
    if prices.ndim not in (1, 2) or prices.shape[0] == 0:
        raise ValueError(f"close must be a non-empty (T,) or (T, N) array; got shape {prices.shape}")
    return prices


def _previous(values: np.ndarray, fill: Any = False) -> np.ndarray:
    """values shifted one bar later (bar t sees bar t-1); ``fill`` at t=0."""
    shifted = np.empty_like(values)
    shifted[0] = fill
    shifted[1:] = values[:-1]
    return shifted


def _crossed(first: np.ndarray, second: np.ndarray, above: bool) -> np.ndarray:
    """True where ``first`` crosses ``second`` at this bar: strictly beyond now, not beyond on the bar
    before (both series defined on both bars)."""
    with np.errstate(invalid="ignore"):
        beyond = first > second if above else first < second
        not_beyond_before = _previous(first <= second if above else first >= second)
    defined = ~(np.isnan(first) | np.isnan(second))
    return beyond & not_beyond_before & defined & _previous(defined)


def rebalance_bars(n_bars: int, rebalance: Rebalance, dates: np.ndarray | None) -> np.ndarray:
    """Bars at which a periodic strategy re-targets: every bar (daily) or the first bar of each calendar
    month (monthly; known at that bar, so no look-ahead). Bar 0 counts as a first bar."""
    if rebalance == "daily":
        return np.ones(n_bars, dtype=bool)
    if rebalance != "monthly":
        raise ValueError(f"rebalance must be 'daily' or 'monthly'; got {rebalance!r}")
    if dates is None:
        raise ValueError("monthly rebalancing needs the bar dates")
    months = np.asarray(dates).astype("datetime64[M]")
    if months.shape != (n_bars,):
        raise ValueError(f"dates must have one entry per bar ({n_bars}); got shape {months.shape}")
    return months != _previous(months, fill=months[0] - 1)


def _hold_targets(
    wanted: np.ndarray, rebalance: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Targets applied at valid rebalance bars and held (forward-filled) in between; 0 before the first.
    Returns (target_weights, rebalance mask actually used)."""
    applied = rebalance & valid
    last_applied = np.where(applied, np.arange(len(applied)), -1)
    np.maximum.accumulate(last_applied, out=last_applied)
    padded = np.concatenate([np.zeros((1, *wanted.shape[1:])), wanted])
    return padded[last_applied + 1], applied


# ---------------------------------------------------------------------------- strategies
def ma_crossover(
    close: np.ndarray, *, fast: int = 10, slow: int = 50, ma: str = "sma", dates: np.ndarray | None = None
) -> Signals:
    """Long when the fast moving average crosses above the slow one, flat when it crosses below.

    ``ma`` is "sma" or "ema" (TA-Lib conventions, see ``indicators``). Entry at bar t: fast[t] > slow[t]
    and fast[t-1] <= slow[t-1]; exit: fast[t] < slow[t] and fast[t-1] >= slow[t-1]. ``dates`` unused.
    """
    prices = _as_prices(close)
    average = {"sma": ind.sma, "ema": ind.ema}.get(ma)
    if average is None:
        raise ValueError(f"ma must be 'sma' or 'ema'; got {ma!r}")
    fast_line, slow_line = average(prices, fast), average(prices, slow)
    return Signals(
        entries=_crossed(fast_line, slow_line, above=True), exits=_crossed(fast_line, slow_line, above=False)
    )


def rsi_mean_reversion(
    close: np.ndarray,
    *,
    period: int = 14,
    lower: float = 30.0,
    upper: float = 70.0,
    dates: np.ndarray | None = None,
) -> Signals:
    """Buy oversold, sell overbought: entry while Wilder's RSI(period) < lower, exit while RSI > upper
    (the engine ignores an entry while already long). ``dates`` unused."""
    strength = ind.rsi(_as_prices(close), period)
    with np.errstate(invalid="ignore"):
        return Signals(entries=strength < lower, exits=strength > upper)


def bollinger_breakout(
    close: np.ndarray, *, period: int = 20, k: float = 2.0, dates: np.ndarray | None = None
) -> Signals:
    """Breakout: entry when the close is above the upper band (SMA(period) + k population std), exit when
    it falls below the middle band. ``dates`` unused."""
    prices = _as_prices(close)
    bands = ind.bollinger_bands(prices, period, k)
    with np.errstate(invalid="ignore"):
        return Signals(entries=prices > bands.upper, exits=prices < bands.middle)


def ts_momentum(
    close: np.ndarray,
    *,
    lookback: int = 252,
    rebalance: Rebalance = "monthly",
    long_short: bool = False,
    dates: np.ndarray | None = None,
) -> Signals:
    """Time-series momentum: hold an asset while its return over the last ``lookback`` bars is positive,
    else flat (or short when ``long_short``). Re-targeted daily or on the first bar of each month. A panel
    (T, N) splits equity equally: each asset's weight is +-1/N."""
    prices = _as_prices(close)
    trailing = ind.returns(prices, lookback)
    valid = ~np.isnan(trailing)
    direction = np.where(trailing > 0, 1.0, -1.0 if long_short else 0.0)
    direction[~valid] = 0.0
    width = 1 if prices.ndim == 1 else prices.shape[1]
    bars = rebalance_bars(len(prices), rebalance, dates)
    row_valid = valid if prices.ndim == 1 else valid.any(axis=1)  # an asset without a signal yet gets 0
    weights, applied = _hold_targets(direction / width, bars, row_valid)
    return Signals(target_weights=weights, rebalance=applied)


def cross_sectional_momentum(
    close: np.ndarray,
    *,
    lookback: int = 252,
    skip: int = 21,
    top_fraction: float = 0.1,
    rebalance: Rebalance = "monthly",
    dates: np.ndarray | None = None,
) -> Signals:
    """Cross-sectional momentum ("12-1"): score each asset by its return from ``lookback`` bars ago to
    ``skip`` bars ago, and at each rebalance bar hold the top ``floor(N_valid * top_fraction)`` assets
    (at least 1; ties go to the earlier column) in equal weights. Needs a (T, N) panel; assets without
    a score yet (NaN prices) are not ranked."""
    prices = _as_prices(close)
    if prices.ndim != 2 or prices.shape[1] < 2:
        raise ValueError(f"cross_sectional_momentum needs a (T, N) panel with N >= 2; got {prices.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.full(prices.shape, np.nan)
        score[lookback:] = prices[lookback - skip : len(prices) - skip] / prices[: len(prices) - lookback] - 1
    bars = rebalance_bars(len(prices), rebalance, dates)
    ranked = ~np.isnan(score)
    wanted = np.zeros(prices.shape)
    for row in np.flatnonzero(bars & ranked.any(axis=1)):
        wanted[row] = _top_equal_weights(score[row], top_fraction)
    weights, applied = _hold_targets(wanted, bars, ranked.any(axis=1))
    return Signals(target_weights=weights, rebalance=applied)


def _top_equal_weights(score: np.ndarray, top_fraction: float) -> np.ndarray:
    present = np.flatnonzero(~np.isnan(score))
    count = max(1, math.floor(len(present) * top_fraction + 1e-9))
    order = present[np.argsort(-score[present], kind="stable")]
    weights = np.zeros(len(score))
    weights[order[:count]] = 1.0 / count
    return weights


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its type (int, float, str or bool), default, inclusive bounds or allowed choices."""

    name: str
    kind: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class StrategySpec:
    """A strategy, its parameters, which parameter must be smaller than which, and how many bars it needs
    to produce its first signal."""

    name: str
    function: Callable[..., Signals]
    params: tuple[ParamSpec, ...]
    min_bars: Callable[[Mapping[str, Any]], int]
    less_than: tuple[tuple[str, str], ...] = ()
    output: Literal["entries_exits", "target_weights"] = "entries_exits"
    needs_panel: bool = False
    description: str = ""

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}


_MAX_WINDOW = 10_000

STRATEGIES: dict[str, StrategySpec] = {
    spec.name: spec
    for spec in (
        StrategySpec(
            name="ma_crossover",
            function=ma_crossover,
            params=(
                ParamSpec("fast", int, 10, 1, _MAX_WINDOW, description="fast moving-average window (bars)"),
                ParamSpec("slow", int, 50, 2, _MAX_WINDOW, description="slow moving-average window (bars)"),
                ParamSpec("ma", str, "sma", choices=("sma", "ema"), description="moving-average type"),
            ),
            less_than=(("fast", "slow"),),
            min_bars=lambda p: p["slow"] + 1,
            description="long when the fast MA crosses above the slow MA, flat when it crosses below",
        ),
        StrategySpec(
            name="rsi_mean_reversion",
            function=rsi_mean_reversion,
            params=(
                ParamSpec("period", int, 14, 2, _MAX_WINDOW, description="RSI period (bars)"),
                ParamSpec("lower", float, 30.0, 0.0, 100.0, description="enter while RSI is below"),
                ParamSpec("upper", float, 70.0, 0.0, 100.0, description="exit while RSI is above"),
            ),
            less_than=(("lower", "upper"),),
            min_bars=lambda p: p["period"] + 1,
            description="long while oversold (RSI < lower) until overbought (RSI > upper)",
        ),
        StrategySpec(
            name="bollinger_breakout",
            function=bollinger_breakout,
            params=(
                ParamSpec("period", int, 20, 2, _MAX_WINDOW, description="band window (bars)"),
                ParamSpec("k", float, 2.0, 0.0, 10.0, description="band width in standard deviations"),
            ),
            min_bars=lambda p: p["period"],
            description="long above the upper band, flat below the middle band",
        ),
        StrategySpec(
            name="ts_momentum",
            function=ts_momentum,
            params=(
                ParamSpec("lookback", int, 252, 1, _MAX_WINDOW, description="return window (bars)"),
                ParamSpec("rebalance", str, "monthly", choices=("monthly", "daily")),
                ParamSpec(
                    "long_short", bool, False, description="short (instead of flat) on a negative return"
                ),
            ),
            min_bars=lambda p: p["lookback"] + 1,
            output="target_weights",
            description="long (or short) each asset by the sign of its trailing return",
        ),
        StrategySpec(
            name="cross_sectional_momentum",
            function=cross_sectional_momentum,
            params=(
                ParamSpec("lookback", int, 252, 2, _MAX_WINDOW, description="score from this many bars ago"),
                ParamSpec("skip", int, 21, 0, _MAX_WINDOW, description="... to this many bars ago"),
                ParamSpec("top_fraction", float, 0.1, 0.01, 1.0, description="share of assets held"),
                ParamSpec("rebalance", str, "monthly", choices=("monthly", "daily")),
            ),
            less_than=(("skip", "lookback"),),
            min_bars=lambda p: p["lookback"] + 1,
            output="target_weights",
            needs_panel=True,
            description="equal weights in the top fraction of a panel by 12-1 momentum",
        ),
    )
}


_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


def describe_strategies() -> list[dict[str, Any]]:
    """The registry as plain JSON-ready data (for an API listing or a UI form)."""
    return [
        {
            "name": spec.name,
            "description": spec.description,
            "output": spec.output,
            "needs_panel": spec.needs_panel,
            "params": [
                {
                    "name": p.name,
                    "type": _JSON_TYPES[p.kind],
                    "default": p.default,
                    **({"minimum": p.minimum} if p.minimum is not None else {}),
                    **({"maximum": p.maximum} if p.maximum is not None else {}),
                    **({"choices": list(p.choices)} if p.choices else {}),
                    "description": p.description,
                }
                for p in spec.params
            ],
            "constraints": [f"{smaller} < {larger}" for smaller, larger in spec.less_than],
        }
        for spec in STRATEGIES.values()
    ]


def validate_params(
    name: str, params: Mapping[str, Any] | None, n_bars: int, *, n_assets: int | None = None
) -> dict[str, Any]:
    """The complete, typed parameters of strategy ``name`` (defaults filled in) for data of ``n_bars``
    bars (and ``n_assets`` columns when known); ValueError with the reason when anything is wrong:
    unknown strategy or parameter, wrong type, out of bounds, a window not smaller than another, a window
    longer than the data, a cross-sectional strategy on a single asset."""
    spec = STRATEGIES.get(name)
    if spec is None:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")
    given = dict(params or {})
    allowed = [p.name for p in spec.params]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) for {name}: {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    values = {p.name: _checked_value(p, given.get(p.name, p.default)) for p in spec.params}
    for smaller, larger in spec.less_than:
        if not values[smaller] < values[larger]:
            raise ValueError(
                f"{smaller} ({values[smaller]}) must be < {larger} ({values[larger]}) for {name}"
            )
    _check_data_size(spec, values, n_bars, n_assets)
    return values


def _checked_value(spec: ParamSpec, value: Any) -> Any:
    converted = _converted(spec, value)
    if spec.choices and converted not in spec.choices:
        raise ValueError(f"{spec.name} must be one of {', '.join(spec.choices)}; got {value!r}")
    if spec.minimum is not None and converted < spec.minimum:
        raise ValueError(f"{spec.name} must be >= {spec.minimum:g}; got {value!r}")
    if spec.maximum is not None and converted > spec.maximum:
        raise ValueError(f"{spec.name} must be <= {spec.maximum:g}; got {value!r}")
    return converted


def _converted(spec: ParamSpec, value: Any) -> Any:
    """The value as the parameter's type; JSON-style integral floats (20.0) count as integers, booleans
    never count as numbers."""
    is_bool = isinstance(value, (bool, np.bool_))
    if spec.kind is bool and is_bool:
        return bool(value)
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not is_bool
    if spec.kind is int and is_number and float(value).is_integer():
        return int(value)
    if spec.kind is float and is_number and math.isfinite(value):
        return float(value)
    if spec.kind is str and isinstance(value, str):
        return value
    raise ValueError(f"{spec.name} must be {_type_name(spec.kind)}; got {value!r}")


def _type_name(kind: type) -> str:
    return {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}[kind]


def _check_data_size(
    spec: StrategySpec, values: Mapping[str, Any], n_bars: int, n_assets: int | None
) -> None:
    if n_bars < 1:
        raise ValueError(f"no data: {spec.name} needs bars, the data has {n_bars}")
    needed = spec.min_bars(values)
    if needed > n_bars:
        windows = ", ".join(f"{p.name}={values[p.name]}" for p in spec.params if p.kind is int)
        raise ValueError(
            f"window longer than the data: {spec.name} with {windows} needs at least {needed} bars, "
            f"the data has {n_bars}"
        )
    if spec.needs_panel and n_assets is not None and n_assets < 2:
        raise ValueError(f"{spec.name} ranks assets against each other: it needs at least 2; got {n_assets}")


def run_strategy(
    name: str, close: np.ndarray, params: Mapping[str, Any] | None = None, *, dates: np.ndarray | None = None
) -> Signals:
    """Validate ``params`` against the data, then run strategy ``name`` on ``close`` ((T,) or (T, N))."""
    prices = _as_prices(close)
    n_assets = 1 if prices.ndim == 1 else prices.shape[1]
    values = validate_params(name, params, len(prices), n_assets=n_assets)
    if values.get("rebalance") == "monthly" and dates is None:
        raise ValueError(f"{name} with monthly rebalancing needs the bar dates")
    return STRATEGIES[name].function(prices, dates=dates, **values)
