"""Request and response models of the trading API (orders, accounts, risk limits, kill switch)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SYMBOL_PATTERN = r"^[A-Za-z0-9^.\-]{1,32}$"


class AccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("Paper account", min_length=1, max_length=80)
    starting_cash: Decimal = Field(Decimal("1000000"), gt=0, le=Decimal("1e12"))
    lot_method: Literal["fifo", "lifo", "hifo", "specific"] = "fifo"


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN)
    side: Literal["buy", "sell", "short", "cover"]
    quantity: Decimal = Field(description="shares; > 0, a multiple of the lot size")
    order_type: Literal["market", "limit", "stop", "stop_limit"] = "market"
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = Field(None, max_length=64)
    strategy: str | None = Field(
        None, max_length=64, description="strategy (and version) the order belongs to"
    )
    lot_ids: list[str] = Field(
        default_factory=list, max_length=100, description="specific-lot relief (sells)"
    )


class ReplaceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class KillSwitchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engaged: bool
    reason: str = Field("manual", min_length=1, max_length=200)


class OrderView(BaseModel):
    id: str
    account_id: str
    symbol: str
    side: str
    quantity: str
    order_type: str
    time_in_force: str
    limit_price: str | None
    stop_price: str | None
    status: str
    filled_quantity: str
    average_price: str | None
    fees: str
    rejection: list[dict[str, Any]] | None = None
    strategy: str | None = None
    client_order_id: str | None = None
    created_at: str
    accepted_at: str | None = None
    updated_at: str
    version: int
    events: list[dict[str, Any]] | None = None


class OrderPage(BaseModel):
    orders: list[OrderView]
    next_cursor: str | None


class AccountView(BaseModel):
    id: str
    name: str
    owner: str
    created_at: str
    starting_cash: str
    lot_method: str
    limits: dict[str, Any]
    kill_switch: dict[str, Any] | None
    global_kill_switch: dict[str, Any] | None = None
