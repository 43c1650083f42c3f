"""Environment variables parsed once per cold start into typed settings (template.yaml sets them)."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class MarketDataSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field(alias="LAKE_DATABASE")
    dlq_url: str = Field("", alias="MARKETDATA_DLQ_URL")
    bar_lateness_s: int = Field(120, alias="BAR_LATENESS_SECONDS")
    future_tolerance_s: int = Field(5, alias="FUTURE_TOLERANCE_SECONDS")


@cache
def marketdata_settings() -> MarketDataSettings:
    import os

    return MarketDataSettings.model_validate(dict(os.environ))


class ResearchSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    backtests_table: str = Field(alias="BACKTESTS_TABLE")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field(alias="LAKE_DATABASE")
    sweep_state_machine_arn: str = Field("", alias="SWEEP_STATE_MACHINE_ARN")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")


@cache
def research_settings() -> ResearchSettings:
    import os

    return ResearchSettings.model_validate(dict(os.environ))


class TradingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    accounts_table: str = Field(alias="ACCOUNTS_TABLE")
    orders_table: str = Field(alias="ORDERS_TABLE")
    order_events_table: str = Field(alias="ORDER_EVENTS_TABLE")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    idempotency_table: str = Field("", alias="IDEMPOTENCY_TABLE")
    risk_function_name: str = Field("", alias="RISK_FUNCTION_NAME")
    lake_bucket: str = Field("", alias="LAKE_BUCKET")
    lake_database: str = Field("", alias="LAKE_DATABASE")
    # Paper broker fill model (basis points of price, cash per share, minimum per fill, share of a bar's volume).
    slippage_bps: str = Field("5", alias="PAPER_SLIPPAGE_BPS")
    fee_per_share: str = Field("0.005", alias="PAPER_FEE_PER_SHARE")
    min_fee: str = Field("1", alias="PAPER_MIN_FEE")
    max_volume_share: str = Field("0.1", alias="PAPER_MAX_VOLUME_SHARE")


@cache
def trading_settings() -> TradingSettings:
    import os

    return TradingSettings.model_validate(dict(os.environ))
