"""Requests of the research API (backtests and sweeps), validated once and shared by the API and the sweep tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ParamValue = float | int | str | bool
MAX_SWEEP_CONFIGS = 5_000


class SizingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["fraction", "units", "vol_target"] = "fraction"
    value: float = Field(
        1.0, gt=0, description="fraction of equity, units per entry, or annualized vol target"
    )
    vol_window: int = Field(20, ge=2, le=1000)
    max_leverage: float = Field(1.0, gt=0, le=10)


class MarketSpec(BaseModel):
    """What to trade and how orders fill: shared by single backtests and sweeps."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(min_length=1, max_length=64)
    symbols: list[str] = Field(min_length=1, max_length=50)
    interval: str = Field("1d", max_length=8)
    start: str | None = Field(None, description="YYYY-MM-DD (inclusive)")
    end: str | None = Field(None, description="YYYY-MM-DD (inclusive)")
    initial_cash: float = Field(100_000.0, gt=0)
    fees_bps: float = Field(0.0, ge=0, le=1_000, description="fee in basis points of traded notional")
    fixed_fee: float = Field(0.0, ge=0, description="fee per order, in cash")
    slippage_bps: float = Field(0.0, ge=0, le=1_000)
    fill: Literal["close", "next_open"] = "close"
    direction: Literal["long_only", "long_short", "short_only"] = "long_only"
    sizing: SizingSpec = Field(default_factory=SizingSpec)
    stop_loss: float | None = Field(None, gt=0, lt=1)
    take_profit: float | None = Field(None, gt=0)


class BacktestRequest(MarketSpec):
    params: dict[str, ParamValue] = Field(default_factory=dict)


class RandomSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ranges: dict[str, tuple[float, float]]
    samples: int = Field(ge=1, le=MAX_SWEEP_CONFIGS)
    seed: int = 0
    integer: list[str] = Field(default_factory=list, description="parameters drawn as integers")


class SweepRequest(MarketSpec):
    grid: dict[str, list[ParamValue]] | None = None
    random: RandomSearch | None = None
    fixed: dict[str, ParamValue] = Field(
        default_factory=dict, description="parameters every configuration shares"
    )
    chunk_size: int = Field(25, ge=1, le=500)
    pbo_blocks: int = Field(16, ge=2, le=32, description="CSCV blocks S (even)")

    @model_validator(mode="after")
    def _one_search(self) -> SweepRequest:
        if (self.grid is None) == (self.random is None):
            raise ValueError("give exactly one of grid or random")
        if self.grid is not None and any(len(values) == 0 for values in self.grid.values()):
            raise ValueError("every grid parameter needs at least one value")
        if self.pbo_blocks % 2:
            raise ValueError("pbo_blocks must be even")
        return self


class WalkForwardRequest(MarketSpec):
    grid: dict[str, list[ParamValue]] = Field(min_length=1)
    fixed: dict[str, ParamValue] = Field(default_factory=dict)
    scheme: Literal["rolling", "anchored"] = "rolling"
    train_bars: int = Field(ge=20, le=100_000, description="training window (the first one, when anchored)")
    test_bars: int = Field(ge=5, le=100_000)
    gap: int = Field(0, ge=0, le=10_000, description="bars skipped between training and test")
