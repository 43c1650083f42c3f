"""Backtest settings: costs, fill timing, direction, position sizing and stops.

Every number is validated here once (a bad value raises ``BacktestConfigError``, a ``ValueError`` the API
maps to a 4xx). Costs may be one number for every column or one number per column (a sequence), so a
sweep over fees or stops runs in one batched call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

Direction = Literal["long_only", "long_short", "short_only"]
Fill = Literal["close", "next_open"]
StopTrigger = Literal["high_low", "close"]
SizingKind = Literal["units", "fraction", "vol_target"]
PerColumn = float | Sequence[float] | npt.NDArray[np.float64]

BPS: Final = 1e-4

# Integer codes shared with the compiled kernels.
DIRECTION_CODES: Final[dict[str, int]] = {"long_only": 0, "long_short": 1, "short_only": 2}
FILL_CODES: Final[dict[str, int]] = {"close": 0, "next_open": 1}
TRIGGER_CODES: Final[dict[str, int]] = {"high_low": 0, "close": 1}
SIZING_CODES: Final[dict[str, int]] = {"units": 0, "fraction": 1, "vol_target": 2}


class BacktestConfigError(ValueError):
    """A backtest setting or input is invalid (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Sizing:
    """How big a position an entry opens (signals) or how weights are scaled (target weights).

    - ``Sizing.units(u)``: ``u`` units per entry. A buy never spends more cash than there is: it is cut to
      what the cash affords, fees included (vectorbt's ``size=u`` with ``allow_partial=True``); a short
      sale is not limited.
    - ``Sizing.fraction(f)``: commit ``f`` x the equity available at the fill (cash plus the value of the
      position being closed, after its proportional fee), fees included:
      ``notional = (f * equity - fixed_fee) / (1 + fee)``. ``f = 1`` is all-in, exactly vectorbt's default
      ``size=np.inf`` (also for reversals); ``f > 1`` borrows cash (no interest is charged).
    - ``Sizing.vol_target(sigma, window, max_leverage)``: as ``fraction`` with
      ``f = min(max_leverage, sigma / realized_vol[t])``, where ``realized_vol[t]`` is the sample standard
      deviation of the last ``window`` close-to-close log returns ending at the SIGNAL bar ``t``, annualized by
      ``sqrt(periods_per_year)``: only data known at ``t``. No entry while it is undefined (warm-up).
      For signals the size is set at entry and held; for target weights every weight given is scaled.
    """

    kind: SizingKind = "fraction"
    value: PerColumn = 1.0
    vol_window: int = 20
    max_leverage: float = 1.0

    @classmethod
    def units(cls, units: PerColumn) -> Sizing:
        return cls("units", units)

    @classmethod
    def fraction(cls, fraction: PerColumn = 1.0) -> Sizing:
        return cls("fraction", fraction)

    @classmethod
    def vol_target(cls, annual_vol: PerColumn, window: int = 20, max_leverage: float = 1.0) -> Sizing:
        return cls("vol_target", annual_vol, vol_window=window, max_leverage=max_leverage)


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Settings of one backtest (or of every column of a batched one).

    - ``fees_bps``: proportional fee, basis points of each order's notional (10 bps = 0.1% = vectorbt's
      ``fees=0.001``); ``fixed_fee``: currency per order (vectorbt's ``fixed_fees``). A reversal is ONE order.
    - ``slippage_bps``: the fill price moves AGAINST you: buys fill at ``price * (1 + s)``, sells at
      ``price * (1 - s)`` (vectorbt's ``slippage``); fees are charged on the slipped notional.
    - ``fill``: ``"close"`` - a signal at bar ``t`` trades at the close of ``t``; ``"next_open"`` - at the
      open of ``t + 1`` (a signal on the last bar never trades). Nothing can trade earlier than that.
    - ``direction``: ``"long_only"`` (entry opens long, exit closes), ``"short_only"`` (entry opens short,
      exit covers), ``"long_short"`` (entry goes long, exit goes short, reversing in one order).
    - ``stop_loss`` / ``take_profit``: fractions of the entry fill price (0.05 = 5%), NaN/None = off; see
      ``stop_trigger`` and the engine docstring for the fill rules.
    - ``periods_per_year``: annualization of the realized volatility used by ``Sizing.vol_target``.
    """

    init_cash: float = 100_000.0
    fees_bps: PerColumn = 0.0
    fixed_fee: PerColumn = 0.0
    slippage_bps: PerColumn = 0.0
    fill: Fill = "close"
    direction: Direction = "long_only"
    sizing: Sizing = field(default_factory=Sizing)
    stop_loss: PerColumn | None = None
    take_profit: PerColumn | None = None
    stop_trigger: StopTrigger = "high_low"
    periods_per_year: float = 252.0

    def __post_init__(self) -> None:
        _check_choice("fill", self.fill, FILL_CODES)
        _check_choice("direction", self.direction, DIRECTION_CODES)
        _check_choice("stop_trigger", self.stop_trigger, TRIGGER_CODES)
        _check_choice("sizing.kind", self.sizing.kind, SIZING_CODES)
        if not (math.isfinite(self.init_cash) and self.init_cash > 0):
            raise BacktestConfigError(f"init_cash must be a positive number, got {self.init_cash}")
        if not (math.isfinite(self.periods_per_year) and self.periods_per_year > 0):
            raise BacktestConfigError(f"periods_per_year must be positive, got {self.periods_per_year}")
        if self.sizing.vol_window < 2:
            raise BacktestConfigError(f"sizing.vol_window must be at least 2, got {self.sizing.vol_window}")
        if not (math.isfinite(self.sizing.max_leverage) and self.sizing.max_leverage > 0):
            raise BacktestConfigError(f"sizing.max_leverage must be positive, got {self.sizing.max_leverage}")
        # Validate every per-column value now (they are broadcast to the column count on each call).
        self.column_values(max(per_column_lengths(self), default=1))

    def column_values(self, columns: int) -> ColumnValues:
        """Every per-column number broadcast to ``(columns,)`` float64 arrays, in kernel units (fractions)."""
        return ColumnValues(
            fee_rate=_per_column("fees_bps", self.fees_bps, columns, minimum=0.0) * BPS,
            fixed_fee=_per_column("fixed_fee", self.fixed_fee, columns, minimum=0.0),
            slippage=_per_column("slippage_bps", self.slippage_bps, columns, minimum=0.0) * BPS,
            stop_loss=_per_column("stop_loss", self.stop_loss, columns, positive=True, optional=True),
            take_profit=_per_column("take_profit", self.take_profit, columns, positive=True, optional=True),
            size_value=_per_column("sizing.value", self.sizing.value, columns, positive=True),
        )

    @property
    def uses_stops(self) -> bool:
        return self.stop_loss is not None or self.take_profit is not None


@dataclass(frozen=True, slots=True)
class ColumnValues:
    """Per-column settings as the kernels take them (fractions, NaN = stop off)."""

    fee_rate: npt.NDArray[np.float64]
    fixed_fee: npt.NDArray[np.float64]
    slippage: npt.NDArray[np.float64]
    stop_loss: npt.NDArray[np.float64]
    take_profit: npt.NDArray[np.float64]
    size_value: npt.NDArray[np.float64]


_PER_COLUMN_FIELDS: Final = ("fees_bps", "fixed_fee", "slippage_bps", "stop_loss", "take_profit")


def per_column_lengths(config: BacktestConfig) -> list[int]:
    """Lengths of the settings given per column (empty when every setting is one number)."""
    values = [getattr(config, name) for name in _PER_COLUMN_FIELDS] + [config.sizing.value]
    return [int(np.size(value)) for value in values if value is not None and np.ndim(value) > 0]


def _check_choice(name: str, value: str, choices: dict[str, int]) -> None:
    if value not in choices:
        raise BacktestConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _per_column(
    name: str,
    value: PerColumn | None,
    columns: int,
    *,
    minimum: float | None = None,
    positive: bool = False,
    optional: bool = False,
) -> npt.NDArray[np.float64]:
    if value is None:
        return np.full(columns, np.nan)
    if isinstance(value, int | float):  # the common case, checked without numpy (per-call overhead)
        _check_number(name, float(value), minimum=minimum, positive=positive, optional=optional)
        return np.full(columns, float(value))
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or (array.ndim == 1 and array.size not in (1, columns)):
        raise BacktestConfigError(
            f"{name} must be one number or one per column ({columns}); got {array.shape}"
        )
    present = array[~np.isnan(array)] if optional else array
    if not np.all(np.isfinite(present)):
        raise BacktestConfigError(f"{name} must be finite, got {value}")
    if minimum is not None and np.any(present < minimum):
        raise BacktestConfigError(f"{name} must be >= {minimum}, got {value}")
    if positive and np.any(present <= 0):
        raise BacktestConfigError(f"{name} must be > 0, got {value}")
    return np.array(np.broadcast_to(array, (columns,)), dtype=np.float64)  # a writable copy: see engine


def _check_number(name: str, value: float, *, minimum: float | None, positive: bool, optional: bool) -> None:
    if optional and math.isnan(value):
        return
    if not math.isfinite(value):
        raise BacktestConfigError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise BacktestConfigError(f"{name} must be >= {minimum}, got {value}")
    if positive and value <= 0:
        raise BacktestConfigError(f"{name} must be > 0, got {value}")
