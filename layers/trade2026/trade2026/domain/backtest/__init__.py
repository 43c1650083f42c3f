"""Backtest engine: signals or target weights -> orders, positions, equity curve, trade list.

Pure numpy + numba (compiled loops cached on disk). See ``engine`` for timing, fills, stops and the
vectorbt settings the engine reproduces; ``config`` for costs, direction and sizing; ``trades`` for the
trade list's definitions.
"""

from trade2026.domain.backtest.config import (
    BacktestConfig,
    BacktestConfigError,
    Direction,
    Fill,
    Sizing,
    StopTrigger,
)
from trade2026.domain.backtest.engine import (
    BacktestResult,
    backtest_signals,
    backtest_weights,
    realized_volatility,
)
from trade2026.domain.backtest.trades import EXIT_REASONS, Orders, Trades

__all__ = [
    "EXIT_REASONS",
    "BacktestConfig",
    "BacktestConfigError",
    "BacktestResult",
    "Direction",
    "Fill",
    "Orders",
    "Sizing",
    "StopTrigger",
    "Trades",
    "backtest_signals",
    "backtest_weights",
    "realized_volatility",
]
