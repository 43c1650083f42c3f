"""Event-driven strategies: ``on_bar(view, bar) -> Decision`` (a target position with the inputs that made it).

A live strategy is stateless: everything it needs is in the ``MarketView`` (the symbol's bars up to and
including the bar being decided, oldest first, and - for ML strategies - the champion model's predictor).
The same vectorized functions compute a whole history for research (``physics_targets``, ``ml_targets``,
``hybrid.adaptive_combine``), so the live decision at bar t is exactly the research position at t.

Targets are fractions of the slot's capital in [-1, 1] (negative = short). Codes:
    hold            a constant target (a baseline; used to exercise the runtime)
    rule            a built-in research strategy (``domain.strategies``) on the symbol's closes
    physics_regime  PRISM physics: trend side x regime exposure (turbulence, entropy, rising variance)
    ml_alpha        the champion model's probability, meta-label sized around a moving-average primary side
    hybrid          ML and physics targets with adaptive weights (EW recent out-of-sample performance)
Pure: numpy/scipy only, no I/O (the predictor is injected).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trade2026.domain import hybrid, physics
from trade2026.domain import strategies as rules
from trade2026.domain.ml import metalabel
from trade2026.domain.ml.features import get_feature_set

KINDS = ("rule", "ml", "physics", "hybrid")


class StrategyInputError(ValueError):
    """Bad code/parameters of a live strategy, or data it cannot decide on (the message says which)."""


@dataclass(frozen=True)
class Bar:
    symbol: str
    start: int  # ns
    end: int  # ns
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None
    id: str = ""

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> Bar:
        """A `BarClosed` event's detail; its id defaults to ``symbol:start`` (unique per bar)."""
        try:
            symbol, start, end = str(detail["symbol"]), int(detail["start"]), int(detail["end"])
            close = float(detail["close"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StrategyInputError(f"a bar needs symbol, start, end and close: {exc}") from None
        if not math.isfinite(close) or close <= 0:
            raise StrategyInputError(f"bar {symbol}@{start} has close {close}: it must be a positive number")

        def number(name: str) -> float | None:
            value = detail.get(name)
            return None if value is None else float(value)

        return cls(symbol, start, end, close, number("open"), number("high"), number("low"), number("volume"),
                   str(detail.get("id") or f"{symbol}:{start}"))  # fmt: skip


class Predictor(Protocol):
    """The champion model behind its endpoint: probabilities for rows of `columns` (the adapter calls it)."""

    model_id: str
    feature_set: str
    columns: list[str]
    meta: bool  # a meta-label model: the primary side is its last column

    def predict(self, rows: list[list[float | None]]) -> list[float]: ...


@dataclass(frozen=True)
class MarketView:
    bars: Mapping[str, np.ndarray]  # ts (int64 ns), close (+ open/high/low/volume when known); incl. this bar
    predictor: Predictor | None = None


@dataclass(frozen=True)
class Decision:
    target: float  # fraction of the slot's capital, in [-1, 1]
    signal: float  # the strategy's raw signal (probability, exposure, ...)
    inputs: dict[str, Any] = field(default_factory=dict)  # what the decision was made from (explainability)


class LiveStrategy(Protocol):
    @property
    def history(self) -> int:
        """Bars of history the strategy wants (including the current one)."""
        ...

    def on_bar(self, view: MarketView, bar: Bar) -> Decision: ...


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _clip(value: float) -> float:
    return float(np.clip(value, -1.0, 1.0)) if math.isfinite(value) else 0.0


def _closes(view: MarketView, minimum: int, code: str) -> np.ndarray:
    close = np.asarray(view.bars["close"], dtype=np.float64)
    if len(close) < minimum:
        raise StrategyInputError(f"{code} needs at least {minimum} bars of history, got {len(close)}")
    return close


# ------------------------------------------------------------------------------------ vectorized
@dataclass(frozen=True)
class PhysicsParams:
    entropy_window: int = 63
    entropy_bins: int = 10
    turbulence_window: int = 126
    turbulence_smoothing: int = 10
    variance_window: int = 60
    lookback: int = 252
    trend_window: int = 200
    long_short: bool = False

    @property
    def history(self) -> int:
        return max(self.entropy_window, self.turbulence_window + self.turbulence_smoothing,
                   self.variance_window, self.trend_window) + self.lookback + 1  # fmt: skip


def _log_returns(close: np.ndarray) -> np.ndarray:
    r = np.full(len(close), np.nan)
    r[1:] = np.diff(np.log(close))
    return r


def _trailing_mean(x: np.ndarray, window: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        out[window - 1 :] = sliding_window_view(x, window).mean(axis=1)
    return out


def single_asset_turbulence(returns: np.ndarray, window: int) -> np.ndarray:
    """Kritzman-Li turbulence of one asset: (r_t - mean)^2 / variance of the `window` returns before t."""
    r = np.asarray(returns, dtype=np.float64)
    out = np.full(len(r), np.nan)
    if len(r) > window:
        w = sliding_window_view(r[:-1], window)
        mean, var = w.mean(axis=1), w.var(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[window:] = np.where(var > 0, (r[window:] - mean) ** 2 / var, np.nan)
    return out


def physics_targets(close: np.ndarray, params: PhysicsParams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Target of each bar (T,) and its components; values at t use closes up to t only.

    stress = mean of the causal percentiles of smoothed turbulence, rolling variance (the critical-slowing-
    down warning) and 1 - Shannon entropy (ordered, herding returns); exposure = 1 - stress; side = +1 above
    the `trend_window` moving average, else -1 (long/short) or 0 (long only); target = exposure x side.
    """
    c = np.asarray(close, dtype=np.float64)
    r = _log_returns(c)
    n = len(c)
    entropy = np.full(n, np.nan)
    variance = np.full(n, np.nan)
    if n > params.entropy_window:
        entropy[1:] = physics.rolling_shannon_entropy(r[1:], params.entropy_window, params.entropy_bins, True)
    if n > params.variance_window:
        variance[1:] = physics.rolling_variance(r[1:], params.variance_window)
    turbulence = _trailing_mean(
        single_asset_turbulence(r, params.turbulence_window), params.turbulence_smoothing
    )
    ranks = np.vstack([physics.rolling_rank(turbulence, params.lookback),
                       physics.rolling_rank(variance, params.lookback),
                       1.0 - physics.rolling_rank(entropy, params.lookback)])  # fmt: skip
    exposure = np.clip(1.0 - ranks.mean(axis=0), 0.0, 1.0)
    trend = _trailing_mean(c, params.trend_window)
    side = np.where(c > trend, 1.0, -1.0 if params.long_short else 0.0)
    target = np.where(np.isfinite(exposure) & np.isfinite(trend), exposure * side, 0.0)
    components = {"turbulence": turbulence, "variance": variance, "entropy": entropy, "exposure": exposure,
                  "trend": trend, "side": side}  # fmt: skip
    return target, components


@dataclass(frozen=True)
class MlParams:
    fast: int = 20  # primary side: moving-average crossover (meta-label models)
    slow: int = 50
    long_only: bool = True
    step: float = 0.0  # bet-size rounding (0 = none)


def ml_targets(probability: np.ndarray, side: np.ndarray, params: MlParams) -> np.ndarray:
    """Meta-label bet sizing: size = 2 Phi(z) - 1 of the probability that the primary side's bet wins."""
    target = np.nan_to_num(metalabel.bet_size(probability, np.nan_to_num(side), params.step))
    return np.clip(target, 0.0 if params.long_only else -1.0, 1.0)


def ml_sides(close: np.ndarray, params: MlParams) -> np.ndarray:
    return metalabel.crossover_side(close, params.fast, params.slow)


# ------------------------------------------------------------------------------------ strategies
@dataclass(frozen=True)
class Hold:
    target: float
    history: int = 1

    def on_bar(self, view: MarketView, bar: Bar) -> Decision:
        return Decision(_clip(self.target), self.target, {"close": bar.close, "target": self.target})


@dataclass(frozen=True)
class Rule:
    name: str
    params: Mapping[str, Any]
    history: int

    def on_bar(self, view: MarketView, bar: Bar) -> Decision:
        close = _closes(view, 2, f"rule {self.name}")
        ts = np.asarray(view.bars["ts"], dtype=np.int64)
        try:
            signals = rules.run_strategy(self.name, close, self.params, dates=ts.astype("datetime64[ns]"))
        except ValueError as exc:
            raise StrategyInputError(str(exc)) from None
        if signals.target_weights is not None:
            target = float(signals.target_weights[-1])
        else:
            assert signals.entries is not None and signals.exits is not None
            entries, exits = np.flatnonzero(signals.entries), np.flatnonzero(signals.exits)
            last_entry = int(entries[-1]) if len(entries) else -1
            last_exit = int(exits[-1]) if len(exits) else -1
            target = 1.0 if last_entry > last_exit else 0.0
        return Decision(_clip(target), target, {"rule": self.name, "params": dict(self.params),
                                                "close": bar.close, "bars": len(close)})  # fmt: skip


@dataclass(frozen=True)
class PhysicsRegime:
    params: PhysicsParams

    @property
    def history(self) -> int:
        return self.params.history

    def on_bar(self, view: MarketView, bar: Bar) -> Decision:
        close = _closes(view, 3, "physics_regime")
        target, parts = physics_targets(close, self.params)
        inputs = {name: _clean(values[-1]) for name, values in parts.items()} | {
            "close": bar.close,
            "bars": len(close),
        }
        return Decision(_clip(float(target[-1])), _clean(parts["exposure"][-1]) or 0.0, inputs)


def _ml_rows(
    view: MarketView, predictor: Predictor, params: MlParams, rows: int
) -> tuple[list[list[float | None]], np.ndarray]:
    feature_set = get_feature_set(predictor.feature_set)
    close = np.asarray(view.bars["close"], dtype=np.float64)
    bars = {"ts": np.asarray(view.bars["ts"], dtype=np.int64), "close": close} | {
        k: np.asarray(v, dtype=np.float64)
        for k, v in view.bars.items()
        if k in ("open", "high", "low", "volume")
    }
    matrix = feature_set.compute(bars)[-rows:]
    sides = ml_sides(close, params)[-rows:]
    width = len(feature_set.columns) + (1 if predictor.meta else 0)
    if len(predictor.columns) != width:
        raise StrategyInputError(f"model {predictor.model_id} expects {len(predictor.columns)} columns, "
                                 f"feature set {predictor.feature_set} gives {width}")  # fmt: skip
    out: list[list[float | None]] = []
    for row, side in zip(matrix, sides, strict=True):
        values: list[float | None] = [float(v) if math.isfinite(v) else None for v in row]
        if predictor.meta:
            values.append(float(side) if math.isfinite(side) else None)
        out.append(values)
    return out, sides


def _probability_sides(
    probability: np.ndarray, sides: np.ndarray, meta: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A meta model's p is that the primary side wins; a direction model's p is P(up): its side is the sign."""
    if meta:
        return probability, sides
    return np.maximum(probability, 1.0 - probability), np.where(probability >= 0.5, 1.0, -1.0)


@dataclass(frozen=True)
class MlAlpha:
    params: MlParams
    history: int = 600

    def on_bar(self, view: MarketView, bar: Bar) -> Decision:
        if view.predictor is None:
            raise StrategyInputError("ml_alpha needs a champion model with an endpoint; none is deployed")
        _closes(view, self.params.slow + 1, "ml_alpha")
        rows, sides = _ml_rows(view, view.predictor, self.params, 1)
        probability = np.asarray(view.predictor.predict(rows), dtype=np.float64)
        p, side = _probability_sides(probability, sides, view.predictor.meta)
        target = float(ml_targets(p, side, self.params)[-1])
        return Decision(_clip(target), float(probability[-1]), {
            "model_id": view.predictor.model_id, "probability": float(probability[-1]), "side": _clean(side[-1]),
            "features": dict(zip(view.predictor.columns, rows[-1], strict=True)), "close": bar.close,
        })  # fmt: skip


@dataclass(frozen=True)
class Hybrid:
    physics: PhysicsParams
    ml: MlParams
    halflife: float = 63.0
    floor: float = 0.0
    window: int = 252  # bars of ML probabilities scored for the weights

    @property
    def history(self) -> int:
        return max(self.physics.history, 600) + self.window

    def on_bar(self, view: MarketView, bar: Bar) -> Decision:
        if view.predictor is None:
            raise StrategyInputError("hybrid needs a champion model with an endpoint; none is deployed")
        close = _closes(view, self.window + 1, "hybrid")
        rows, sides = _ml_rows(view, view.predictor, self.ml, self.window)
        probability = np.asarray(view.predictor.predict(rows), dtype=np.float64)
        p, side = _probability_sides(probability, sides, view.predictor.meta)
        ml_target = ml_targets(p, side, self.ml)
        physics_target, parts = physics_targets(close, self.physics)
        positions = np.column_stack([ml_target, physics_target[-self.window :]])
        returns = np.exp(_log_returns(close)[-self.window :]) - 1.0
        result = hybrid.adaptive_combine(positions, returns, self.halflife, self.floor)
        weights = [_clean(w) for w in result.weights[-1]]
        target = float(result.position[-1])
        return Decision(_clip(target), target, {
            "model_id": view.predictor.model_id, "probability": float(probability[-1]),
            "ml_target": float(ml_target[-1]), "physics_target": float(physics_target[-1]),
            "weights": {"ml": weights[0], "physics": weights[1]},
            "scores": {"ml": _clean(result.scores[-1, 0]), "physics": _clean(result.scores[-1, 1])},
            "exposure": _clean(parts["exposure"][-1]), "close": bar.close,
        })  # fmt: skip


# ------------------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class LiveSpec:
    code: str
    kind: str
    description: str
    defaults: Mapping[str, Any]
    build: Callable[[dict[str, Any]], LiveStrategy]
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def _physics(p: Mapping[str, Any]) -> PhysicsParams:
    return PhysicsParams(**{k: p[k] for k in PhysicsParams.__dataclass_fields__ if k in p})


def _ml(p: Mapping[str, Any]) -> MlParams:
    return MlParams(**{k: p[k] for k in MlParams.__dataclass_fields__ if k in p})


def _rule(p: dict[str, Any]) -> LiveStrategy:
    name = str(p["rule"])
    if name not in rules.STRATEGIES or rules.STRATEGIES[name].needs_panel:
        known = sorted(n for n, s in rules.STRATEGIES.items() if not s.needs_panel)
        raise StrategyInputError(f"rule {name!r} is not a single-asset built-in strategy; known: {known}")
    spec = rules.STRATEGIES[name]
    params = dict(p.get("rule_params") or {})
    try:
        values = rules.validate_params(name, params, 10**6)
    except ValueError as exc:
        raise StrategyInputError(f"rule_params: {exc}") from None
    return Rule(name, params, spec.min_bars(values) + 300)


_PHYSICS_DEFAULTS = {k: f.default for k, f in PhysicsParams.__dataclass_fields__.items()}
_ML_DEFAULTS = {k: f.default for k, f in MlParams.__dataclass_fields__.items()}
_WINDOW = (2.0, 5000.0)
_PHYSICS_BOUNDS = {"entropy_window": (5.0, 5000.0), "entropy_bins": (2.0, 100.0), "turbulence_window": (5.0, 5000.0),
                   "turbulence_smoothing": (1.0, 500.0), "variance_window": (3.0, 5000.0),
                   "lookback": (10.0, 5000.0), "trend_window": _WINDOW}  # fmt: skip
_ML_BOUNDS = {"fast": (1.0, 5000.0), "slow": _WINDOW, "step": (0.0, 1.0)}

LIVE_STRATEGIES: dict[str, LiveSpec] = {
    spec.code: spec
    for spec in (
        LiveSpec("hold", "rule", "a constant target fraction of the slot's capital", {"target": 0.0},
                 lambda p: Hold(float(p["target"])), {"target": (-1.0, 1.0)}),
        LiveSpec("rule", "rule", "a built-in single-asset research strategy (rule, rule_params) on the closes",
                 {"rule": "ma_crossover", "rule_params": {}}, _rule),
        LiveSpec("physics_regime", "physics", physics_targets.__doc__ or "", _PHYSICS_DEFAULTS,
                 lambda p: PhysicsRegime(_physics(p)), _PHYSICS_BOUNDS),
        LiveSpec("ml_alpha", "ml", "the champion model's probability, meta-label sized (López de Prado 10)",
                 _ML_DEFAULTS, lambda p: MlAlpha(_ml(p)), _ML_BOUNDS),
        LiveSpec("hybrid", "hybrid", "ML and physics targets weighted by EW recent out-of-sample performance",
                 {**_PHYSICS_DEFAULTS, **_ML_DEFAULTS, "halflife": 63.0, "floor": 0.0, "window": 252},
                 lambda p: Hybrid(_physics(p), _ml(p), float(p["halflife"]), float(p["floor"]), int(p["window"])),
                 {**_PHYSICS_BOUNDS, **_ML_BOUNDS, "halflife": (1.0, 5000.0), "floor": (0.0, 0.5),
                  "window": (20.0, 5000.0)}),
    )
}  # fmt: skip


def validate(code: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Full parameters (defaults filled in), or StrategyInputError naming the field and the numbers."""
    spec = LIVE_STRATEGIES.get(code)
    if spec is None:
        raise StrategyInputError(f"unknown strategy code {code!r}; known: {sorted(LIVE_STRATEGIES)}")
    given = dict(params or {})
    unknown = sorted(set(given) - set(spec.defaults))
    if unknown:
        raise StrategyInputError(f"{code} has no parameters {unknown}; it takes {sorted(spec.defaults)}")
    values = {**spec.defaults, **given}
    for name, default in spec.defaults.items():
        value = values[name]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise StrategyInputError(f"params.{name} must be true or false, got {value!r}")
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise StrategyInputError(f"params.{name} must be a number, got {value!r}")
            if isinstance(default, int) and int(value) != value:
                raise StrategyInputError(f"params.{name} must be a whole number, got {value!r}")
            values[name] = type(default)(value)
            low, high = spec.bounds.get(name, (-math.inf, math.inf))
            if not low <= value <= high:
                raise StrategyInputError(f"params.{name} = {value} is outside [{low:g}, {high:g}]")
    if code in ("ml_alpha", "hybrid") and not values["fast"] < values["slow"]:
        raise StrategyInputError(
            f"params.fast ({values['fast']}) must be below params.slow ({values['slow']})"
        )
    spec.build(values)  # builds once: nested checks (rule parameters) raise here
    return values


def build(code: str, params: Mapping[str, Any] | None) -> LiveStrategy:
    return LIVE_STRATEGIES[code].build(validate(code, params))


def describe() -> list[dict[str, Any]]:
    return [{"code": s.code, "kind": s.kind, "description": s.description.strip().splitlines()[0],
             "defaults": dict(s.defaults)} for s in LIVE_STRATEGIES.values()]  # fmt: skip


def orders_for_target(current: float, target: float) -> list[tuple[str, float]]:
    """The order legs (side, quantity > 0) moving a position from `current` to `target` shares; crossing zero
    takes two legs (close, then open the other way), as the OMS keeps long and short sides apart."""
    legs: list[tuple[str, float]] = []
    if target > current:
        if current < 0:
            legs.append(("cover", min(-current, target - current)))
        if target > 0:
            legs.append(("buy", target - max(current, 0.0)))
    elif target < current:
        if current > 0:
            legs.append(("sell", min(current, current - target)))
        if target < 0:
            legs.append(("short", min(current, 0.0) - target))
    return [(side, qty) for side, qty in legs if qty > 0]
