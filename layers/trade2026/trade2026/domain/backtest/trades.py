"""The trade list and the order list of a backtest, as typed numpy columns.

A trade runs from the order that opens a position (from flat, or the opening part of a reversal) to the
order that brings it back to zero or flips it. ``size`` is the units bought into it (sold, for a short),
``entry_price``/``exit_price`` are unit-weighted averages of the fill prices (after slippage), fees are
what its orders paid (a reversal's fees split by units between the trade it closes and the one it opens),
``pnl = direction * size * (exit_price - entry_price) - entry_fees - exit_fees`` and
``return = pnl / (size * entry_price)`` - vectorbt's exit-trade definitions. A position still open on the
last bar is reported as a trade with ``exit_reason == "open"``, marked at the last close with no exit fee.
Bars are row indexes of the input arrays (``dates[trades.entry_bar]`` gives times).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from trade2026.domain.backtest import kernels as k

EXIT_REASONS: Final = ("signal", "stop_loss", "take_profit", "open")
"""Names of ``Trades.exit_reason`` / ``Orders.reason`` codes (index = code)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Trades:
    """One row per trade; ``column`` is the backtest column (signals) or the asset (target weights)."""

    column: IntArray
    entry_bar: IntArray
    exit_bar: IntArray
    direction: npt.NDArray[np.int8]  # +1 long, -1 short
    size: FloatArray
    entry_price: FloatArray
    exit_price: FloatArray
    entry_fees: FloatArray
    exit_fees: FloatArray
    pnl: FloatArray
    returns: FloatArray
    exit_reason: npt.NDArray[np.int8]  # index into EXIT_REASONS

    @classmethod
    def from_records(cls, records: FloatArray) -> Trades:
        def ints(field: int) -> IntArray:
            return records[:, field].astype(np.int64)

        return cls(
            column=ints(k.TRADE_COLUMN),
            entry_bar=ints(k.TRADE_ENTRY_BAR),
            exit_bar=ints(k.TRADE_EXIT_BAR),
            direction=records[:, k.TRADE_DIRECTION].astype(np.int8),
            size=records[:, k.TRADE_SIZE].copy(),
            entry_price=records[:, k.TRADE_ENTRY_PRICE].copy(),
            exit_price=records[:, k.TRADE_EXIT_PRICE].copy(),
            entry_fees=records[:, k.TRADE_ENTRY_FEES].copy(),
            exit_fees=records[:, k.TRADE_EXIT_FEES].copy(),
            pnl=records[:, k.TRADE_PNL].copy(),
            returns=records[:, k.TRADE_RETURN].copy(),
            exit_reason=records[:, k.TRADE_EXIT_REASON].astype(np.int8),
        )

    def __len__(self) -> int:
        return len(self.column)

    @property
    def is_open(self) -> npt.NDArray[np.bool_]:
        return self.exit_reason == EXIT_REASONS.index("open")

    @property
    def exit_reason_names(self) -> list[str]:
        return [EXIT_REASONS[code] for code in self.exit_reason]

    def count(self, columns: int) -> IntArray:
        """Trades per column (open ones included)."""
        return np.bincount(self.column, minlength=columns)

    def for_column(self, column: int) -> Trades:
        return self.take(np.flatnonzero(self.column == column))

    def take(self, rows: npt.ArrayLike) -> Trades:
        picked = np.asarray(rows)
        return Trades(**{name: getattr(self, name)[picked] for name in self.__slots__})


@dataclass(frozen=True, slots=True)
class Orders:
    """One row per filled order: signed units (+ buy, - sell), fill price after slippage, fees paid."""

    column: IntArray
    bar: IntArray
    size: FloatArray
    price: FloatArray
    fees: FloatArray
    reason: npt.NDArray[np.int8]  # index into EXIT_REASONS (an entry's reason is "signal")

    @classmethod
    def from_records(cls, records: FloatArray) -> Orders:
        return cls(
            column=records[:, k.ORDER_COLUMN].astype(np.int64),
            bar=records[:, k.ORDER_BAR].astype(np.int64),
            size=records[:, k.ORDER_SIZE].copy(),
            price=records[:, k.ORDER_PRICE].copy(),
            fees=records[:, k.ORDER_FEES].copy(),
            reason=records[:, k.ORDER_REASON].astype(np.int8),
        )

    def __len__(self) -> int:
        return len(self.column)

    def count(self, columns: int) -> IntArray:
        """Orders per column."""
        return np.bincount(self.column, minlength=columns)
