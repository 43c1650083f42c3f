"""Scanners API: twelve alpha scanners with forward-return studies, the screener, saved screens, the time machine.

``handler`` serves the API; ``scheduled_handler`` (EventBridge schedule) runs the saved screens that have a
schedule and publishes one ``ScreenCompleted`` event per screen on the platform bus.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import screens
from trade2026.adapters.events import publish
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.api import create_resolver, current_caller
from trade2026.errors import Conflict, NotFound
from trade2026.observability import logger, metrics, tracer
from trade2026.services import scanning
from trade2026.services.scanning import SavedScreenRequest, ScanRequest, ScreenerRequest, TimeMachineRequest

settings = scanning.scanning_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
screens.bind_table(settings.screens_table)
load_panel = scanning.lake_panel_loader(Lake(settings.lake_bucket, settings.lake_database))
app = create_resolver()
ScreenId = Annotated[str, Path(pattern="^[0-9a-f]{32}$")]


def _screen(item: screens.ScreenModel) -> dict[str, Any]:
    return {"id": item.screen_id, "name": item.name, "schedule": item.schedule, "created_at": item.created_at,
            "definition": item.definition, "last_run": item.last_run}  # fmt: skip


@app.get("/v1/scanners", summary="The scanners, their parameters, and the screener's fields and operators")
def list_scanners() -> dict[str, Any]:
    current_caller(app)
    return scanning.catalogue()


@app.post(
    "/v1/scanners/<name>/run", summary="Run a scanner on a date: ranked hits and a forward-return study"
)
def run_scanner(name: Annotated[str, Path(max_length=64)], body: ScanRequest) -> dict[str, Any]:
    current_caller(app)
    return scanning.run_scan(name, body, load_panel)


@app.post("/v1/screener/run", summary="Filter and sort a universe with the screener's filter language")
def run_screener(body: ScreenerRequest) -> dict[str, Any]:
    current_caller(app)
    return scanning.run_screen(body, body.as_of, load_panel)


@app.post("/v1/screens", summary="Save a screen (optionally scheduled daily)")
def create_screen(body: SavedScreenRequest) -> Response[dict[str, Any]]:
    caller = current_caller(app)
    scanning.parse_screen(body)  # a bad filter is a 422 before anything is stored
    if screens.count_for(caller.user_id) >= screens.MAX_SCREENS_PER_USER:
        raise Conflict(f"a user keeps at most {screens.MAX_SCREENS_PER_USER} screens; delete one first")
    definition = body.model_dump(exclude={"name", "schedule"})
    item = screens.create(caller.user_id, scanning.new_screen_id(), body.name, definition, body.schedule)
    return Response(201, content_types.APPLICATION_JSON, _screen(item))


@app.get("/v1/screens", summary="The caller's saved screens")
def list_screens() -> dict[str, Any]:
    caller = current_caller(app)
    return {"screens": [_screen(item) for item in screens.list_for(caller.user_id)]}


@app.get("/v1/screens/<screen_id>", summary="A saved screen of the caller")
def get_screen(screen_id: ScreenId) -> dict[str, Any]:
    item = screens.get(current_caller(app).user_id, screen_id)
    if item is None:
        raise NotFound(f"No screen {screen_id}")
    return _screen(item)


@app.delete("/v1/screens/<screen_id>", summary="Delete a saved screen of the caller")
def delete_screen(screen_id: ScreenId) -> Response[None]:
    if not screens.delete(current_caller(app).user_id, screen_id):
        raise NotFound(f"No screen {screen_id}")
    return Response(204, content_types.APPLICATION_JSON, None)


@app.post("/v1/alpha/time-machine/find-matches", summary="The k past windows most like a symbol's window")
def find_matches(body: TimeMachineRequest) -> dict[str, Any]:
    current_caller(app)
    return scanning.find_matches(body, load_panel)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def scheduled_handler(event: dict, context: LambdaContext) -> dict:
    """Run every scheduled screen on the latest bars; publish ScreenCompleted for each (failures logged)."""
    done, failed = 0, 0
    for item in screens.scheduled():
        try:
            definition = scanning.ScreenDefinition.model_validate(item.definition)
            result = scanning.run_screen(definition, None, load_panel)
        except Exception:
            logger.exception(
                "scheduled screen failed", extra={"user": item.user, "screen_id": item.screen_id}
            )
            failed += 1
            continue
        detail = scanning.screen_completed_event(item.user, item.screen_id, item.name, result)
        screens.record_run(item, {k: detail[k] for k in ("as_of", "matched", "symbols")})
        publish(settings.event_bus_name, "scanners", "ScreenCompleted", [detail])
        done += 1
    return {"completed": done, "failed": failed}
