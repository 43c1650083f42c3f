"""Portfolio construction and covariance estimation: lake prices -> returns -> estimators -> optimizer ->
weights, risk contributions, and a backtest of the rebalanced portfolio through the research engine.

Per-bar returns are simple close-to-close returns on the dates common to every symbol; expected returns and
covariances are annualized by the bars a year of the interval (252 for daily bars). Domain errors (singular
covariance, infeasible constraints, too few observations) become 400s naming the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trade2026.domain.backtest import BacktestConfig, BacktestConfigError, backtest_weights
from trade2026.domain.portfolio import (
    Constraints,
    Group,
    PortfolioError,
    as_returns,
    cov_to_corr,
    cvar,
    hrp,
    mean_variance,
    risk_parity,
    risk_report,
)
from trade2026.domain.portfolio import covariance as cv
from trade2026.domain.portfolio import expected_returns as er
from trade2026.errors import BadRequest
from trade2026.services import research
from trade2026.services.research_models import MarketSpec

MAX_ASSETS = 200
Bounds = tuple[float, float]
Method = Literal[
    "max_sharpe", "min_volatility", "efficient_return", "efficient_risk", "efficient_frontier",
    "hrp", "herc", "risk_parity", "min_cvar",
]  # fmt: skip
MEAN_VARIANCE = {"max_sharpe", "min_volatility", "efficient_return", "efficient_risk", "efficient_frontier"}
REBALANCE = {"weekly": "W", "monthly": "M", "quarterly": "M", "yearly": "Y"}  # numpy datetime unit


# ---------------------------------------------------------------------------- requests
class DataSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=2, max_length=MAX_ASSETS)
    interval: str = Field("1d", max_length=8)
    start: str | None = Field(None, description="YYYY-MM-DD (inclusive)")
    end: str | None = Field(None, description="YYYY-MM-DD (inclusive)")

    @model_validator(mode="after")
    def _unique(self) -> DataSpec:
        repeated = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
        if repeated:
            raise ValueError(f"symbols repeat: {', '.join(repeated)}")
        return self


class CovarianceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["sample", "ewma", "ledoit_wolf", "denoised"] = "sample"
    halflife: float | None = Field(None, gt=0, description="EWMA half-life in bars (or give span)")
    span: float | None = Field(None, ge=1, description="EWMA span in bars (alpha = 2 / (span + 1))")
    detone: bool = Field(False, description="denoised only: remove the market component(s) (singular result)")
    market_components: int = Field(1, ge=1, le=10)
    bandwidth: float = Field(0.01, gt=0, le=1, description="KDE bandwidth of the Marchenko-Pastur fit")


class CovarianceRequest(DataSpec, CovarianceSpec):
    pass


class ExpectedReturnsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["mean", "ewma", "james_stein"] = "mean"
    halflife: float | None = Field(None, gt=0)
    span: float | None = Field(None, ge=1)


class PortfolioBacktestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rebalance: Literal["none", "weekly", "monthly", "quarterly", "yearly"] = "monthly"
    initial_cash: float = Field(100_000.0, gt=0)
    fees_bps: float = Field(0.0, ge=0, le=1_000)
    slippage_bps: float = Field(0.0, ge=0, le=1_000)


class OptimizeRequest(DataSpec):
    method: Method = "max_sharpe"
    covariance: CovarianceSpec = Field(default_factory=CovarianceSpec)
    expected_returns: ExpectedReturnsSpec = Field(default_factory=ExpectedReturnsSpec)
    risk_free_rate: float = Field(0.0, ge=-1, le=1, description="annual")
    target_return: float | None = Field(None, description="annual; efficient_return (and min_cvar)")
    target_volatility: float | None = Field(None, gt=0, description="annual; efficient_risk")
    weight_bounds: Bounds = Field((0.0, 1.0), description="[lower, upper] of every weight (negative = short)")
    asset_bounds: dict[str, Bounds] = Field(default_factory=dict, description="per-symbol [lower, upper]")
    asset_groups: dict[str, str] = Field(default_factory=dict, description="symbol -> group name")
    group_bounds: dict[str, Bounds] = Field(default_factory=dict, description='e.g. {"tech": [0, 0.4]}')
    current_weights: dict[str, float] | None = Field(None, description="for turnover and transaction costs")
    max_turnover: float | None = Field(None, ge=0, description="sum of |w - current|")
    transaction_cost_bps: float = Field(0.0, ge=0, le=1_000, description="per unit traded, off the return")
    linkage: Literal[hrp.LINKAGE_METHODS] = Field("single", description="hrp/herc")  # type: ignore[valid-type]
    optimal_ordering: bool = Field(False, description="hrp: scipy's optimal leaf ordering")
    n_clusters: int | None = Field(None, ge=1, le=MAX_ASSETS, description="herc (default: gap statistic)")
    risk_budgets: dict[str, float] | None = Field(None, description="risk_parity: symbol -> budget (> 0)")
    cvar_alpha: float = Field(0.95, ge=0.5, lt=1)
    frontier_points: int = Field(20, ge=2, le=100)
    backtest: PortfolioBacktestSpec = Field(default_factory=PortfolioBacktestSpec)


# ---------------------------------------------------------------------------- responses
class SpectrumInfo(BaseModel):
    """Correlation eigenvalues (decreasing) and the Marchenko-Pastur fit of the sample correlation."""

    eigenvalues: list[float] = Field(description="of the returned estimate's correlation")
    sample_eigenvalues: list[float]
    q: float = Field(description="observations / assets")
    noise_variance: float
    lambda_minus: float
    lambda_plus: float = Field(description="Marchenko-Pastur upper edge: eigenvalues above it are signal")
    n_factors: int


class CovarianceResponse(BaseModel):
    symbols: list[str]
    start: str
    end: str
    observations: int
    periods_per_year: float
    estimator: dict[str, Any]
    covariance: list[list[float]] = Field(description="annualized")
    correlation: list[list[float]]
    volatilities: dict[str, float] = Field(description="annualized")
    spectrum: SpectrumInfo


class FrontierPointInfo(BaseModel):
    expected_return: float
    volatility: float
    sharpe: float | None
    weights: dict[str, float]


class TradesInfo(BaseModel):
    turnover: float
    cost: float
    net_expected_return: float


class CVaRInfo(BaseModel):
    alpha: float
    cvar_per_bar: float = Field(description="mean loss of the worst 1 - alpha bars (positive = loss)")
    var_per_bar: float


class PortfolioBacktest(BaseModel):
    rebalance: str
    in_sample: bool = Field(description="the weights were estimated on these same prices")
    rebalances: int
    metrics: dict[str, Any]
    series: dict[str, Any]
    monthly_returns: dict[str, Any]


class OptimizeResponse(BaseModel):
    method: str
    symbols: list[str]
    start: str
    end: str
    observations: int
    weights: dict[str, float]
    risk_contributions: dict[str, float] = Field(description="w_i (S w)_i / vol: sums to the volatility")
    variance_shares: dict[str, float] = Field(description="w_i (S w)_i / w'S w: sums to 1")
    expected_return: float = Field(description="annual, gross of costs")
    volatility: float = Field(description="annual")
    sharpe: float | None
    risk_free_rate: float
    expected_returns_used: dict[str, float] = Field(description="annual, per symbol")
    covariance: dict[str, Any] = Field(description="the covariance estimator and what it found")
    expected_returns: dict[str, Any]
    frontier: list[FrontierPointInfo] | None = None
    order: list[str] | None = Field(None, description="hrp/herc: symbols in dendrogram leaf order")
    clusters: dict[str, int] | None = Field(None, description="herc: cluster of each symbol")
    cvar: CVaRInfo | None = None
    trades: TradesInfo | None = None
    backtest: PortfolioBacktest


# ---------------------------------------------------------------------------- helpers
@contextmanager
def domain_errors() -> Iterator[None]:
    """Optimizer and estimator errors are bad input: 400 with the domain's reason."""
    try:
        yield
    except PortfolioError as exc:
        raise BadRequest(str(exc)) from None


