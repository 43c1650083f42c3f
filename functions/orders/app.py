"""Orders API: trading accounts, risk-checked order submission (idempotent), cancel/replace, kill switches."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import events, lambdas
from trade2026.adapters.aws import client
from trade2026.adapters.trading_store import accounts_of, bind_tables, global_kill
from trade2026.api import create_resolver, current_caller
from trade2026.observability import logger, metrics, tracer
from trade2026.services import trading
from trade2026.services.trading_models import (
    AccountRequest,
    AccountView,
    KillSwitchRequest,
    OrderPage,
    OrderRequest,
    OrderView,
    ReplaceRequest,
)
from trade2026.settings import trading_settings

settings = trading_settings()
bind_tables(settings.accounts_table, settings.orders_table, settings.order_events_table,
            settings.symbols_table, settings.market_state_table)  # fmt: skip
idempotency = IdempotencyConfig(
    event_key_jmespath="[user, account_id, key]",
    payload_validation_jmespath="order",
    expires_after_seconds=86_400,
)
app = create_resolver()
AccountId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
OrderId = Annotated[str, Path(pattern=r"^[a-f0-9]{1,64}$")]


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    events.publish(settings.event_bus_name, "orders", detail_type, details)


def check_risk(account_id: str, order: dict[str, Any]) -> dict[str, Any]:
    return dict(lambdas.invoke_json(settings.risk_function_name, {"account_id": account_id, "order": order}))


def _place_order(request: dict[str, Any]) -> dict[str, Any]:
    order = OrderRequest.model_validate(request["order"])
    caller = current_caller(app)
    view = trading.submit_order(caller, request["account_id"], order, check_risk, publish, request["key"])
    return view.model_dump()


@cache
def place_order() -> Callable[..., dict[str, Any]]:
    """Submission run once per (user, account, Idempotency-Key): a retry gets the stored answer back.
    Built on first use, so that creating its DynamoDB client stays out of the cold import."""
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=client("dynamodb")
    )
    return idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=idempotency
    )(_place_order)


@app.post("/v1/accounts", summary="Open a paper trading account for the caller")
def open_account(body: AccountRequest) -> Response[AccountView]:
    caller = current_caller(app)
    caller.require_any("trader")
    account = trading.create_account(caller.user_id, body)
    return Response(201, content_types.APPLICATION_JSON, trading.account_view(account))


@app.get("/v1/accounts", summary="The caller's accounts")
def list_accounts() -> list[AccountView]:
    return [trading.account_view(a) for a in accounts_of(current_caller(app).user_id)]


@app.get("/v1/accounts/<account_id>", summary="One account: limits and kill switch")
def get_account(account_id: AccountId) -> AccountView:
    return trading.account_view(trading.owned_account(current_caller(app), account_id))


@app.put("/v1/accounts/<account_id>/limits", summary="Change risk limits (admins; omitted limits unchanged)")
def put_limits(account_id: AccountId, body: dict[str, Any]) -> AccountView:
    return trading.account_view(trading.update_limits(current_caller(app), account_id, body))


@app.post(
    "/v1/accounts/<account_id>/kill-switch", summary="Engage (traders) or reset (admins) the kill switch"
)
def account_kill_switch(account_id: AccountId, body: KillSwitchRequest) -> AccountView:
    account = trading.operate_kill_switch(current_caller(app), account_id, body.engaged, body.reason, publish)
    return trading.account_view(account)


@app.get("/v1/risk/kill-switch", summary="The global kill switch")
def get_global_kill_switch() -> dict[str, Any]:
    current_caller(app)
    return {"engaged": global_kill() is not None, "state": global_kill()}


@app.post("/v1/risk/kill-switch", summary="Engage or reset the global kill switch (admins)")
def global_kill_switch(body: KillSwitchRequest) -> dict[str, Any]:
    state = trading.set_global_kill_switch(current_caller(app), body.engaged, body.reason, publish)
    return {"engaged": state is not None, "state": state}


@app.post(
    "/v1/accounts/<account_id>/orders",
    summary="Submit an order (pre-trade risk; idempotent on Idempotency-Key)",
)
def submit_order(
    account_id: AccountId,
    body: OrderRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Response[OrderView]:
    caller = current_caller(app)
    order_data = body.model_dump(mode="json")
    if idempotency_key:
        request = {
            "key": idempotency_key,
            "user": caller.user_id,
            "account_id": account_id,
            "order": order_data,
        }
        view = place_order()(request=request)
    else:
        view = trading.submit_order(caller, account_id, body, check_risk, publish).model_dump()
    status = 201 if view["status"] != "rejected" else 422
    return Response(status, content_types.APPLICATION_JSON, OrderView.model_validate(view))


@app.get("/v1/accounts/<account_id>/orders", summary="Orders, newest first, with filters and pagination")
def list_orders(
    account_id: AccountId,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    symbol: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> OrderPage:
    orders, next_cursor = trading.list_orders(current_caller(app), account_id, limit, cursor, status, symbol)
    return OrderPage(orders=orders, next_cursor=next_cursor)


@app.get("/v1/accounts/<account_id>/orders/<order_id>", summary="One order with its full event history")
def get_order(account_id: AccountId, order_id: OrderId) -> OrderView:
    return trading.get_order(current_caller(app), account_id, order_id)


@app.delete("/v1/accounts/<account_id>/orders/<order_id>", summary="Cancel an open order")
def cancel_order(account_id: AccountId, order_id: OrderId) -> OrderView:
    return trading.cancel_order(current_caller(app), account_id, order_id, publish)


@app.patch("/v1/accounts/<account_id>/orders/<order_id>", summary="Replace quantity/prices of an open order")
def replace_order(account_id: AccountId, order_id: OrderId, body: ReplaceRequest) -> OrderView:
    return trading.replace_order(current_caller(app), account_id, order_id, body, check_risk, publish)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
