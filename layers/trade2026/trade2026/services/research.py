"""Backtests and sweeps: lake prices -> strategy signals -> engine -> metrics, tearsheet, PBO.

Single backtests run synchronously in the API; sweeps are planned into chunks that a Step Functions Map runs
(one Lambda per chunk: all its configurations in one batched engine call when the strategy gives entries/exits).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trade2026.domain import metrics, walkforward
from trade2026.domain.backtest import (
    BacktestConfig,
    BacktestConfigError,
    BacktestResult,
    Sizing,
    backtest_signals,
    backtest_weights,
)
from trade2026.domain.backtest.trades import EXIT_REASONS
from trade2026.domain.marketdata import parse_interval
from trade2026.domain.marketdata.intervals import DAY_NS, IntervalKind
from trade2026.domain.overfitting import cscv_pbo, deflated_sharpe_of_trials, probabilistic_sharpe_ratio
from trade2026.domain.strategies import STRATEGIES, Signals, run_strategy, validate_params
from trade2026.errors import BadRequest
from trade2026.services.research_models import MAX_SWEEP_CONFIGS, MarketSpec, SweepRequest, WalkForwardRequest

MAX_TRADES_SHOWN = 2_000
ROLLING_SHARPE_WINDOW = {"1d": 126, "1w": 26, "1mo": 12}


@dataclass(frozen=True)
class Prices:
    """Aligned bars of the requested symbols: (T,) for one symbol, (T, N) for several (common dates only)."""

    symbols: tuple[str, ...]
    ts: np.ndarray  # int64 epoch ns of each bar's start
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    periods_per_year: float

    @property
    def dates(self) -> np.ndarray:
        return self.ts.astype("datetime64[ns]").astype("datetime64[D]")


BarReader = Callable[[str], Mapping[str, np.ndarray]]  # symbol -> API-style bar columns (ts ns, open, ...)


def periods_per_year(interval: str) -> float:
    step = parse_interval(interval)
    if step.kind is IntervalKind.MONTH:
        return 12.0 / step.count
    if step.kind is IntervalKind.WEEK:
        return 52.0 / step.count
    if step.step_ns >= DAY_NS:
        return 252.0 * DAY_NS / step.step_ns
    return 252.0 * 390.0 * 60e9 / step.step_ns  # intraday: 390 minutes a session


def align_prices(spec: MarketSpec, read: BarReader) -> Prices:
    columns = {symbol: read(symbol) for symbol in spec.symbols}
    common = None
    for bars in columns.values():
        ts = np.asarray(bars["ts"], dtype=np.int64)
        common = ts if common is None else np.intersect1d(common, ts)
    assert common is not None
    if len(common) == 0:
        raise BadRequest("empty date range: no bars between start and end for " + ", ".join(spec.symbols))

    def field(name: str) -> np.ndarray:
        stacked = []
        for bars in columns.values():
            ts = np.asarray(bars["ts"], dtype=np.int64)
            values = np.asarray(bars[name], dtype=np.float64)[np.searchsorted(ts, common)]
            stacked.append(values)
        matrix = np.column_stack(stacked)
        return matrix[:, 0] if len(stacked) == 1 else matrix

    close = field("close")
    if not np.all(np.isfinite(close)):
        raise BadRequest("the close prices have gaps in the requested range")
    return Prices(
        symbols=tuple(spec.symbols),
        ts=common,
        open=field("open"),
        high=field("high"),
        low=field("low"),
        close=close,
        periods_per_year=periods_per_year(spec.interval),
    )


def engine_config(spec: MarketSpec, prices: Prices) -> BacktestConfig:
    sizing = spec.sizing
    if sizing.kind == "units":
        chosen = Sizing.units(sizing.value)
    elif sizing.kind == "vol_target":
        chosen = Sizing.vol_target(sizing.value, sizing.vol_window, sizing.max_leverage)
    else:
        chosen = Sizing.fraction(sizing.value)
    try:
        return BacktestConfig(
            init_cash=spec.initial_cash,
            fees_bps=spec.fees_bps,
            fixed_fee=spec.fixed_fee,
            slippage_bps=spec.slippage_bps,
            fill=spec.fill,
            direction=spec.direction,
            sizing=chosen,
            stop_loss=spec.stop_loss,
            take_profit=spec.take_profit,
            periods_per_year=prices.periods_per_year,
        )
    except BacktestConfigError as exc:
        raise BadRequest(str(exc)) from None


def _signals(spec: MarketSpec, prices: Prices, params: Mapping[str, Any]) -> Signals:
    strategy = STRATEGIES.get(spec.strategy)
    if strategy is None:
        raise BadRequest(f"unknown strategy {spec.strategy!r}; known: {', '.join(sorted(STRATEGIES))}")
    if strategy.output == "entries_exits" and len(prices.symbols) != 1:
        raise BadRequest(f"{spec.strategy} trades one symbol; got {len(prices.symbols)}")
    try:
        return run_strategy(spec.strategy, prices.close, params, dates=prices.dates)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _run(prices: Prices, signals: Signals, config: BacktestConfig) -> BacktestResult:
    try:
        if signals.kind == "target_weights":
            # NaN between rebalance bars: no order there (a monthly strategy trades monthly).
            return backtest_weights(prices.close, signals.rebalance_weights(), config, open=prices.open)
        assert signals.entries is not None and signals.exits is not None
        return backtest_signals(
            prices.close, signals.entries, signals.exits, config,
            open=prices.open, high=prices.high, low=prices.low,
        )  # fmt: skip
    except BacktestConfigError as exc:
        raise BadRequest(str(exc)) from None


def _iso_days(ts: np.ndarray) -> list[str]:
    return [str(d) for d in ts.astype("datetime64[ns]").astype("datetime64[D]")]


def tearsheet(result: BacktestResult, prices: Prices, interval: str) -> dict[str, Any]:
    """What the UI draws: equity, drawdown, rolling Sharpe, monthly returns, trades, headline metrics."""
    returns = np.nan_to_num(np.asarray(result.returns, dtype=np.float64))
    ppy = prices.periods_per_year
    positions = result.positions if result.positions.ndim == 1 else np.abs(result.positions).sum(axis=1)
    summary = metrics.performance_summary(returns, ppy, positions=positions).records()[0]
    trades = result.trades
    stats = metrics.trade_stats(trades.pnl, trades.returns)
    equity = np.asarray(result.equity, dtype=np.float64)
    monthly = metrics.monthly_returns(returns, prices.ts)
    years, table = metrics.monthly_table(monthly)
    window = ROLLING_SHARPE_WINDOW.get(interval, 126)
    rolling = metrics.rolling_sharpe(returns, window, periods_per_year=ppy) if len(returns) > window else None
    psr = probabilistic_sharpe_ratio(
        float(np.mean(returns) / np.std(returns, ddof=1)) if np.std(returns) > 0 else 0.0,
        len(returns),
        float(metrics.skewness(returns)),
        float(metrics.kurtosis(returns)),
    )
    shown = min(len(trades.pnl), MAX_TRADES_SHOWN)
    return {
        "metrics": summary | {"probabilistic_sharpe": _finite(psr), "final_equity": float(equity[-1])},
        "trade_stats": {k: _finite(np.asarray(v).item()) for k, v in vars(stats).items()},
        "series": {
            "dates": _iso_days(prices.ts),
            "equity": equity.round(6).tolist(),
            "drawdown": metrics.drawdowns(equity).round(6).tolist(),
            "rolling_sharpe": None if rolling is None else [_finite(v) for v in np.asarray(rolling).tolist()],
        },
        "monthly_returns": {"years": years.tolist(), "table": [[_finite(v) for v in row] for row in table]},
        "trades": [
            {
                "symbol": prices.symbols[min(int(trades.column[i]), len(prices.symbols) - 1)],
                "entry": _iso_days(prices.ts[[trades.entry_bar[i]]])[0],
                "exit": _iso_days(prices.ts[[trades.exit_bar[i]]])[0],
                "direction": "long" if trades.direction[i] > 0 else "short",
                "size": float(trades.size[i]),
                "entry_price": float(trades.entry_price[i]),
                "exit_price": float(trades.exit_price[i]),
                "fees": float(trades.entry_fees[i] + trades.exit_fees[i]),
                "pnl": float(trades.pnl[i]),
                "return": float(trades.returns[i]),
                "exit_reason": EXIT_REASONS[int(trades.exit_reason[i])],
            }
            for i in range(shown)
        ],
        "trades_total": len(trades.pnl),
    }


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def run_backtest(spec: MarketSpec, params: Mapping[str, Any], read: BarReader) -> dict[str, Any]:
    prices = align_prices(spec, read)
    result = _run(prices, _signals(spec, prices, params), engine_config(spec, prices))
    return tearsheet(result, prices, spec.interval)


# ---------------------------------------------------------------------- sweeps
def sweep_configs(request: SweepRequest | WalkForwardRequest) -> list[dict[str, Any]]:
    """Every configuration of the sweep (grid product or seeded random draws), fixed parameters added."""
    if isinstance(request, WalkForwardRequest) or request.grid is not None:
        assert request.grid is not None
        names = sorted(request.grid)
        combos = itertools.product(*(request.grid[name] for name in names))
        configs = [
            dict(zip(names, values, strict=True))
            for values in itertools.islice(combos, MAX_SWEEP_CONFIGS + 1)
        ]
    else:
        assert request.random is not None
        rng = np.random.default_rng(request.random.seed)
        configs = []
        for _ in range(request.random.samples):
            config: dict[str, Any] = {}
            for name, (low, high) in sorted(request.random.ranges.items()):
                value = rng.uniform(low, high)
                config[name] = round(value) if name in request.random.integer else float(value)
            configs.append(config)
    if len(configs) > MAX_SWEEP_CONFIGS:
        raise BadRequest(f"a sweep runs at most {MAX_SWEEP_CONFIGS} configurations")
    return [request.fixed | config for config in configs]


def validate_sweep(request: SweepRequest | WalkForwardRequest, prices: Prices) -> list[dict[str, Any]]:
    """All configurations, each checked against the data: the first invalid one is a 400 naming it."""
    n_assets = 1 if prices.close.ndim == 1 else prices.close.shape[1]
    configs = sweep_configs(request)
    checked = []
    for i, config in enumerate(configs):
        try:
            checked.append(validate_params(request.strategy, config, len(prices.ts), n_assets=n_assets))
        except ValueError as exc:
            raise BadRequest(f"configuration {i} {config}: {exc}") from None
    if isinstance(request, SweepRequest) and len(prices.ts) < 2 * request.pbo_blocks:
        raise BadRequest(f"{len(prices.ts)} bars are too few for PBO with {request.pbo_blocks} blocks")
    return checked


def run_chunk(
    request: MarketSpec, prices: Prices, configs: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """(returns (T, C), one metrics record per configuration) for a chunk of configurations."""
    config = engine_config(request, prices)
    signals = [_signals(request, prices, params) for params in configs]
    if signals and signals[0].kind == "entries_exits":
        # One batched engine call: every configuration is a column over the same close.
        entries = np.column_stack([np.asarray(s.entries) for s in signals])
        exits = np.column_stack([np.asarray(s.exits) for s in signals])
        result = backtest_signals(
            prices.close, entries, exits, config, open=prices.open, high=prices.high, low=prices.low
        )
        returns = np.asarray(result.returns, dtype=np.float64).reshape(len(prices.ts), -1)
        positions = np.asarray(result.positions, dtype=np.float64).reshape(len(prices.ts), -1)
        stats = metrics.trade_stats(
            result.trades.pnl, result.trades.returns, result.trades.column, len(configs)
        )
    else:
        results = [_run(prices, s, config) for s in signals]
        returns = np.column_stack([np.asarray(r.returns, dtype=np.float64) for r in results])
        positions = np.column_stack([np.abs(np.atleast_2d(r.positions.T).T).sum(axis=1) for r in results])
        stats = None
    returns = np.nan_to_num(returns)
    records = metrics.performance_summary(returns, prices.periods_per_year, positions=positions).records()
    if stats is not None:
        for i, record in enumerate(records):
            record["n_trades"] = int(np.atleast_1d(stats.n_trades)[i])
            record["hit_rate"] = _finite(np.atleast_1d(stats.hit_rate)[i])
            record["profit_factor"] = _finite(np.atleast_1d(stats.profit_factor)[i])
    return returns, records


def sweep_summary(returns: np.ndarray, configs: Sequence[Mapping[str, Any]], records: list[dict[str, Any]],
                  blocks: int, top: int = 20) -> dict[str, Any]:  # fmt: skip
    """Ranking, the deflated Sharpe of the best configuration over all trials, and PBO by CSCV."""
    sharpe = np.array([r.get("sharpe") if r.get("sharpe") is not None else -np.inf for r in records])
    order = np.argsort(-sharpe, kind="stable")
    dsr = deflated_sharpe_of_trials(returns)
    pbo = cscv_pbo(returns, n_blocks=blocks)
    return {
        "configs": len(configs),
        "best": [
            {"rank": k + 1, "params": configs[i], "metrics": records[i]} for k, i in enumerate(order[:top])
        ],
        "deflated_sharpe": {k: _json(v) for k, v in vars(dsr).items()},
        "pbo": pbo.to_dict(),
    }


def _json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def lake_bar_reader(lake: Any, spec: MarketSpec) -> BarReader:
    """Bars of each symbol over the request's range and interval, from the lake (see marketdata_query)."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    start = mq.parse_time(spec.start, end_of_day=False, default=mq.EARLIEST_NS)
    end = mq.parse_time(spec.end, end_of_day=True, default=mq.LATEST_NS)
    if start > end:
        raise BadRequest("empty date range: start is after end")

    def read(symbol: str) -> Mapping[str, np.ndarray]:
        meta = get_symbol(symbol)
        if meta is None:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        query = mq.BarsQuery(symbol, spec.interval, start, end, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        return {"ts": bars.start, "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close}

    return read


def plan_chunks(n_configs: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk_size, n_configs)) for start in range(0, n_configs, chunk_size)]