def load_returns(spec: DataSpec, read: research.BarReader) -> tuple[research.Prices, np.ndarray]:
    prices = research.align_prices(market_spec(spec), read)
    close = prices.close
    returns = close[1:] / close[:-1] - 1.0
    with domain_errors():
        as_returns(returns)  # more observations than assets
    return prices, returns


def market_spec(spec: DataSpec) -> MarketSpec:
    """The research core's market spec for these symbols and dates (lake reads, price alignment)."""
    return MarketSpec(
        strategy="portfolio", symbols=spec.symbols, interval=spec.interval, start=spec.start, end=spec.end
    )


def estimate_covariance(returns: np.ndarray, spec: CovarianceSpec) -> tuple[np.ndarray, dict[str, Any]]:
    """(per-bar covariance, what the estimator found: shrinkage, Marchenko-Pastur fit)."""
    info: dict[str, Any] = {"method": spec.method}
    with domain_errors():
        if spec.method == "ewma":
            if spec.halflife is None and spec.span is None:
                raise BadRequest("covariance method ewma needs halflife or span")
            return cv.ewma_covariance(returns, halflife=spec.halflife, span=spec.span), info | {
                "halflife": spec.halflife, "span": spec.span,
            }  # fmt: skip
        if spec.method == "ledoit_wolf":
            shrunk = cv.ledoit_wolf(returns)
            return shrunk.covariance, info | {"shrinkage": shrunk.shrinkage}
        sample = cv.sample_covariance(returns)
        if spec.method == "sample":
            return sample, info
        if spec.market_components >= returns.shape[1]:
            raise BadRequest(
                f"market_components {spec.market_components} must be below the {returns.shape[1]} assets"
            )
        denoised = cv.denoise(
            sample, len(returns), bandwidth=spec.bandwidth, detone=spec.detone,
            market_components=spec.market_components,
        )  # fmt: skip
        fit = denoised.spectrum
        return denoised.covariance, info | {
            "n_factors": fit.n_factors, "lambda_plus": fit.lambda_plus, "noise_variance": fit.noise_variance,
            "detone": spec.detone,
        }  # fmt: skip


