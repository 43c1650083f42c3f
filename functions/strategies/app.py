"""Strategies API: the library (versions, gated lifecycle, links), deployment slots (hot-swap, rollback,
shadow) and the decisions log."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import events, research_store
from trade2026.adapters import model_registry as registry
from trade2026.adapters import strategy_store as store
from trade2026.adapters.trading_store import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.domain import live_strategies
from trade2026.observability import logger, metrics, tracer
from trade2026.services import strategies as service
from trade2026.services.strategies import (
    LinkRequest,
    ShadowRequest,
    SlotRequest,
    SlotView,
    StrategyRequest,
    StrategyView,
    TransitionRequest,
    VersionPatch,
    VersionRequest,
)  # fmt: skip
from trade2026.services.trading import owned_account
from trade2026.settings import trading_settings

settings = service.strategy_settings()
trading = trading_settings()
store.bind_table(settings.strategies_table)
research_store.bind_table(settings.backtests_table)
registry.bind_table(settings.model_registry_table)
bind_tables(trading.accounts_table, trading.orders_table, trading.order_events_table, trading.symbols_table,
            trading.market_state_table)  # fmt: skip
app = create_resolver()
StrategyId = Annotated[str, Path(pattern=r"^[a-f0-9]{12}$")]
Version = Annotated[int, Path(ge=1, le=1_000_000)]
AccountId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Slot = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    events.publish(settings.event_bus_name, "strategies", detail_type, details)


def _account(account_id: str) -> Any:
    caller = current_caller(app)
    owned_account(caller, account_id)
    return caller


@app.get("/v1/strategies/codes", summary="Strategy codes the live runtime runs, with default parameters")
def list_codes() -> dict[str, Any]:
    current_caller(app)
    return {"codes": live_strategies.describe(), "thresholds": vars(settings.thresholds)}


@app.post("/v1/strategies", summary="Register a strategy (its version 1 starts as a draft)")
def create_strategy(body: StrategyRequest) -> Response[StrategyView]:
    view = service.create_strategy(current_caller(app), body)
    return Response(201, content_types.APPLICATION_JSON, view)


@app.get("/v1/strategies", summary="The strategy library, newest first")
def list_strategies() -> list[StrategyView]:
    current_caller(app)
    return service.list_strategies()


@app.get("/v1/strategies/<strategy_id>", summary="A strategy with all its versions")
def get_strategy(strategy_id: StrategyId) -> StrategyView:
    current_caller(app)
    return service.strategy_view(service.get_strategy(strategy_id), with_versions=True)


@app.delete("/v1/strategies/<strategy_id>", summary="Delete a strategy whose versions are all drafts")
def delete_strategy(strategy_id: StrategyId) -> Response[dict[str, Any]]:
    service.delete_strategy(current_caller(app), strategy_id)
    return Response(204, content_types.APPLICATION_JSON, {})


@app.post("/v1/strategies/<strategy_id>/versions", summary="Add a draft version with new parameters")
def add_version(strategy_id: StrategyId, body: VersionRequest) -> Response[dict[str, Any]]:
    view = service.add_version(current_caller(app), strategy_id, body)
    return Response(201, content_types.APPLICATION_JSON, view)


@app.get("/v1/strategies/<strategy_id>/versions/<version>", summary="One version: state, links, history")
def get_version(strategy_id: StrategyId, version: Version) -> dict[str, Any]:
    current_caller(app)
    return service.version_view(service.get_version(strategy_id, version))


@app.patch("/v1/strategies/<strategy_id>/versions/<version>", summary="Edit a draft (409 once backtested)")
def patch_version(strategy_id: StrategyId, version: Version, body: VersionPatch) -> dict[str, Any]:
    return service.patch_version(current_caller(app), strategy_id, version, body)


@app.post("/v1/strategies/<strategy_id>/versions/<version>/links", summary="Link backtests, sweeps, models")
def link(strategy_id: StrategyId, version: Version, body: LinkRequest) -> dict[str, Any]:
    return service.link(
        current_caller(app), strategy_id, version, body, lambda m: registry.get_model(m) is not None
    )


@app.post(
    "/v1/strategies/<strategy_id>/versions/<version>/transition",
    summary="Move a version along its lifecycle; a failed gate is refused (422) with its numbers",
)
def transition(strategy_id: StrategyId, version: Version, body: TransitionRequest) -> dict[str, Any]:
    return service.transition(current_caller(app), strategy_id, version, body, settings.thresholds)


@app.get("/v1/accounts/<account_id>/slots", summary="The account's deployment slots")
def list_slots(account_id: AccountId) -> list[SlotView]:
    _account(account_id)
    return [service.slot_view(s) for s in store.slots_of(account_id)]


@app.get("/v1/accounts/<account_id>/slots/<slot>", summary="One slot: the version in force, previous, shadow")
def get_slot(account_id: AccountId, slot: Slot) -> SlotView:
    _account(account_id)
    return service.slot_view(service.get_slot(account_id, slot))


@app.put(
    "/v1/accounts/<account_id>/slots/<slot>", summary="Deploy or hot-swap a version (atomic; next event)"
)
def put_slot(account_id: AccountId, slot: Slot, body: SlotRequest) -> SlotView:
    return service.deploy(_account(account_id), account_id, slot, body, publish)


@app.post("/v1/accounts/<account_id>/slots/<slot>/rollback", summary="Swap back to the previous version")
def rollback(account_id: AccountId, slot: Slot) -> SlotView:
    return service.rollback(_account(account_id), account_id, slot, publish)


@app.put(
    "/v1/accounts/<account_id>/slots/<slot>/shadow", summary="Run a candidate beside the slot (no orders)"
)
def put_shadow(account_id: AccountId, slot: Slot, body: ShadowRequest) -> SlotView:
    return service.set_shadow(_account(account_id), account_id, slot, body, publish)


@app.get("/v1/accounts/<account_id>/slots/<slot>/decisions", summary="The explain log: decisions with inputs")
def list_decisions(
    account_id: AccountId,
    slot: Slot,
    mode: Annotated[str | None, Query(pattern=r"^(live|shadow)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    _account(account_id)
    items, next_cursor = service.list_decisions(account_id, slot, limit, cursor, mode)
    return {"decisions": items, "next_cursor": next_cursor}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