def run_walk_forward(request: WalkForwardRequest, read: BarReader) -> dict[str, Any]:
    """Optimize in sample (Sharpe), trade the winner out of sample, fold after fold; stitch the OOS returns.

    Every configuration is backtested once over the whole range (one batched call); a fold scores the
    configurations on its training bars and takes the chosen one's returns on its test bars. Signals at a bar
    use only data up to it, so a test window sees its own past, never its future.
    """
    prices = align_prices(request, read)
    configs = validate_sweep(request, prices)
    n_bars = len(prices.ts)
    try:
        make_folds = walkforward.anchored_folds if request.scheme == "anchored" else walkforward.rolling_folds
        folds = make_folds(n_bars, request.train_bars, request.test_bars, gap=request.gap)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if not folds:
        raise BadRequest(
            f"no fold fits: {request.train_bars} training + {request.gap} gap + {request.test_bars} test bars "
            f"exceed the {n_bars} bars of the range"
        )
    returns, _records = run_chunk(request, prices, configs)
    ppy = prices.periods_per_year

    def in_sample(index: int, window: slice) -> float:
        value = float(metrics.sharpe_ratio(returns[window, index], periods_per_year=ppy))
        return value if np.isfinite(value) else float("nan")

    result = walkforward.walk_forward(
        folds, list(range(len(configs))), in_sample, lambda index, window: returns[window, index]
    )
    oos = np.asarray(result.oos_returns, dtype=np.float64)
    oos_ts = prices.ts[np.asarray(result.oos_index)]
    summary = metrics.performance_summary(oos, ppy).records()[0]
    days = _iso_days(prices.ts)
    return {
        "folds": [
            {
                "index": fold.index,
                "train": [days[fold.train_start], days[fold.train_stop - 1]],
                "test": [days[fold.test_start], days[fold.test_stop - 1]],
                "chosen": configs[int(result.chosen[k])],
                "in_sample_sharpe": _finite(result.scores[k, int(result.chosen[k])]),
                "out_of_sample_sharpe": _finite(
                    metrics.sharpe_ratio(result.fold_returns[k], periods_per_year=ppy)
                ),
            }
            for k, fold in enumerate(result.folds)
        ],
        "configs": len(configs),
        "oos_metrics": summary,
        "oos_series": {
            "dates": _iso_days(oos_ts),
            "equity": (request.initial_cash * np.cumprod(1.0 + oos)).round(6).tolist(),
        },
    }