def _floats(values: np.ndarray, digits: int = 12) -> list[float]:
    return [float(v) for v in np.round(np.asarray(values, dtype=np.float64), digits)]


def _by_symbol(symbols: tuple[str, ...] | list[str], values: np.ndarray) -> dict[str, float]:
    return dict(zip(symbols, _floats(values), strict=True))


# ---------------------------------------------------------------------------- covariance
def run_covariance(request: CovarianceRequest, read: research.BarReader) -> CovarianceResponse:
    prices, returns = load_returns(request, read)
    ppy = prices.periods_per_year
    cov, info = estimate_covariance(returns, request)
    with domain_errors():
        corr, std = cov_to_corr(cov)
        sample_corr, _ = cov_to_corr(cv.sample_covariance(returns))
        fit = cv.spectrum(sample_corr, len(returns), request.bandwidth)
    return CovarianceResponse.model_validate(
        {
            "symbols": list(prices.symbols),
            "start": str(prices.dates[0]),
            "end": str(prices.dates[-1]),
            "observations": len(returns),
            "periods_per_year": ppy,
            "estimator": info,
            "covariance": [_floats(row) for row in cov * ppy],
            "correlation": [_floats(row) for row in corr],
            "volatilities": _by_symbol(prices.symbols, std * np.sqrt(ppy)),
            "spectrum": {
                "eigenvalues": _floats(np.sort(np.linalg.eigvalsh(corr))[::-1]),
                "sample_eigenvalues": _floats(fit.eigenvalues),
                "q": fit.q,
                "noise_variance": fit.noise_variance,
                "lambda_minus": fit.lambda_minus,
                "lambda_plus": fit.lambda_plus,
                "n_factors": fit.n_factors,
            },
        }
    )


# ---------------------------------------------------------------------------- optimize
def _expected_returns(returns: np.ndarray, spec: ExpectedReturnsSpec) -> tuple[np.ndarray, dict[str, Any]]:
    with domain_errors():
        if spec.method == "ewma":
            if spec.halflife is None and spec.span is None:
                raise BadRequest("expected_returns method ewma needs halflife or span")
            return er.ewma_mean(returns, halflife=spec.halflife, span=spec.span), {"method": "ewma"}
        if spec.method == "james_stein":
            mu, intensity = er.james_stein_mean(returns)
            return mu, {"method": "james_stein", "shrinkage": intensity}
        return er.historical_mean(returns), {"method": "mean"}


