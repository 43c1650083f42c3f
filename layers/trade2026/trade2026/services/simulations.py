"""Monte Carlo simulations of a portfolio or a strategy: resolve the returns, build the spec, run or plan tasks.

Small runs are simulated in the API call. Large ones run as a Step Functions Map: the chunks of the run
(`simulation.CHUNK_PATHS` paths each, seeded by `SeedSequence(seed).spawn(n)[chunk]`) are grouped into tasks,
each task stores its per-path results, the merge concatenates them in chunk order and summarizes: the numbers
equal those of the same request run in one piece.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from trade2026.domain import simulation as sim
from trade2026.errors import BadRequest
from trade2026.services.physics import BarReader, load_universe

PERIODS_PER_YEAR = 252
MAX_PATHS = 100_000
MAX_HORIZON = 10_080  # 40 years of trading days
TASK_BUDGET = 10_000_000  # paths x days per Step Functions task

ReturnsOfBacktest = Callable[[str], np.ndarray]


class Portfolio(BaseModel):
    symbols: list[str] = Field(min_length=1, max_length=50)
    weights: list[float] = Field(
        min_length=1, max_length=50, description="constant weights, rebalanced daily"
    )
    start: str | None = Field(None, description="YYYY-MM-DD (inclusive) of the returns history")
    end: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Portfolio:
        if len(self.weights) != len(self.symbols):
            raise ValueError(f"{len(self.weights)} weights for {len(self.symbols)} symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be unique")
        if not all(math.isfinite(w) for w in self.weights):
            raise ValueError("weights must be finite numbers")
        return self


class GbmInput(BaseModel):
    mu: float = Field(ge=-5, le=5, description="annualized drift (E[W_T] = W_0 exp(mu T))")
    sigma: float = Field(ge=0, le=5, description="annualized volatility of log returns")


class RegimeInput(BaseModel):
    mu: tuple[float, float] = Field(description="annualized mean log return in the calm and stressed state")
    sigma: tuple[float, float] = Field(description="annualized volatility in each state")
    p_stay: tuple[float, float] = Field(description="daily probability of staying in each state")

    @model_validator(mode="after")
    def _ranges(self) -> RegimeInput:
        if any(not 0 <= s <= 5 for s in self.sigma):
            raise ValueError(f"regime sigma must be in [0, 5], got {list(self.sigma)}")
        if any(not 0 <= p <= 1 for p in self.p_stay):
            raise ValueError(f"regime p_stay must be probabilities, got {list(self.p_stay)}")
        if any(abs(m) > 5 for m in self.mu):
            raise ValueError(f"regime mu must be in [-5, 5], got {list(self.mu)}")
        return self


class SimulationRequest(BaseModel):
    model: Literal["gbm", "bootstrap", "regime"] = "bootstrap"
    portfolio: Portfolio | None = Field(None, description="simulate this portfolio's daily returns")
    backtest_id: str | None = Field(None, pattern="^[0-9a-f]{32}$", description="simulate a stored backtest")
    returns: list[float] | None = Field(
        None, min_length=2, max_length=100_000, description="daily simple returns"
    )
    gbm: GbmInput | None = Field(None, description="GBM parameters; estimated from the returns when omitted")
    regime: RegimeInput | None = Field(None, description="regime parameters; estimated when omitted")
    mean_block: float = Field(
        20.0, ge=1, le=1_000, description="stationary bootstrap: mean block length (days)"
    )
    horizon_days: int = Field(252, ge=1, le=MAX_HORIZON)
    paths: int = Field(10_000, ge=100, le=MAX_PATHS)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    initial_wealth: float = Field(1_000_000.0, gt=0, le=1e15)
    ruin_fraction: float = Field(
        0.5, ge=0, lt=1, description="ruin: wealth at or below this share of the start"
    )
    mode: Literal["auto", "sync", "async"] = Field(
        "auto", description="auto: synchronous up to the paths x days budget, Step Functions above it"
    )

    @model_validator(mode="after")
    def _one_source(self) -> SimulationRequest:
        given = [name for name in ("portfolio", "backtest_id", "returns") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one source of returns, got {', '.join(given)}")
        if (
            not given
            and not (self.model == "gbm" and self.gbm is not None)
            and not (self.model == "regime" and self.regime is not None)
        ):
            raise ValueError(
                "give portfolio, backtest_id or returns (or the model's parameters for gbm/regime)"
            )
        if self.returns is not None and not all(math.isfinite(r) and r > -1 for r in self.returns):
            raise ValueError("returns must be finite and above -1 (-100%)")
        return self


def source_returns(
    req: SimulationRequest, read: BarReader | None, backtest: ReturnsOfBacktest | None
) -> np.ndarray | None:
    """The daily simple returns the model is fitted to or resampled from (None when parameters are given)."""
    if req.returns is not None:
        return np.asarray(req.returns, dtype=np.float64)
    if req.backtest_id is not None:
        assert backtest is not None
        return backtest(req.backtest_id)
    if req.portfolio is not None:
        assert read is not None
        universe = load_universe(req.portfolio.symbols, read)
        if len(universe.ts) < 3:
            raise BadRequest(f"the portfolio has {len(universe.ts)} common days; at least 3 are needed")
        asset_returns = universe.close[1:] / universe.close[:-1] - 1.0
        return asset_returns @ np.asarray(req.portfolio.weights)
    return None


def returns_of_equity(equity: list[float]) -> np.ndarray:
    e = np.asarray(equity, dtype=np.float64)
    if len(e) < 3 or not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise BadRequest("the backtest's equity curve is too short or not positive: it cannot be simulated")
    return e[1:] / e[:-1] - 1.0


def build_spec(
    req: SimulationRequest, returns: np.ndarray | None
) -> tuple[sim.SimulationSpec, dict[str, Any]]:
    """The domain spec and a description of the inputs (estimated parameters, sample statistics)."""
    ppy = PERIODS_PER_YEAR
    info: dict[str, Any] = {"periods_per_year": ppy}
    try:
        log_returns = None if returns is None else sim.to_log_returns(returns)
        if log_returns is not None:
            info["sample"] = {
                "observations": len(log_returns),
                "mean_daily_return": float(np.expm1(log_returns).mean()),
                "annualized_volatility": float(log_returns.std(ddof=1) * math.sqrt(ppy)),
            }
        gbm = regime = None
        if req.model == "gbm":
            if req.gbm is not None:
                gbm = sim.GbmParams(mu=req.gbm.mu / ppy, sigma=req.gbm.sigma / math.sqrt(ppy))
            else:
                assert returns is not None
                gbm = sim.estimate_gbm(returns)
            info["gbm"] = {"mu": gbm.mu * ppy, "sigma": gbm.sigma * math.sqrt(ppy),
                           "estimated": req.gbm is None}  # fmt: skip
        elif req.model == "regime":
            if req.regime is not None:
                regime = sim.RegimeParams(
                    mu=(req.regime.mu[0] / ppy, req.regime.mu[1] / ppy),
                    sigma=(req.regime.sigma[0] / math.sqrt(ppy), req.regime.sigma[1] / math.sqrt(ppy)),
                    p_stay=req.regime.p_stay,
                )
            else:
                assert returns is not None
                regime = sim.estimate_regimes(returns)
            info["regime"] = {
                "mu": [m * ppy for m in regime.mu],
                "sigma": [s * math.sqrt(ppy) for s in regime.sigma],
                "p_stay": list(regime.p_stay),
                "estimated": req.regime is None,
            }
        elif log_returns is None:
            raise BadRequest("model bootstrap needs returns: give portfolio, backtest_id or returns")
        else:
            info["bootstrap"] = {"mean_block": req.mean_block}
        spec = sim.SimulationSpec(
            model=req.model, horizon=req.horizon_days, paths=req.paths, seed=req.seed,
            initial_wealth=req.initial_wealth, ruin_fraction=req.ruin_fraction, gbm=gbm, regime=regime,
            log_returns=log_returns if req.model == "bootstrap" else None, mean_block=req.mean_block,
        )  # fmt: skip
    except sim.SimulationError as exc:
        raise BadRequest(str(exc)) from None
    return spec, info


def spec_to_json(spec: sim.SimulationSpec) -> dict[str, Any]:
    """The spec without its sample (stored beside it as an array) for the Step Functions tasks."""
    return {
        "model": spec.model, "horizon": spec.horizon, "paths": spec.paths, "seed": spec.seed,
        "initial_wealth": spec.initial_wealth, "ruin_fraction": spec.ruin_fraction, "mean_block": spec.mean_block,
        "gbm": None if spec.gbm is None else vars(spec.gbm),
        "regime": None if spec.regime is None else {k: list(v) for k, v in vars(spec.regime).items()},
    }  # fmt: skip


def spec_from_json(data: dict[str, Any], log_returns: np.ndarray | None) -> sim.SimulationSpec:
    regime = data["regime"]
    return sim.SimulationSpec(
        model=data["model"], horizon=data["horizon"], paths=data["paths"], seed=data["seed"],
        initial_wealth=data["initial_wealth"], ruin_fraction=data["ruin_fraction"], mean_block=data["mean_block"],
        gbm=None if data["gbm"] is None else sim.GbmParams(**data["gbm"]),
        regime=None if regime is None else sim.RegimeParams(**{k: tuple(v) for k, v in regime.items()}),
        log_returns=log_returns,
    )  # fmt: skip


def simulate(spec: sim.SimulationSpec) -> dict[str, Any]:
    """The whole run in this process (a failure of the numbers is the request's: 400 with the reason)."""
    try:
        return sim.simulate(spec)
    except sim.SimulationError as exc:
        raise BadRequest(str(exc)) from None


def is_async(req: SimulationRequest, budget: int) -> bool:
    size = req.paths * req.horizon_days
    if req.mode == "sync" and size > budget:
        raise BadRequest(
            f"paths x horizon_days = {size:,} is above the synchronous budget {budget:,}: use mode auto or async"
        )
    return req.mode == "async" or (req.mode == "auto" and size > budget)


def plan_tasks(spec: sim.SimulationSpec) -> list[dict[str, int]]:
    """Consecutive chunk ranges of about TASK_BUDGET paths x days each."""
    per_task = max(1, TASK_BUDGET // (sim.CHUNK_PATHS * spec.horizon))
    return [
        {"task": i, "start": start, "stop": min(start + per_task, spec.n_chunks)}
        for i, start in enumerate(range(0, spec.n_chunks, per_task))
    ]


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers kept in the run's record (the full result is in the lake)."""
    return {
        "terminal_wealth_mean": result["terminal_wealth"]["mean"],
        "terminal_wealth_median": result["terminal_wealth"]["quantiles"]["value"][3],
        "probability_of_ruin": result["probability_of_ruin"]["value"],
        "var_95": result["var_cvar"]["95"]["var"],
        "cvar_95": result["var_cvar"]["95"]["cvar"],
        "max_drawdown_median": result["max_drawdown"]["quantiles"]["value"][3],
    }