def _unknown(kind: str, names: set[str], known: tuple[str, ...] | list[str]) -> None:
    missing = sorted(names - set(known))
    if missing:
        raise BadRequest(f"{kind} name symbols not in the request: {', '.join(missing)}")


def build_constraints(request: OptimizeRequest) -> Constraints:
    symbols = request.symbols
    n = len(symbols)
    _unknown("asset_bounds", set(request.asset_bounds), symbols)
    _unknown("asset_groups", set(request.asset_groups), symbols)
    lower = np.full(n, request.weight_bounds[0])
    upper = np.full(n, request.weight_bounds[1])
    for i, symbol in enumerate(symbols):
        if symbol in request.asset_bounds:
            lower[i], upper[i] = request.asset_bounds[symbol]
    groups = []
    for name, (low, high) in sorted(request.group_bounds.items()):
        members = np.array([request.asset_groups.get(s) == name for s in symbols])
        if not members.any():
            raise BadRequest(f"group_bounds: group {name!r} has no symbol in asset_groups")
        groups.append(Group(name, members, low, high))
    current = None
    if request.current_weights is not None:
        _unknown("current_weights", set(request.current_weights), symbols)
        current = np.array([request.current_weights.get(s, 0.0) for s in symbols])
    elif request.max_turnover is not None or request.transaction_cost_bps > 0:
        raise BadRequest("max_turnover and transaction_cost_bps need current_weights")
    return Constraints(
        lower, upper, tuple(groups), current, request.max_turnover, request.transaction_cost_bps / 1e4,
        names=tuple(symbols),
    )  # fmt: skip


def _check_method_inputs(request: OptimizeRequest, cons: Constraints) -> None:
    method = request.method
    if method == "efficient_return" and request.target_return is None:
        raise BadRequest("method efficient_return needs target_return (annual)")
    if method == "efficient_risk" and request.target_volatility is None:
        raise BadRequest("method efficient_risk needs target_volatility (annual)")
    if method in {"hrp", "herc", "risk_parity"} and not cons.is_long_only:
        raise BadRequest(f"method {method} is long-only and takes no bounds, groups, turnover or costs")
    if request.risk_budgets is not None:
        if method != "risk_parity":
            raise BadRequest("risk_budgets apply to method risk_parity only")
        _unknown("risk_budgets", set(request.risk_budgets), request.symbols)


def _optimize(request: OptimizeRequest, returns: np.ndarray, ppy: float, cons: Constraints) -> dict[str, Any]:
    cov_bar, cov_info = estimate_covariance(returns, request.covariance)
    mu_bar, mu_info = _expected_returns(returns, request.expected_returns)
    cov, mu = cov_bar * ppy, mu_bar * ppy
    method, rf = request.method, request.risk_free_rate
    extra: dict[str, Any] = {"covariance": cov_info, "expected_returns": mu_info}
    with domain_errors():
        if method == "max_sharpe":
            weights = mean_variance.max_sharpe(mu, cov, cons, rf)
        elif method == "min_volatility":
            weights = mean_variance.min_volatility(cov, cons)
        elif method == "efficient_return":
            assert request.target_return is not None
            weights = mean_variance.efficient_return(mu, cov, cons, request.target_return)
        elif method == "efficient_risk":
            assert request.target_volatility is not None
            weights = mean_variance.efficient_risk(mu, cov, cons, request.target_volatility)
        elif method == "efficient_frontier":
            frontier = mean_variance.efficient_frontier(mu, cov, cons, request.frontier_points)
            extra["frontier"] = [
                {"expected_return": p.expected_return, "volatility": p.volatility,
                 "sharpe": (p.expected_return - rf) / p.volatility if p.volatility > 0 else None,
                 "weights": _by_symbol(request.symbols, p.weights)}
                for p in frontier
            ]  # fmt: skip
            weights = mean_variance.max_sharpe(mu, cov, cons, rf)
        elif method == "hrp":
            weights, tree = hrp.hrp(cov, request.linkage, request.optimal_ordering)
            extra["order"] = [request.symbols[i] for i in tree.order]
        elif method == "herc":
            weights, tree, labels = hrp.herc(cov, request.linkage, request.n_clusters)
            extra["order"] = [request.symbols[i] for i in tree.order]
            extra["clusters"] = {s: int(label) for s, label in zip(request.symbols, labels, strict=True)}
        elif method == "risk_parity":
            budgets = None
            if request.risk_budgets is not None:
                budgets = np.array([request.risk_budgets.get(s, 0.0) for s in request.symbols])
            weights = risk_parity.risk_budget_weights(cov, budgets)
        else:
            target = None if request.target_return is None else request.target_return / ppy
            per_bar = Constraints(cons.lower, cons.upper, cons.groups, cons.current, cons.max_turnover,
                                  cons.cost / ppy, cons.names)  # fmt: skip
            found = cvar.min_cvar(returns, per_bar, request.cvar_alpha, mu_bar, target)
            weights = found.weights
            extra["cvar"] = {
                "alpha": request.cvar_alpha,
                "cvar_per_bar": found.cvar,
                "var_per_bar": found.var,
            }
    return {"weights": weights, "mu": mu, "cov": cov, **extra}


def rebalance_rows(dates: np.ndarray, rule: str) -> np.ndarray:
    """Row of the first bar of each week/month/quarter/year (always the first bar)."""
    if rule == "none":
        return np.array([0])
    keys = dates.astype(f"datetime64[{REBALANCE[rule]}]").astype(np.int64)
    if rule == "quarterly":
        keys = keys // 3
    return np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))


def backtest_portfolio(prices: research.Prices, weights: np.ndarray, spec: PortfolioBacktestSpec,
                       interval: str) -> dict[str, Any]:  # fmt: skip
    """The fixed weights rebalanced on schedule over the same prices (in sample: the weights saw this data)."""
    target = np.full(prices.close.shape, np.nan)
    target[rebalance_rows(prices.dates, spec.rebalance)] = weights
    try:
        config = BacktestConfig(
            init_cash=spec.initial_cash, fees_bps=spec.fees_bps, slippage_bps=spec.slippage_bps,
            direction="long_short" if np.any(weights < 0) else "long_only", periods_per_year=prices.periods_per_year,
        )  # fmt: skip
        result = backtest_weights(prices.close, target, config)
    except BacktestConfigError as exc:
        raise BadRequest(str(exc)) from None
    sheet = research.tearsheet(result, prices, interval)
    return {
        "rebalance": spec.rebalance,
        "in_sample": True,
        "rebalances": int(np.count_nonzero(~np.isnan(target[:, 0]))),
        "metrics": sheet["metrics"],
        "series": sheet["series"],
        "monthly_returns": sheet["monthly_returns"],
    }


def run_optimize(request: OptimizeRequest, read: research.BarReader) -> OptimizeResponse:
    prices, returns = load_returns(request, read)
    ppy = prices.periods_per_year
    cons = build_constraints(request)
    _check_method_inputs(request, cons)
    found = _optimize(request, returns, ppy, cons)
    weights = np.asarray(found.pop("weights"))
    weights = np.where(np.abs(weights) < 1e-14, 0.0, weights)
    mu, cov = found.pop("mu"), found.pop("cov")
    report = risk_report(weights, mu, cov, request.risk_free_rate)
    body: dict[str, Any] = {
        "method": request.method,
        "symbols": list(prices.symbols),
        "start": str(prices.dates[0]),
        "end": str(prices.dates[-1]),
        "observations": len(returns),
        "weights": _by_symbol(prices.symbols, weights),
        "risk_contributions": _by_symbol(prices.symbols, report.risk_contributions),
        "variance_shares": _by_symbol(prices.symbols, report.variance_shares),
        "expected_return": report.expected_return,
        "volatility": report.volatility,
        "sharpe": report.sharpe if np.isfinite(report.sharpe) else None,
        "risk_free_rate": request.risk_free_rate,
        "expected_returns_used": _by_symbol(prices.symbols, mu),
        **found,
    }
    if cons.current is not None:
        turnover = float(np.abs(weights - cons.current).sum())
        body["trades"] = {"turnover": turnover, "cost": turnover * cons.cost,
                          "net_expected_return": report.expected_return - turnover * cons.cost}  # fmt: skip
    body["backtest"] = backtest_portfolio(prices, weights, request.backtest, request.interval)
    return OptimizeResponse.model_validate(body)
